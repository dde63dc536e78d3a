#pragma once

// Diagnostics for machines: GitHub Actions workflow commands (annotations on
// the policy's lines in a pull request) and a JSON document for other CI
// systems (`bobsync validate --format github|json`).

#include "state/diagnostic.hpp"

#include <string>
#include <string_view>

namespace bobsync::state {

// "::error file=F,line=L,col=C,title=bobsync::message" ("::warning ..." for
// warnings). The location properties are left out when unknown. Escaped as
// GitHub requires: % CR LF in the message as %25 %0D %0A; in properties also
// ':' as %3A and ',' as %2C.
std::string format_github(const Diagnostic& diagnostic);

// GitHub's escaping of a workflow command's message / property value.
std::string github_escape_data(std::string_view text);
std::string github_escape_property(std::string_view text);

// {"severity", "message", "file", "line", "column"} (file/line/column null
// when unknown).
std::string diagnostic_to_json(const Diagnostic& diagnostic);

// The document of `validate --format json`: {"formatVersion": 1, "file",
// "valid", "errors", "warnings", "diagnostics": [...]}. One line.
std::string render_diagnostics_json(std::string_view file, const Diagnostics& diagnostics);

} // namespace bobsync::state
