#include "controller/server/listener.hpp"

#include "controller/server/webhook.hpp"

#include <httplib.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bobsync::controller::server {
namespace {

using Clock = std::chrono::steady_clock;
using observability::LogLevel;
using observability::WebhookResult;

constexpr auto k_poll_slice = std::chrono::milliseconds(50);
constexpr std::size_t k_read_buffer = 4096;
// After a response sent without reading the body (413): how long and how
// much the connection is drained before it is closed, so that the client
// reads the answer instead of a reset.
constexpr auto k_linger_time = std::chrono::milliseconds(1000);
constexpr std::size_t k_linger_bytes = 8 * 1024 * 1024;
constexpr auto k_rejection_log_interval = std::chrono::seconds(10);
// What one request may send besides its body: the request line and headers.
// httplib 0.11 limits the length of a header line but not their number.
constexpr std::size_t k_max_header_bytes = 64 * 1024;
constexpr const char* k_text_type = "text/plain; charset=utf-8";

std::once_flag g_ignore_sigpipe;

// Per connection, on the thread serving it: set by a handler that answers
// without reading the whole body, so that the connection is not reused.
struct ConnectionState {
  bool close_after = false;
};
thread_local ConnectionState* t_connection = nullptr;
// Set on the accepting thread while it runs a connection the pool refused.
thread_local bool t_shed = false;

void close_after_response() {
  if (t_connection != nullptr) {
    t_connection->close_after = true;
  }
}

std::string address_text(const sockaddr_storage& address, int& port) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  port = -1;
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size());
    port = ntohs(in->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
    port = ntohs(in6->sin6_port);
  }
  return text.data();
}

// A httplib Stream over one accepted socket. Every wait is sliced so that it
// ends early when the server stops; reads also end at the request deadline,
// which bounds a whole request however slowly its bytes arrive.
class GuardedStream final : public httplib::Stream {
public:
  GuardedStream(int fd, const ListenerOptions& options, const std::function<bool()>& stopping)
      : m_fd(fd),
        m_options(options),
        m_stopping(stopping) {}

  // Starts a request: it must be read by `deadline` and may not read more
  // than `budget` bytes (headers and body).
  void start_request(Clock::time_point deadline, std::size_t budget) {
    m_deadline = deadline;
    m_budget = budget;
  }
  void end_request() {
    m_deadline = Clock::time_point::max();
    m_budget = std::numeric_limits<std::size_t>::max();
  }
  bool has_buffered() const { return m_offset < m_length; }

  // Waits for the first byte of a request.
  bool wait_for_request(std::chrono::milliseconds timeout) const {
    return has_buffered() || wait(POLLIN, Clock::now() + timeout);
  }

  bool is_readable() const override { return has_buffered() || wait(POLLIN, read_deadline()); }
  bool is_writable() const override {
    return wait(POLLOUT, Clock::now() + m_options.write_timeout);
  }

  ssize_t read(char* ptr, std::size_t size) override {
    if (!has_buffered()) {
      if (!wait(POLLIN, read_deadline())) {
        return -1;
      }
      ssize_t n = -1;
      do {
        n = ::recv(m_fd, m_buffer.data(), m_buffer.size(), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        return n;
      }
      m_offset = 0;
      m_length = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min({size, m_length - m_offset, m_budget});
    if (n == 0) {
      return -1; // the request is over its size budget
    }
    std::memcpy(ptr, m_buffer.data() + m_offset, n);
    m_offset += n;
    m_budget -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, std::size_t size) override {
    if (!is_writable()) {
      return -1;
    }
    ssize_t n = -1;
    do {
      n = ::send(m_fd, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      ip = address_text(address, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      ip = address_text(address, port);
    }
  }
  socket_t socket() const override { return m_fd; }

private:
  Clock::time_point read_deadline() const {
    return std::min(Clock::now() + m_options.read_timeout, m_deadline);
  }

  bool wait(short events, Clock::time_point deadline) const {
    while (!m_stopping()) {
      const auto now = Clock::now();
      if (now >= deadline) {
        return false;
      }
      const auto slice = std::min<Clock::duration>(deadline - now, k_poll_slice);
      pollfd descriptor{m_fd, events, 0};
      const int timeout_ms =
          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count());
      const int ready = ::poll(&descriptor, 1, timeout_ms);
      if (ready < 0 && errno != EINTR) {
        return false;
      }
      if (ready > 0) {
        return (descriptor.revents & (events | POLLHUP | POLLERR)) != 0;
      }
    }
    return false;
  }

  int m_fd;
  const ListenerOptions& m_options;
  const std::function<bool()>& m_stopping;
  Clock::time_point m_deadline = Clock::time_point::max();
  std::size_t m_budget = std::numeric_limits<std::size_t>::max();
  std::array<char, k_read_buffer> m_buffer{};
  std::size_t m_offset = 0;
  std::size_t m_length = 0;
};

struct PoolCounters {
  std::atomic<std::size_t> active{0};
  std::atomic<std::size_t> queued{0};
  std::atomic<std::uint64_t> shed{0};
};

// httplib's task queue with a bound: `threads` workers and at most
// `max_queued` connections waiting. Beyond that a connection is served on
// the accepting thread in "shed" mode (a 503 and close), which costs
// microseconds and never blocks.
class BoundedPool final : public httplib::TaskQueue {
public:
  BoundedPool(std::size_t threads, std::size_t max_queued, std::shared_ptr<PoolCounters> counters)
      : m_max_queued(max_queued),
        m_counters(std::move(counters)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
      m_workers.emplace_back([this] { work(); });
    }
  }
  ~BoundedPool() override { shutdown(); }
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  void enqueue(std::function<void()> task) override {
    {
      const std::lock_guard lock(m_mutex);
      if (!m_shutting_down && m_tasks.size() < m_max_queued) {
        m_tasks.push_back(std::move(task));
        ++m_counters->queued;
        m_cv.notify_one();
        return;
      }
    }
    ++m_counters->shed;
    t_shed = true;
    task();
    t_shed = false;
  }

  void shutdown() override {
    {
      const std::lock_guard lock(m_mutex);
      m_shutting_down = true;
    }
    m_cv.notify_all();
    for (auto& worker : m_workers) {
      if (worker.joinable()) {
        worker.join();
      }
    }
  }

private:
  void work() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_shutting_down || !m_tasks.empty(); });
        if (m_tasks.empty()) {
          return; // shutting down and drained
        }
        task = std::move(m_tasks.front());
        m_tasks.pop_front();
        --m_counters->queued;
        ++m_counters->active;
      }
      task();
      --m_counters->active;
    }
  }

  std::size_t m_max_queued;
  std::shared_ptr<PoolCounters> m_counters;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_tasks;
  bool m_shutting_down = false;
  std::vector<std::thread> m_workers;
};

// httplib::Server with our own connection loop: the keep-alive wait, the
// request deadline, stop() that does not wait for idle clients, lingering
// close after an early answer, and load shedding. process_and_close_socket
// is httplib's (private) virtual hook for serving one accepted socket.
class GuardedServer final : public httplib::Server {
public:
  explicit GuardedServer(const ListenerOptions& options)
      : m_options(options) {
    m_stopping = [this] { return svr_sock_.load() == INVALID_SOCKET; };
  }

private:
  bool process_and_close_socket(socket_t sock) override {
    if (t_shed) {
      static constexpr std::string_view k_busy = "HTTP/1.1 503 Service Unavailable\r\n"
                                                 "Content-Length: 0\r\nConnection: close\r\n\r\n";
      (void)::send(sock, k_busy.data(), k_busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return false;
    }
    const int on = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    GuardedStream stream(sock, m_options, m_stopping);
    ConnectionState state;
    t_connection = &state;
    bool ok = false;
    const std::size_t max_requests = std::max<std::size_t>(m_options.keep_alive_max_requests, 1);
    for (std::size_t served = 0; served < max_requests; ++served) {
      const auto idle = served == 0 ? m_options.read_timeout : m_options.keep_alive_timeout;
      if (!stream.wait_for_request(idle)) {
        break;
      }
      stream.start_request(Clock::now() + m_options.request_timeout,
                           m_options.max_body_bytes + k_max_header_bytes);
      bool connection_closed = false;
      const bool last = served + 1 == max_requests || m_stopping();
      ok = process_request(stream, last, connection_closed, nullptr);
      stream.end_request();
      if (!ok || connection_closed || state.close_after || m_stopping()) {
        break;
      }
    }
    t_connection = nullptr;
    if (state.close_after) {
      linger(sock);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  // Half-closes and reads what the client still sends (bounded), so that it
  // sees the response rather than a connection reset.
  void linger(int sock) const {
    ::shutdown(sock, SHUT_WR);
    const auto deadline = Clock::now() + k_linger_time;
    std::array<char, 16384> sink{};
    std::size_t drained = 0;
    while (drained < k_linger_bytes && !m_stopping()) {
      const auto now = Clock::now();
      if (now >= deadline) {
        return;
      }
      pollfd descriptor{sock, POLLIN, 0};
      const int ready = ::poll(&descriptor, 1, static_cast<int>(k_poll_slice.count()));
      if (ready < 0 && errno != EINTR) {
        return;
      }
      if (ready > 0) {
        const ssize_t n = ::recv(sock, sink.data(), sink.size(), 0);
        if (n <= 0) {
          return;
        }
        drained += static_cast<std::size_t>(n);
      }
    }
  }

  const ListenerOptions& m_options;
  std::function<bool()> m_stopping;
};

void reply(httplib::Response& response, int status, std::string body) {
  response.status = status;
  response.set_content(std::move(body), k_text_type);
}

std::string error_text(int code) {
  std::array<char, 256> buffer{};
  return strerror_r(code, buffer.data(), buffer.size());
}

bool parse_port(std::string_view text, int& port) {
  if (text.empty() || text.size() > 5
      || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  port = std::stoi(std::string(text));
  return port <= 65535;
}

} // namespace

ListenAddress parse_listen_address(std::string_view text) {
  const auto fail = [&text](const std::string& why) {
    return std::invalid_argument("--listen \"" + std::string(text) + "\": " + why
                                 + " (expected HOST:PORT, [IPV6]:PORT or :PORT)");
  };
  ListenAddress address;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw fail("an IPv6 address in brackets must be followed by :PORT");
    }
    address.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    if (address.host.empty()) {
      throw fail("empty IPv6 address");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      throw fail("no port");
    }
    address.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) {
      throw fail("write an IPv6 address in brackets");
    }
    if (address.host.empty()) {
      address.host = "0.0.0.0";
    }
  }
  if (!parse_port(port_text, address.port)) {
    throw fail("the port must be a number from 0 to 65535");
  }
  return address;
}

struct Listener::Impl {
  ListenerOptions options;
  ListenerCallbacks callbacks;
  observability::Metrics& metrics;
  observability::Logger* log;
  GuardedServer server{options};
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  int socket_fd = -1; // the listening socket, once bound
  std::atomic<int> port{-1};
  std::mutex stop_mutex;
  bool started = false;
  std::atomic<Clock::rep> last_rejection_log{0};
  std::atomic<std::uint64_t> rejections_unlogged{0};
  std::shared_ptr<PoolCounters> counters = std::make_shared<PoolCounters>();

  Impl(ListenerOptions o, ListenerCallbacks c, observability::Metrics& m, observability::Logger* l)
      : options(std::move(o)),
        callbacks(std::move(c)),
        metrics(m),
        log(l) {}

  void configure();
  void handle_webhook(const httplib::Request& request,
                      httplib::Response& response,
                      const httplib::ContentReader& content_reader);
  void rejected(WebhookResult result,
                const httplib::Request& request,
                std::string_view why,
                httplib::Response& response,
                int status);
};

void Listener::Impl::configure() {
  auto& http = server;
  http.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, with which a second controller could
  // bind the same port and silently take half of the webhooks. SO_REUSEADDR
  // alone still allows a quick restart (TIME_WAIT).
  http.set_socket_options([this](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    socket_fd = sock;
  });
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(options.read_timeout);
  http.set_write_timeout(options.write_timeout);
  http.set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options.keep_alive_timeout).count()));
  http.set_keep_alive_max_count(std::max<std::size_t>(options.keep_alive_max_requests, 1));
  const std::size_t threads = std::max<std::size_t>(options.threads, 1);
  const std::size_t queued = options.max_queued_connections;
  http.new_task_queue = [threads, queued, counters = counters] {
    return new BoundedPool(threads, queued, counters);
  };

  const std::size_t max_body = options.max_body_bytes;
  const auto too_long = [max_body](const httplib::Request& request) {
    if (!request.has_header("Content-Length")) {
      return false;
    }
    const auto value = request.get_header_value("Content-Length");
    if (value.empty() || value.size() > 19
        || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return true; // not a length we could honour: refuse rather than guess
    }
    return std::stoull(value) > max_body;
  };
  // A client that waits for "100 Continue" is told 413 before it sends a byte.
  // (httplib writes the response as it is: the status must be set here too.)
  http.set_expect_100_continue_handler(
      [this, too_long](const httplib::Request& request, httplib::Response& response) {
        if (!too_long(request)) {
          return 100;
        }
        close_after_response();
        if (request.path == "/webhooks/bob") {
          rejected(WebhookResult::too_large,
                   request,
                   "body over " + std::to_string(options.max_body_bytes) + " bytes",
                   response,
                   413);
        } else {
          reply(response, 413, "request body too large\n");
        }
        return 413;
      });
  // Runs after the headers, before any body byte is read.
  http.set_pre_routing_handler([this, too_long](const httplib::Request& request,
                                                httplib::Response& response) {
    if (too_long(request)) {
      close_after_response();
      if (request.path == "/webhooks/bob") {
        rejected(WebhookResult::too_large,
                 request,
                 "body over " + std::to_string(options.max_body_bytes) + " bytes",
                 response,
                 413);
      } else {
        reply(response, 413, "request body too large\n");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    const auto encoding = request.get_header_value("Content-Encoding");
    if (!encoding.empty() && encoding != "identity") {
      // httplib would inflate gzip/brotli bodies past the size limit.
      close_after_response();
      if (request.path == "/webhooks/bob") {
        rejected(
            WebhookResult::malformed, request, "compressed bodies are not accepted", response, 415);
      } else {
        reply(response, 415, "compressed bodies are not accepted\n");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_exception_handler([this](const httplib::Request& request,
                                    httplib::Response& response,
                                    std::exception_ptr error) {
    std::string what = "unknown error";
    try {
      if (error) {
        std::rethrow_exception(error);
      }
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) { // NOLINT(bugprone-empty-catch): reported below as unknown
    }
    if (log != nullptr) {
      log->error("request failed", {{"path", request.path}, {"error", what}});
    }
    reply(response, 500, "internal error\n");
  });

  http.Post("/webhooks/bob",
            [this](const httplib::Request& request,
                   httplib::Response& response,
                   const httplib::ContentReader& content_reader) {
              handle_webhook(request, response, content_reader);
            });
  http.Get("/healthz", [](const httplib::Request& /*request*/, httplib::Response& response) {
    reply(response, 200, "ok\n");
  });
  http.Get("/readyz", [this](const httplib::Request& /*request*/, httplib::Response& response) {
    if (!callbacks.readiness) {
      reply(response, 200, "ready\n");
      return;
    }
    Readiness readiness;
    try {
      readiness = callbacks.readiness();
    } catch (const std::exception& e) {
      readiness = Readiness{false, std::string("readiness check failed: ") + e.what()};
    }
    std::string body =
        readiness.detail.empty() ? (readiness.ready ? "ready" : "not ready") : readiness.detail;
    if (body.back() != '\n') {
      body += '\n';
    }
    reply(response, readiness.ready ? 200 : 503, std::move(body));
  });
  http.Get("/metrics", [this](const httplib::Request& /*request*/, httplib::Response& response) {
    response.status = 200;
    response.set_content(metrics.serialize(), observability::k_metrics_content_type);
  });
  const auto status_page = [this](const httplib::Request& request, httplib::Response& response) {
    if (!callbacks.status_page) {
      reply(response, 404, "no status page (set BOBSYNC_STATUS_TOKEN to serve it)\n");
      return;
    }
    PageRequest page;
    page.authorization = request.get_header_value("Authorization");
    page.employee = request.get_param_value("employee");
    auto result = callbacks.status_page(page);
    response.status = result.status;
    response.set_header("Cache-Control", "no-store");
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("Referrer-Policy", "no-referrer");
    response.set_header("Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    if (result.status == 401) {
      response.set_header("WWW-Authenticate", "Bearer");
    }
    response.set_content(std::move(result.body), "text/html; charset=utf-8");
  };
  http.Get("/", status_page);
  http.Get("/status", status_page);
}

void Listener::Impl::rejected(WebhookResult result,
                              const httplib::Request& request,
                              std::string_view why,
                              httplib::Response& response,
                              int status) {
  metrics.webhook_request(result);
  reply(response, status, std::string(why) + "\n");
  if (log == nullptr) {
    return;
  }
  // One line per interval at most: a flood of junk must not flood the log.
  const auto now = Clock::now().time_since_epoch().count();
  auto last = last_rejection_log.load();
  const auto interval =
      std::chrono::duration_cast<Clock::duration>(k_rejection_log_interval).count();
  if (last != 0 && now - last < interval) {
    ++rejections_unlogged;
    return;
  }
  if (!last_rejection_log.compare_exchange_strong(last, now)) {
    ++rejections_unlogged;
    return;
  }
  log->warn("webhook rejected",
            {{"result", observability::to_string(result)},
             {"status", status},
             {"error", std::string(why)},
             {"remote_addr", request.remote_addr},
             {"suppressed", static_cast<std::int64_t>(rejections_unlogged.exchange(0))}});
}

void Listener::Impl::handle_webhook(const httplib::Request& request,
                                    httplib::Response& response,
                                    const httplib::ContentReader& content_reader) {
  std::string body;
  bool too_large = false;
  const bool read = content_reader([&](const char* data, std::size_t length) {
    if (body.size() + length > options.max_body_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  if (too_large) {
    close_after_response();
    rejected(WebhookResult::too_large,
             request,
             "body over " + std::to_string(options.max_body_bytes) + " bytes",
             response,
             413);
    return;
  }
  if (!read) {
    close_after_response();
    rejected(WebhookResult::malformed, request, "the body could not be read", response, 400);
    return;
  }

  const bool signed_request = request.has_header("Bob-Signature");
  if (!signed_request) {
    // Bob's connection test may come unsigned; it does nothing either way.
    if (body.size() <= 64 && parse_bob_event(body).kind == BobEventKind::ping) {
      metrics.webhook_request(WebhookResult::ping);
      reply(response, 200, "pong\n");
      return;
    }
    rejected(WebhookResult::unauthorized, request, "missing Bob-Signature", response, 401);
    return;
  }
  if (!verify_bob_signature(
          options.webhook_secret, body, request.get_header_value("Bob-Signature"))) {
    rejected(WebhookResult::unauthorized,
             request,
             options.webhook_secret.empty() ? "no webhook secret is configured"
                                            : "wrong Bob-Signature",
             response,
             401);
    return;
  }

  const BobEvent event = parse_bob_event(body);
  switch (event.kind) {
  case BobEventKind::ping:
    metrics.webhook_request(WebhookResult::ping);
    reply(response, 200, "pong\n");
    return;
  case BobEventKind::malformed:
    rejected(WebhookResult::malformed, request, event.error, response, 400);
    return;
  case BobEventKind::unknown:
    metrics.webhook_request(WebhookResult::unknown_type);
    metrics.webhook_event(event.type);
    if (log != nullptr) {
      log->debug("webhook ignored", {{"type", event.type}});
    }
    reply(response, 200, "ignored\n");
    return;
  case BobEventKind::employee:
  case BobEventKind::table_entry:
    break;
  }
  if (!callbacks.enqueue) {
    rejected(WebhookResult::unavailable, request, "not accepting events", response, 503);
    return;
  }
  try {
    callbacks.enqueue(event.employee_id, event.type);
  } catch (const std::exception& e) {
    if (log != nullptr) {
      log->error("webhook not enqueued", {{"employee_id", event.employee_id}, {"error", e.what()}});
    }
    rejected(WebhookResult::unavailable, request, "not accepting events", response, 503);
    return;
  }
  metrics.webhook_request(WebhookResult::accepted);
  metrics.webhook_event(event.type);
  if (log != nullptr) {
    log->debug("webhook accepted", {{"employee_id", event.employee_id}, {"type", event.type}});
  }
  reply(response, 202, "accepted\n");
}

Listener::Listener(ListenerOptions options,
                   ListenerCallbacks callbacks,
                   observability::Metrics& metrics,
                   observability::Logger* log)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(callbacks), metrics, log)) {
  // httplib may write to a socket the peer closed; our stream uses
  // MSG_NOSIGNAL, but the process must not die of SIGPIPE from any path.
  std::call_once(g_ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  m_impl->configure();
}

Listener::~Listener() {
  stop();
}

void Listener::start() {
  const std::lock_guard lock(m_impl->stop_mutex);
  if (m_impl->started) {
    throw std::logic_error("Listener::start called twice");
  }
  const auto& host = m_impl->options.host;
  const int requested = m_impl->options.port;
  const std::string where = host + ":" + std::to_string(requested);
  {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
      throw std::runtime_error("cannot listen on " + where + ": " + gai_strerror(rc));
    }
    ::freeaddrinfo(found);
  }
  errno = 0;
  int port = -1;
  if (requested == 0) {
    port = m_impl->server.bind_to_any_port(host);
  } else if (m_impl->server.bind_to_port(host, requested)) {
    port = requested;
  }
  if (port <= 0) {
    const int code = errno;
    throw std::runtime_error("cannot listen on " + where + ": "
                             + (code == EADDRINUSE ? std::string("address already in use")
                                : code != 0        ? error_text(code)
                                                   : std::string("bind failed")));
  }
  // Debian's cpp-httplib listens with a backlog of 5 (compiled in): a burst
  // of webhooks would see SYNs dropped and retried a second later. Linux lets
  // listen() on a listening socket set a new backlog.
  if (m_impl->socket_fd >= 0) {
    ::listen(m_impl->socket_fd, SOMAXCONN);
  }
  m_impl->port = port;
  m_impl->started = true;
  m_impl->thread = std::thread([impl = m_impl.get()] {
    impl->server.listen_after_bind();
    impl->listen_returned = true;
  });
  // httplib's stop() does nothing until the accept loop runs: wait for it so
  // that a stop() right after start() is not lost.
  while (!m_impl->server.is_running() && !m_impl->listen_returned) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

void Listener::stop() {
  const std::lock_guard lock(m_impl->stop_mutex);
  if (m_impl->thread.joinable()) {
    m_impl->server.stop();
    m_impl->thread.join();
  }
}

int Listener::bound_port() const {
  return m_impl->port;
}

ListenerStats Listener::stats() const {
  ListenerStats stats;
  stats.active = m_impl->counters->active;
  stats.queued = m_impl->counters->queued;
  stats.shed = m_impl->counters->shed;
  return stats;
}

} // namespace bobsync::controller::server
