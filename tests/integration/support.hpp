#pragma once

// Helpers shared by the integration tests (adapters against the fakes).

#include "controller/adapters/http/transport.hpp"

#include <atomic>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

namespace bobsync::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string testdata(const std::string& relative) {
  return read_text(std::string(BOBSYNC_TESTDATA_DIR) + "/" + relative);
}

inline std::string source_file(const std::string& relative) {
  return read_text(std::string(BOBSYNC_SOURCE_DIR) + "/" + relative);
}

// Wraps a transport and records how many requests were in flight at most.
class CountingTransport final : public controller::http::Transport {
public:
  explicit CountingTransport(controller::http::Transport& inner)
      : m_inner(inner) {}

  controller::http::TransportResult send(const controller::http::Request& request) override {
    const int now = ++m_in_flight;
    int seen = m_max.load();
    while (now > seen && !m_max.compare_exchange_weak(seen, now)) {
    }
    ++m_sent;
    auto result = m_inner.send(request);
    --m_in_flight;
    return result;
  }

  int max_in_flight() const { return m_max.load(); }
  int sent() const { return m_sent.load(); }

private:
  controller::http::Transport& m_inner;
  std::atomic<int> m_in_flight{0};
  std::atomic<int> m_max{0};
  std::atomic<int> m_sent{0};
};

// Answers from a queue (for parsing tests without a server); records requests.
class StubTransport final : public controller::http::Transport {
public:
  void push(int status, std::string body, std::string content_type = "application/json") {
    controller::http::Response response;
    response.status = status;
    response.body = std::move(body);
    response.headers.emplace_back("content-type", std::move(content_type));
    const std::lock_guard lock(m_mutex);
    m_responses.push_back(std::move(response));
  }

  controller::http::TransportResult send(const controller::http::Request& request) override {
    const std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
    if (m_responses.empty()) {
      return Unexpected<controller::http::TransportError>{
          {controller::http::FailureKind::connect, false, "no stub response left"}};
    }
    auto response = std::move(m_responses.front());
    m_responses.pop_front();
    if (request.on_body && response.status >= 200 && response.status <= 299) {
      // Streamed, in small chunks as a network would deliver it.
      std::string body;
      body.swap(response.body);
      for (std::size_t i = 0; i < body.size(); i += 97) {
        if (!request.on_body(response, std::string_view(body).substr(i, 97))) {
          return Unexpected<controller::http::TransportError>{
              {controller::http::FailureKind::aborted, true, "stopped by the receiver"}};
        }
      }
    }
    return response;
  }

  std::vector<controller::http::Request> requests() const {
    const std::lock_guard lock(m_mutex);
    return m_requests;
  }

private:
  mutable std::mutex m_mutex;
  std::deque<controller::http::Response> m_responses;
  std::vector<controller::http::Request> m_requests;
};

} // namespace bobsync::testing
