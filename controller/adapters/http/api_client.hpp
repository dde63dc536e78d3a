#pragma once

// Sends requests to one API (Bob or JumpCloud) with retries, rate limits and
// error mapping. Every error it returns names the API and the operation and is
// redacted.

#include "controller/adapters/http/rate_limiter.hpp"
#include "controller/adapters/http/redactor.hpp"
#include "controller/adapters/http/transport.hpp"
#include "controller/ports/api_error.hpp"
#include "controller/ports/clock.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace bobsync::controller::http {

// What repeating a request can do; decides which failures are retried.
enum class Idempotency {
  read,       // no effect (GET, Bob's read POSTs): retried on 429, 5xx and connection failures
  replayable, // a write whose repetition is harmless (PUT of the same body): retried on 429 and
              // 5xx; a connection failure after sending is unknown_outcome
  once,       // a write that must not be repeated blindly (POST create): retried on 429 only;
              // 5xx and a failure after sending are unknown_outcome (the caller checks first)
};

struct RetryPolicy {
  int max_attempts = 5;                               // including the first
  std::chrono::milliseconds base_delay{500};          // backoff: full jitter in [0, base * 2^(n-1)]
  std::chrono::milliseconds max_delay{10000};         // cap of one backoff step
  std::chrono::milliseconds max_server_delay{120000}; // a longer Retry-After ends the retries
  // The whole sequence, attempts and waits, on the client's clock: no retry
  // starts (or waits) past it, a retry's deadline is cut to what is left, and
  // a server asking to wait longer than what is left ends the retries.
  std::chrono::milliseconds budget{60000};
  std::optional<std::uint64_t> jitter_seed; // fixed seed for reproducible tests
};

// One HTTP attempt, for metrics (ApiClientOptions::on_attempt). The views
// are valid during the call only.
struct AttemptInfo {
  std::string_view api;                // api_name lower-cased: "bob", "jumpcloud"
  std::string_view operation;          // "list users", "people search", ...
  std::string_view method;             // "GET", "POST", ...
  int status = 0;                      // 0 when no response came back
  std::chrono::nanoseconds latency{0}; // on the client's clock
  bool is_retry = false;               // not the sequence's first attempt
};

struct ApiClientOptions {
  std::string api_name = "API"; // "Bob", "JumpCloud": first word of every message
  // Where the base URL is and where it comes from, named by connection, TLS
  // and timeout errors: "https://api.hibob.com/v1 (BOB_API_URL / source.bob.url)".
  // Empty: the request's URL up to its path.
  std::string endpoint;
  RetryPolicy retry;
  // Optional sinks. Lines are redacted. Called from the calling thread.
  std::function<void(std::string_view line)> log;
  std::function<void(std::string_view operation, int status)> on_response; // status 0: no response
  // Called once per HTTP attempt (any thread that sends); must be cheap and
  // thread-safe. No metrics library here: the controller wires it.
  std::function<void(const AttemptInfo& attempt)> on_attempt;
};

// The one mapping from an HTTP status to an ErrorKind: 401/403 unauthorized,
// 404 not_found, 409 conflict, 400 on a create whose message says "already
// exists" conflict, 408/429 transient, 5xx transient (unknown_outcome for
// Idempotency::once), other 4xx rejected. 2xx/3xx map to protocol (unexpected
// here).
ErrorKind
error_kind_for_status(int status, std::string_view server_message, Idempotency idempotency);

// The one mapping from a transport failure to an ErrorKind: refused URL
// rejected; TLS protocol; too large protocol; nothing sent transient; sent
// transient for reads, unknown_outcome for writes.
ErrorKind error_kind_for_failure(const TransportError& failure, Idempotency idempotency);

// The server's message in an error body: {"message": ...}, {"error": "..."},
// {"error": {"message": ...}}; for a short non-HTML text body, the text; for
// HTML, "(HTML page)". "" when there is nothing useful.
std::string server_message(const Response& response);

// "Service Unavailable" for 503 etc.; "" for unknown codes.
std::string_view reason_phrase(int status);

// The delay the server asked for: Retry-After (delta seconds or an HTTP date)
// or X-RateLimit-Reset (Unix time in seconds; values below 10^9 are read as
// delta seconds). nullopt when neither is present or parseable.
std::optional<std::chrono::milliseconds> server_delay(const Response& response,
                                                      std::chrono::system_clock::time_point now);

// Receives a streamed JSON body (ApiClient::send_streaming). Called from the
// thread that sends; begin() before every attempt, so a retried request
// starts over.
class BodyConsumer {
public:
  virtual ~BodyConsumer() = default;
  virtual void begin() = 0;
  // False stops the transfer; error() then says why.
  virtual bool feed(std::string_view chunk) = 0;
  // The body is complete; false when it is not what was expected.
  virtual bool finish() = 0;
  virtual std::string error() const = 0;
};

// Retrying client for one API. Thread-safe.
class ApiClient {
public:
  ApiClient(Transport& transport, Clock& clock, Redactor redactor, ApiClientOptions options);

  // Sends `request` until it gets a 2xx answer, a non-retryable error,
  // max_attempts or the retry budget. Each attempt first passes `limiter`
  // when given. Waits between attempts through the clock: the server's delay
  // when it gave one, else exponential backoff with full jitter. 401/403 are
  // never retried. An Idempotency::once request goes out on a fresh
  // connection (the transport never re-sends it on its own).
  ApiResult<Response> send(std::string_view operation,
                           const Request& request,
                           Idempotency idempotency,
                           RateLimiter* limiter = nullptr);

  // As send(), and a 2xx answer must also have a JSON content type and a
  // non-empty body; otherwise a protocol error ("response is not JSON
  // (content-type text/html)").
  ApiResult<Response> send_json(std::string_view operation,
                                const Request& request,
                                Idempotency idempotency,
                                RateLimiter* limiter = nullptr);

  // As send_json(), but a 2xx body goes to `consumer` as it arrives instead
  // of being returned (the Response's body stays empty). A consumer error is
  // a protocol error ("<api> <operation>: <consumer.error()>"), not retried;
  // a transfer that breaks off is retried like any other (consumer.begin()
  // again).
  ApiResult<Response> send_streaming(std::string_view operation,
                                     const Request& request,
                                     Idempotency idempotency,
                                     BodyConsumer& consumer,
                                     RateLimiter* limiter = nullptr);

  // An error for `operation`: "<api> <operation>: <detail>", redacted.
  ApiError error(ErrorKind kind,
                 std::string_view operation,
                 std::string_view detail,
                 int http_status = 0) const;

  const Redactor& redactor() const { return m_redactor; }
  Clock& clock() { return m_clock; }
  const std::string& api_name() const { return m_options.api_name; }

private:
  ApiResult<Response> run(std::string_view operation,
                          const Request& request,
                          Idempotency idempotency,
                          RateLimiter* limiter,
                          BodyConsumer* consumer);
  std::chrono::milliseconds backoff(int attempt);
  void log(const std::string& line) const;

  Transport& m_transport;
  Clock& m_clock;
  Redactor m_redactor;
  ApiClientOptions m_options;
  std::string m_api_label; // api_name lower-cased, for on_attempt
  std::mutex m_rng_mutex;
  std::mt19937_64 m_rng;
};

} // namespace bobsync::controller::http
