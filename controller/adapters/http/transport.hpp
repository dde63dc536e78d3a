#pragma once

// The HTTP port the API clients talk through. CurlTransport implements it;
// tests may implement it too. No HTTP library appears in this header.

#include "state/util/expected.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bobsync::controller::http {

// Header fields in order. Response header names are lower-cased.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response;

struct Request {
  std::string method = "GET"; // GET, POST, PUT, DELETE
  std::string url;            // absolute: https://host/path?query
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30000}; // whole exchange, connect included
  // Ends an exchange during which less than one byte a second went either way
  // for this long (a server that accepts the connection and never answers);
  // 0: none.
  std::chrono::seconds stall_timeout{30};
  // Sent on a new connection, never a kept-alive one. libcurl re-sends a
  // request on its own when a reused connection turns out dead before the
  // first byte of the answer ("Connection died, retrying a fresh connect");
  // on a new connection it never does. ApiClient sets this for requests that
  // must not be sent twice blindly (Idempotency::once).
  bool fresh_connection = false;
  // Optional: receives the body of a 2xx response chunk by chunk instead of
  // Response::body (which then stays empty), so a large answer is never held
  // whole. `head` has the status and headers. Returning false aborts the
  // transfer (FailureKind::aborted). Bodies of other statuses still go to
  // Response::body.
  std::function<bool(const Response& head, std::string_view chunk)> on_body;
};

struct Response {
  int status = 0;
  Headers headers; // lower-cased names, in the order received
  std::string body;

  // The first value of header `name` (any case); "" when absent.
  std::string_view header(std::string_view name) const;
};

// Why no complete response came back.
enum class FailureKind {
  bad_url,         // malformed URL, or a scheme/host combination we refuse to use
  connect,         // DNS failure, refused, unreachable: nothing was sent
  tls,             // TLS handshake or certificate verification failed: nothing was sent
  timeout,         // the connect or total timeout expired
  stalled,         // nothing arrived for Request::stall_timeout
  connection_lost, // reset or closed before a complete response arrived
  too_large,       // the body exceeded the configured maximum
  aborted,         // Request::on_body returned false
  other,
};

struct TransportError {
  FailureKind kind = FailureKind::other;
  // True when (part of) the request reached the server: a write may have been
  // applied even though no answer came back.
  bool request_sent = false;
  std::string detail; // human-readable; never contains header values
};

using TransportResult = Expected<Response, TransportError>;

// Sends one HTTP exchange. Any HTTP status is a Response; only failures to get
// a complete response are errors. Implementations never retry and are
// thread-safe.
class Transport {
public:
  virtual ~Transport() = default;
  virtual TransportResult send(const Request& request) = 0;
};

// The media type of a Content-Type value, lower-cased, without parameters
// ("application/json; charset=utf-8" -> "application/json").
std::string media_type(std::string_view content_type);

// True for application/json and any application/*+json type.
bool is_json_media_type(std::string_view content_type);

} // namespace bobsync::controller::http
