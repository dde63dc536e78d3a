#pragma once

// The error vocabulary of remote calls (Bob, JumpCloud). Adapters map every
// failure (libcurl error, HTTP status, unparseable body) to exactly one kind.

#include "state/util/expected.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace bobsync::controller {

enum class ErrorKind {
  transient,       // timeout, connection reset, 429, 5xx: retry with backoff
  unauthorized,    // 401/403: stop; retrying will not help (Bob blocks IPs that repeat them)
  not_found,       // 404 on a by-id call
  conflict,        // 409, or a duplicate username/email/employeeIdentifier on create
  rejected,        // other 4xx: we sent something invalid
  protocol,        // a response we could not parse (bad JSON, HTML, wrong content type)
  unknown_outcome, // a write whose result we do not know (timeout/reset after sending)
};

std::string_view to_string(ErrorKind kind);

struct ApiError {
  ErrorKind kind = ErrorKind::protocol;
  int http_status = 0; // 0 when there was no response
  std::string message; // names the API and operation; redacted, safe to log
  std::optional<std::chrono::milliseconds> retry_after;
};

template<typename T> using ApiResult = Expected<T, ApiError>;

inline bool is_retryable(const ApiError& error) {
  return error.kind == ErrorKind::transient || error.kind == ErrorKind::unknown_outcome;
}

} // namespace bobsync::controller
