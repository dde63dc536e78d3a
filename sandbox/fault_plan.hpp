#pragma once

// Fault injection and request counters shared by the fakes. Faults are data:
// a test (or the /_admin/faults endpoint) describes what goes wrong next.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::sandbox {

enum class FaultKind {
  status,        // answer `status` (+ Retry-After / X-RateLimit-Reset) without handling the request
  reset,         // close the connection without answering; the request is not handled
  lost_response, // handle the request (a write is applied), then cut the response off mid-body
  applied_then_reset, // handle the request (a write is applied), then close the connection
                      // before one byte of the response is sent
  malformed_json,     // 200 application/json whose body is not JSON; not handled
  truncated_json,     // handle the request, answer with the first half of the real body
  html_200,           // 200 text/html error page (a proxy's); not handled
  wrong_content_type, // handle the request, answer the real body as text/plain
  delay,              // wait `delay` before handling (client timeouts)
};

std::string_view to_string(FaultKind kind);
std::optional<FaultKind> parse_fault_kind(std::string_view text);

struct Fault {
  FaultKind kind = FaultKind::status;
  std::string method;      // "GET", "POST", ...; empty matches any
  std::string path_prefix; // matched against the request path; empty matches any API path
  int times = 1;           // matching requests affected
  int status = 503;        // FaultKind::status
  std::optional<std::string> retry_after;      // Retry-After header value
  std::optional<std::string> rate_limit_reset; // X-RateLimit-Reset header value
  std::string body;                            // status body; default {"message": "<reason>"}
  std::chrono::milliseconds delay{0};          // FaultKind::delay
  double probability = 1.0; // < 1: each matching request is hit with this probability
};

// Pending faults, in the order added; the first one matching a request is
// used. Admin paths (/_admin/...) never match. Thread-safe.
class FaultPlan {
public:
  void add(Fault fault);
  // The next `times` requests under `path_prefix` answer `status`.
  void fail_next(std::string path_prefix,
                 int status,
                 int times = 1,
                 std::optional<std::string> retry_after = std::nullopt);
  // Removes and returns (one use of) the first fault matching the request.
  std::optional<Fault> take(std::string_view method, std::string_view path);
  void clear();
  std::size_t pending() const;
  // Faults taken (requests hit) since construction; clear() keeps it.
  std::size_t injected() const;
  // Seeds the generator of probabilistic faults (default seed 0).
  void seed(std::uint64_t value);

  // Added to every API request (0 by default).
  void set_latency(std::chrono::milliseconds latency);
  std::chrono::milliseconds latency() const;

private:
  mutable std::mutex m_mutex;
  std::vector<Fault> m_faults;
  std::mt19937_64 m_random{0};
  std::chrono::milliseconds m_latency{0};
  std::size_t m_injected = 0;
};

// One request as the fake received it, in arrival order (RequestStats::log).
struct LoggedRequest {
  std::string method;
  std::string path;
  std::string query; // decoded "name=value" pairs joined by '&'
  std::string body;  // the request body (writes: what a test checks for repeats)
};

// Requests served, by "METHOD /path" (query excluded), and an ordered log of
// them. Admin requests are not counted. Thread-safe.
class RequestStats {
public:
  void record(std::string_view method, std::string_view path);
  void record(LoggedRequest request);
  std::vector<LoggedRequest> log() const;                          // arrival order
  int count(std::string_view method, std::string_view path) const; // exact path
  int count_prefix(std::string_view method, std::string_view path_prefix) const;
  int total() const;
  std::map<std::string, int> snapshot() const;
  void reset();

private:
  mutable std::mutex m_mutex;
  std::map<std::string, int, std::less<>> m_counts;
  std::vector<LoggedRequest> m_log;
  int m_total = 0;
};

} // namespace bobsync::sandbox
