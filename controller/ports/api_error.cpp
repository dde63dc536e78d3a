#include "controller/ports/api_error.hpp"

namespace bobsync::controller {

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::transient:
    return "transient";
  case ErrorKind::unauthorized:
    return "unauthorized";
  case ErrorKind::not_found:
    return "not_found";
  case ErrorKind::conflict:
    return "conflict";
  case ErrorKind::rejected:
    return "rejected";
  case ErrorKind::protocol:
    return "protocol";
  case ErrorKind::unknown_outcome:
    return "unknown_outcome";
  }
  return "unknown"; // unreachable
}

} // namespace bobsync::controller
