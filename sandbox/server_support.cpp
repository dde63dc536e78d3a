#include "sandbox/server_support.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <array>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>

namespace bobsync::sandbox::detail {
namespace {

std::once_flag g_ignore_sigpipe;

// The fault a request carries from before_handling to after_handling. Both
// run on the worker thread serving the request.
thread_local std::optional<Fault> t_pending_fault;

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    return ntohs(in->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    return ntohs(in6->sin6_port);
  }
  return -1;
}

// Finds the server-side socket of this request and shuts it down with
// SO_LINGER 0, so the client sees the connection die with no response.
// httplib exposes no socket to handlers; the pair of ports identifies it.
bool abort_connection(const httplib::Request& request) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t length = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
      continue;
    }
    length = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) {
      continue;
    }
    if (port_of(local) == request.local_port && port_of(peer) == request.remote_port) {
      const linger hard{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
      shutdown(fd, SHUT_RDWR);
      return true;
    }
  }
  return false;
}

std::string default_fault_body(int status) {
  std::string message = status == 429   ? "Too Many Requests"
                        : status >= 500 ? "Service temporarily unavailable"
                                        : "Request failed";
  return "{\"message\":" + json_quote(message) + "}";
}

// Replaces the response with one that promises more bytes than it sends,
// then fails the write: the client sees a transfer cut short.
void cut_short(httplib::Response& response) {
  auto body = std::make_shared<std::string>(std::move(response.body));
  response.body.clear();
  std::string type = response.get_header_value("Content-Type");
  if (type.empty()) {
    type = k_json_type;
  }
  const std::size_t promised = body->size() + 64;
  response.headers.erase("Content-Length");
  response.set_header("Content-Length", std::to_string(promised));
  response.set_content_provider(
      promised, type, [body](std::size_t offset, std::size_t /*length*/, httplib::DataSink& sink) {
        if (offset == 0 && body->size() > 1) {
          sink.write(body->data(), body->size() / 2);
        }
        return false; // aborts: httplib closes the connection
      });
}

void set_content_type(httplib::Response& response, const std::string& type) {
  response.headers.erase("Content-Type");
  response.set_header("Content-Type", type);
}

} // namespace

FakeServer::FakeServer(std::string name)
    : m_name(std::move(name)) {
  std::call_once(g_ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  m_server.set_tcp_nodelay(true);
  m_server.set_keep_alive_max_count(1000000);
  m_server.set_keep_alive_timeout(1);
  m_server.set_read_timeout(10);
  m_server.set_write_timeout(10);
  m_server.new_task_queue = [] { return new httplib::ThreadPool(16); };
  m_server.set_post_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        after_handling(request, response);
      });
  m_server.set_exception_handler([](const httplib::Request& /*request*/,
                                    httplib::Response& response,
                                    std::exception_ptr error) {
    std::string message = "internal error";
    try {
      if (error) {
        std::rethrow_exception(error);
      }
    } catch (const std::exception& e) {
      message = e.what();
    }
    reply(response, 500, "{\"message\":" + json_quote(message) + "}");
  });
}

FakeServer::~FakeServer() {
  stop();
}

void FakeServer::start(const std::string& host, int port) {
  m_host = host;
  // httplib's default sets SO_REUSEPORT, which lets a second server bind a
  // port in use and share its connections: only SO_REUSEADDR (a port in
  // TIME_WAIT is reusable; a listening one is not).
  int listening = -1;
  m_server.set_socket_options([&listening](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listening = sock;
  });
  if (port == 0) {
    m_port = m_server.bind_to_any_port(host);
  } else {
    m_port = m_server.bind_to_port(host, port) ? port : -1;
  }
  m_server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Debian's cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG,
  // compiled into the library): eight clients connecting at once could see a
  // SYN dropped and retried a second later, which no real API does. Linux lets
  // listen() on a listening socket set a new backlog.
  if (m_port > 0 && listening >= 0) {
    ::listen(listening, SOMAXCONN);
  }
  if (m_port <= 0) {
    throw std::runtime_error(m_name + ": cannot listen on " + host + ":" + std::to_string(port)
                             + ": the port is in use (or not allowed); choose another --port");
  }
  // The socket is listening already: connections queue until accept starts.
  m_thread = std::thread([this] {
    m_server.listen_after_bind();
    m_listen_returned = true;
  });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so
  // that a stop() right after start() cannot be lost (and join hang).
  while (!m_server.is_running() && !m_listen_returned) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

void FakeServer::stop() {
  {
    const std::lock_guard lock(m_stop_mutex);
    m_stopping = true;
  }
  m_stop_cv.notify_all();
  if (m_thread.joinable()) {
    m_server.stop();
    m_thread.join();
  }
}

bool FakeServer::body_fault_pending() {
  return t_pending_fault.has_value();
}

bool FakeServer::pause(std::chrono::milliseconds duration) {
  if (duration.count() <= 0) {
    return true;
  }
  std::unique_lock lock(m_stop_mutex);
  return !m_stop_cv.wait_for(lock, duration, [this] { return m_stopping; });
}

bool FakeServer::before_handling(const httplib::Request& request, httplib::Response& response) {
  t_pending_fault.reset();
  LoggedRequest logged;
  logged.method = request.method;
  logged.path = request.path;
  for (const auto& [name, value] : request.params) {
    logged.query += (logged.query.empty() ? "" : "&") + name + "=" + value;
  }
  logged.body = request.body;
  m_stats.record(std::move(logged));
  if (!pause(m_faults.latency())) {
    reply(response, 503, default_fault_body(503));
    return true;
  }
  auto fault = m_faults.take(request.method, request.path);
  if (!fault) {
    return false;
  }
  switch (fault->kind) {
  case FaultKind::status:
    reply(response,
          fault->status,
          fault->body.empty() ? default_fault_body(fault->status) : fault->body);
    if (fault->retry_after) {
      response.set_header("Retry-After", *fault->retry_after);
    }
    if (fault->rate_limit_reset) {
      response.set_header("X-RateLimit-Reset", *fault->rate_limit_reset);
    }
    return true;
  case FaultKind::reset:
    if (!abort_connection(request)) {
      Fault fallback;
      fallback.kind = FaultKind::lost_response;
      t_pending_fault = fallback;
      reply(response, 500, default_fault_body(500));
    }
    return true;
  case FaultKind::malformed_json:
    reply(response, 200, "{\"results\": [{\"_id\": \"5f0c1b2c\", oops");
    return true;
  case FaultKind::html_200:
    reply(response,
          200,
          "<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We'll be back "
          "soon</h1></body></html>",
          "text/html; charset=utf-8");
    return true;
  case FaultKind::delay:
    if (!pause(fault->delay)) {
      reply(response, 503, default_fault_body(503));
      return true;
    }
    return false;
  case FaultKind::lost_response:
  case FaultKind::applied_then_reset:
  case FaultKind::truncated_json:
  case FaultKind::wrong_content_type:
    t_pending_fault = std::move(fault);
    return false;
  }
  return false; // unreachable
}

void FakeServer::after_handling(const httplib::Request& request, httplib::Response& response) {
  if (!t_pending_fault) {
    return;
  }
  const Fault fault = *t_pending_fault;
  t_pending_fault.reset();
  switch (fault.kind) {
  case FaultKind::lost_response:
    cut_short(response);
    return;
  case FaultKind::applied_then_reset:
    if (!abort_connection(request)) {
      cut_short(response);
    }
    return;
  case FaultKind::truncated_json:
    // A complete HTTP message whose body is cut: Content-Length must match.
    response.body.resize(response.body.size() / 2);
    response.headers.erase("Content-Length");
    response.set_header("Content-Length", std::to_string(response.body.size()));
    return;
  case FaultKind::wrong_content_type:
    set_content_type(response, "text/plain; charset=utf-8");
    return;
  case FaultKind::status:
  case FaultKind::reset:
  case FaultKind::malformed_json:
  case FaultKind::html_200:
  case FaultKind::delay:
    return;
  }
}

void install_fault_admin(httplib::Server& http, FakeServer& server) {
  using nlohmann::json;
  http.Post("/_admin/faults",
            [&server](const httplib::Request& request, httplib::Response& response) {
              const auto body = json::parse(request.body, nullptr, false);
              if (body.is_discarded() || !body.is_object()) {
                reply(response, 400, R"({"message":"body must be a fault object"})");
                return;
              }
              Fault fault;
              const auto kind = parse_fault_kind(body.value("kind", std::string("status")));
              if (!kind) {
                reply(response, 400, R"({"message":"unknown fault kind"})");
                return;
              }
              fault.kind = *kind;
              fault.method = body.value("method", std::string());
              fault.path_prefix = body.value("pathPrefix", std::string());
              fault.times = body.value("times", 1);
              fault.status = body.value("status", 503);
              if (body.contains("retryAfter") && body["retryAfter"].is_string()) {
                fault.retry_after = body["retryAfter"].get<std::string>();
              }
              if (body.contains("rateLimitReset") && body["rateLimitReset"].is_string()) {
                fault.rate_limit_reset = body["rateLimitReset"].get<std::string>();
              }
              fault.body = body.value("body", std::string());
              fault.delay = std::chrono::milliseconds(body.value("delayMs", 0));
              server.faults().add(std::move(fault));
              reply(response, 201, json{{"pending", server.faults().pending()}}.dump());
            });
  http.Delete("/_admin/faults",
              [&server](const httplib::Request& /*request*/, httplib::Response& response) {
                server.faults().clear();
                reply(response, 200, R"({"pending":0})");
              });
  http.Put("/_admin/latency",
           [&server](const httplib::Request& request, httplib::Response& response) {
             const auto body = json::parse(request.body, nullptr, false);
             if (body.is_discarded() || !body.is_object() || !body.contains("ms")
                 || !body["ms"].is_number_integer()) {
               reply(response, 400, R"({"message":"body must be {\"ms\": n}"})");
               return;
             }
             server.faults().set_latency(std::chrono::milliseconds(body["ms"].get<long long>()));
             reply(response, 200, body.dump());
           });
  http.Get(
      "/_admin/stats", [&server](const httplib::Request& /*request*/, httplib::Response& response) {
        json counts = json::object();
        for (const auto& [key, n] : server.stats().snapshot()) {
          counts[key] = n;
        }
        reply(response, 200, json{{"total", server.stats().total()}, {"requests", counts}}.dump());
      });
}

bool is_loopback_peer(const httplib::Request& request) {
  const auto& address = request.remote_addr;
  return address.rfind("127.", 0) == 0 || address == "::1" || address == "::ffff:127.0.0.1";
}

void reply(httplib::Response& response, int status, std::string body, const char* type) {
  response.status = status;
  response.body = std::move(body);
  set_content_type(response, type);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0; // start of the bytes not yet written, which need no escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      continue;
    }
    out.append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      out += "\\u00";
      out += k_hex[c >> 4U];
      out += k_hex[c & 0x0FU];
    }
  }
  out.append(text.substr(run));
  out += '"';
}

std::string json_quote(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string utc_date(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 16> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%Y-%m-%d", &tm);
  return buffer.data();
}

std::string utc_timestamp(std::chrono::system_clock::time_point when, bool with_zone) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          when.time_since_epoch() % std::chrono::seconds(1))
                          .count();
  std::array<char, 16> fraction{};
  std::snprintf(fraction.data(), fraction.size(), ".%06lld", static_cast<long long>(micros));
  std::string out = std::string(buffer.data()) + fraction.data();
  if (with_zone) {
    out.resize(out.size() - 3); // milliseconds, as JumpCloud's "created"
    out += 'Z';
  }
  return out;
}

} // namespace bobsync::sandbox::detail
