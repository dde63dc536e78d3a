#pragma once

// Internal to the fakes (fake_bob.cpp, fake_jumpcloud.cpp): the cpp-httplib
// server wrapper with fault injection, and small JSON writing helpers.

#include "sandbox/fault_plan.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace bobsync::sandbox::detail {

inline constexpr const char* k_json_type = "application/json; charset=utf-8";

// One cpp-httplib server on a background thread: TCP_NODELAY, long
// keep-alive, SIGPIPE ignored (httplib writes without MSG_NOSIGNAL), fault
// injection hooks. Handlers run on httplib's worker threads.
class FakeServer {
public:
  explicit FakeServer(std::string name);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  httplib::Server& http() { return m_server; }

  // Binds host:port (0: the kernel picks) and serves on a thread. Throws
  // std::runtime_error when the port cannot be bound.
  void start(const std::string& host, int port);
  // Stops serving and joins; wakes handlers sleeping in pause(). Idempotent.
  void stop();

  int port() const { return m_port; }
  const std::string& host() const { return m_host; }
  FaultPlan& faults() { return m_faults; }
  RequestStats& stats() { return m_stats; }

  // For an API request (not /_admin): counts it, waits the latency, and
  // applies the next matching fault. Returns true when the fault produced the
  // final response (the request must not be handled).
  bool before_handling(const httplib::Request& request, httplib::Response& response);

  // True when the request being handled on this thread carries a fault that
  // rewrites its body (truncated_json, wrong_content_type, lost_response,
  // applied_then_reset):
  // such a body must then be set whole, not streamed.
  static bool body_fault_pending();

  // Sleeps unless the server stops first. False when interrupted.
  bool pause(std::chrono::milliseconds duration);

private:
  void after_handling(const httplib::Request& request, httplib::Response& response);

  std::string m_name;
  std::string m_host;
  int m_port = -1;
  httplib::Server m_server;
  std::thread m_thread;
  std::atomic<bool> m_listen_returned{false};
  FaultPlan m_faults;
  RequestStats m_stats;
  std::mutex m_stop_mutex;
  std::condition_variable m_stop_cv;
  bool m_stopping = false;
};

// Registers the shared admin endpoints: POST /_admin/faults (a Fault as JSON:
// {"kind", "method", "pathPrefix", "times", "status", "retryAfter",
// "rateLimitReset", "body", "delayMs"}), DELETE /_admin/faults (clears faults
// and latency), PUT /_admin/latency {"ms"}, GET /_admin/stats.
void install_fault_admin(httplib::Server& http, FakeServer& server);

// True when the peer is on a loopback address (admin endpoints).
bool is_loopback_peer(const httplib::Request& request);

// Sets status, body and content type (default application/json; charset=utf-8).
void reply(httplib::Response& response,
           int status,
           std::string body,
           const char* type = k_json_type);

// Appends `text` as a JSON string literal (quotes and escapes).
void append_json_string(std::string& out, std::string_view text);
std::string json_quote(std::string_view text);

// "2026-11-27" for a time point (UTC).
std::string utc_date(std::chrono::system_clock::time_point when);
// "2026-11-27T09:30:00.000000" (UTC, no zone suffix, as Bob's triggeredAt).
std::string utc_timestamp(std::chrono::system_clock::time_point when, bool with_zone);

} // namespace bobsync::sandbox::detail
