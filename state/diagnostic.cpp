#include "state/diagnostic.hpp"

#include <algorithm>

namespace bobsync::state {

bool has_errors(const Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
    return d.severity == Severity::error;
  });
}

std::string format(const Diagnostic& diagnostic) {
  std::string out;
  if (!diagnostic.where.file.empty()) {
    out += diagnostic.where.file;
    if (diagnostic.where.line > 0) {
      out += ":" + std::to_string(diagnostic.where.line);
      if (diagnostic.where.column > 0) {
        out += ":" + std::to_string(diagnostic.where.column);
      }
    }
    out += ": ";
  }
  out += diagnostic.severity == Severity::error ? "error: " : "warning: ";
  out += diagnostic.message;
  return out;
}

} // namespace bobsync::state
