#pragma once

// Diagnostics: the error mechanism for policy validation, desired-state
// building, planning and safety checks. Code appends to a list and never
// throws; callers show every diagnostic and treat any error as blocking.

#include <string>
#include <vector>

namespace bobsync::state {

enum class Severity { warning, error };

// Where a diagnostic points: a file position (policy problems) or nothing.
struct SourceLocation {
  std::string file;
  int line = 0;   // 1-based; 0 when unknown
  int column = 0; // 1-based; 0 when unknown

  bool operator==(const SourceLocation&) const = default;
};

struct Diagnostic {
  Severity severity = Severity::error;
  std::string message; // what is wrong and what was expected
  SourceLocation where;

  bool operator==(const Diagnostic&) const = default;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& diagnostics);

// "file:line:column: error: message" (the location part only when known).
std::string format(const Diagnostic& diagnostic);

} // namespace bobsync::state

namespace bobsync {
// Diagnostics are used by every layer; spare them the namespace.
using state::Diagnostic;
using state::Diagnostics;
using state::has_errors;
using state::Severity;
using state::SourceLocation;
} // namespace bobsync
