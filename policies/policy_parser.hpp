#pragma once

#include "policies/policy.hpp"
#include "state/diagnostic.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bobsync::policies {

struct ParseResult {
  std::optional<Policy> policy; // set only when there is no error diagnostic
  Diagnostics diagnostics;      // every problem found, each with file:line:column
};

// Parses and validates a policy from YAML text. Pure: no file access.
// `source_name` is used in diagnostics. Reports every problem at once:
// unknown keys, wrong types, unknown Bob field paths, transforms or JumpCloud
// fields, bad time zones, out-of-range numbers. Never throws.
ParseResult parse_policy(std::string_view yaml_text, const std::string& source_name);

} // namespace bobsync::policies
