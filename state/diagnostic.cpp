#include "state/diagnostic.hpp"

#include <algorithm>
#include <sstream>

namespace bobsync::state {

bool has_errors(const Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
    return d.severity == Severity::error;
  });
}

std::string format(const Diagnostic& diagnostic) {
  // A stream, not a chain of `+`: g++ 12 at -O2 reports a false -Wrestrict
  // on the concatenations.
  std::ostringstream out;
  if (!diagnostic.where.file.empty()) {
    out << diagnostic.where.file;
    if (diagnostic.where.line > 0) {
      out << ':' << diagnostic.where.line;
      if (diagnostic.where.column > 0) {
        out << ':' << diagnostic.where.column;
      }
    }
    out << ": ";
  }
  out << (diagnostic.severity == Severity::error ? "error: " : "warning: ") << diagnostic.message;
  return out.str();
}

} // namespace bobsync::state
