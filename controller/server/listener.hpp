#pragma once

// The controller's HTTP listener (cpp-httplib, kept out of this header):
//
//   POST /webhooks/bob  Bob webhooks: 401 missing/wrong Bob-Signature (nothing
//                       else happens), 413 body over 1 MiB (Content-Length is
//                       checked before the body is read; chunked bodies are
//                       cut off at the limit), 400 malformed, 200 ping, 202 an
//                       employee or table.entry event (enqueued), 200 other
//                       signed events (acknowledged, counted), 503 when no
//                       enqueue callback is set.
//                       A ping ("Ping test") WITHOUT a Bob-Signature header is
//                       answered 200 too: it does nothing, and Bob's connection
//                       test may be sent unsigned. A ping with a wrong
//                       signature gets 401, which shows a wrong secret at once.
//   GET /healthz        200 "ok" while the process serves requests. Never
//                       depends on the policy, Bob or JumpCloud.
//   GET /readyz         200 "ready" or 503; the body is Readiness::detail.
//   GET /metrics        Metrics::serialize(), text/plain; version=0.0.4.
//   GET / and /status   status_page(request) as text/html (the callback checks
//                       the bearer token); 404 when not set.
//
// Every webhook outcome is counted in Metrics. The handler never calls Bob or
// JumpCloud: it authenticates, reads the employee id and calls enqueue.
//
// Slow clients: each connection is served on a bounded pool of threads; every
// read and write waits at most the read/write timeout, and a whole request
// (headers and body) must arrive within `request_timeout`, so a client that
// trickles bytes loses its connection instead of holding a thread; and a
// request may send at most max_body_bytes + 64 KiB in all (httplib 0.11
// limits the length of a header line, not the number of headers). Idle
// keep-alive connections are closed after `keep_alive_timeout` or at stop().
// When every thread is busy and `max_queued_connections` are waiting, new
// connections get a 503 and are closed at once.

#include "controller/observability/log.hpp"
#include "controller/observability/metrics.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bobsync::controller::server {

struct Readiness {
  bool ready = false;
  std::string detail; // why not ready (or "ready"); the /readyz body
};

// GET / : what the status page callback needs of the request.
struct PageRequest {
  std::string authorization; // the Authorization header, "" when absent
  std::string employee;      // the ?employee= query parameter, decoded
};
struct PageReply {
  int status = 200;
  std::string body; // text/html
};

struct ListenerCallbacks {
  // Called on a request thread for each accepted event. Must be fast and must
  // not call Bob or JumpCloud (push onto the work queue and return). May be
  // called concurrently from several threads. Empty: webhooks get 503.
  std::function<void(const std::string& employee_id, std::string_view event_type)> enqueue;
  // Called for each GET /readyz. Empty: always ready.
  std::function<Readiness()> readiness;
  // Called for each GET / (and /status). Empty: 404.
  std::function<PageReply(const PageRequest&)> status_page;
};

struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 8080; // 0: the kernel picks one (see Listener::bound_port)
  // The Bob webhook secret. Empty: every webhook is refused with 401.
  std::string webhook_secret;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{5000};     // per read
  std::chrono::milliseconds write_timeout{5000};    // per write
  std::chrono::milliseconds request_timeout{10000}; // headers + body of one request
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::size_t keep_alive_max_requests = 100;
  std::size_t threads = 8;
  std::size_t max_queued_connections = 64;
};

// "HOST:PORT", "[IPv6]:PORT" or ":PORT" (all interfaces, 0.0.0.0). Throws
// std::invalid_argument naming the text and what is wrong.
struct ListenAddress {
  std::string host;
  int port = 0;
};
ListenAddress parse_listen_address(std::string_view text);

// Connections right now (for the status page, and for tests that must know
// when a connection is being served instead of sleeping).
struct ListenerStats {
  std::size_t active = 0; // connections a worker thread is serving
  std::size_t queued = 0; // accepted, waiting for a worker
  std::uint64_t shed = 0; // refused with 503 because the queue was full
};

class Listener {
public:
  // `metrics` must outlive the Listener; `log` may be null (no request logs).
  Listener(ListenerOptions options,
           ListenerCallbacks callbacks,
           observability::Metrics& metrics,
           observability::Logger* log = nullptr);
  ~Listener(); // stops
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and serves on background threads; returns once connections are
  // accepted. Throws std::runtime_error naming host:port and the reason
  // (address in use, cannot resolve/bind the host). Call at most once.
  void start();
  // Stops accepting, closes idle keep-alive connections and waits for the
  // requests in flight (each bounded by the timeouts). Idempotent; returns
  // within about a second plus the longest request in flight.
  void stop();

  // The port actually bound (useful with port 0); -1 before start().
  int bound_port() const;

  ListenerStats stats() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace bobsync::controller::server
