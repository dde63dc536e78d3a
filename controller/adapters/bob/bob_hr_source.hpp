#pragma once

// HrSource over HiBob's REST API (service-user credentials, HTTP Basic).

#include "controller/adapters/http/api_client.hpp"
#include "controller/adapters/http/rate_limiter.hpp"
#include "controller/adapters/http/transport.hpp"
#include "controller/ports/clock.hpp"
#include "controller/ports/hr_source.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

struct BobSettings {
  std::string base_url = "https://api.hibob.com/v1"; // no trailing slash needed
  std::string service_user_id;
  std::string service_user_token; // secret: redacted everywhere
  // Bounds a person at a terminal accepts: a Bob that accepts the connection
  // and never answers fails a read in about `retry.budget` (90 s), not in
  // attempts x timeout.
  std::chrono::milliseconds search_timeout{120000}; // the search returns everybody at once
  std::chrono::milliseconds read_timeout{30000};    // POST /people/{id}
  // No byte either way for this long ends a try (libcurl averages over ~5 s,
  // so a POST whose body went out at once is cut some 6 s later).
  std::chrono::seconds stall_timeout{30};
  // Where base_url comes from, named by connection errors
  // ("BOB_API_URL / source.bob.url"); empty: not named.
  std::string url_origin;
  int search_requests_per_minute = 50; // Bob's documented limit for people/search
  int parse_threads = 0; // threads parsing a search answer as it arrives; 0: one per core (max 8)
  // Bob's search limit answers 429 with a reset up to a minute away: the
  // budget leaves room for one such wait.
  http::RetryPolicy retry{.budget = std::chrono::milliseconds(90000), .jitter_seed = {}};
  std::vector<std::string> extra_secrets; // also redacted (e.g. the webhook secret)
  std::function<void(std::string_view line)> log;
  std::function<void(std::string_view operation, int status)> on_response;
  std::function<void(const http::AttemptInfo& attempt)> on_attempt; // metrics, per HTTP attempt
  // Employees received so far by the people search, once per employee as
  // the answer arrives (a retry starts again from 1): a terminal's
  // progress line. Called on the thread that calls list_employees.
  std::function<void(std::size_t employees)> on_search_progress;
};

// Reads employees with POST /people/search ({"fields", "showInactive": true,
// "humanReadable": "APPEND"}; root.id is always added to the fields) and one
// employee with POST /people/{id} ({"fields", "humanReadable": "APPEND"}; 404
// gives nullopt). Both are read-only, so every transient failure is retried
// (ApiClient); 401/403 never are. People searches pass a client-side limiter
// (search_requests_per_minute in any 60 s window, on the injected clock).
// Responses must be JSON. The search answer is streamed: employee objects are
// cut out as bytes arrive (SearchSplitter) and parsed by EmployeeReader (bob_record.hpp)
// on parse_threads worker threads, so the whole body is never held in memory;
// the result keeps Bob's order. Employee ids stay strings. Errors read
// "Bob people search: ..." / "Bob read employee: ...".
// Thread-compatible (HrSource contract); the limiter itself is thread-safe.
class BobHrSource final : public HrSource {
public:
  BobHrSource(http::Transport& transport, Clock& clock, BobSettings settings);

  ApiResult<std::vector<state::Employee>>
  list_employees(const std::vector<std::string>& fields) override;

  ApiResult<std::optional<state::Employee>>
  get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) override;

  // The requested fields that no employee carried in the last successful
  // list_employees (see fields_absent_for_all). Empty before the first call.
  std::vector<std::string> last_absent_fields() const;

private:
  http::Request
  request(const std::string& path, std::string body, std::chrono::milliseconds timeout) const;

  BobSettings m_settings;
  std::string m_authorization;
  http::ApiClient m_client;
  http::RateLimiter m_search_limiter;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_last_absent;
};

// The fields of `requested` that not one employee has a key for. Bob omits a
// field the service user may not see from every employee (no error), so such
// a field shows up here; a field that is merely null for everyone does not
// (null becomes ""). Empty when `employees` is empty; root.id is never
// reported.
std::vector<std::string> fields_absent_for_all(const std::vector<state::Employee>& employees,
                                               const std::vector<std::string>& requested);

} // namespace bobsync::controller
