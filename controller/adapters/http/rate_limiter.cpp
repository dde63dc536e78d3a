#include "controller/adapters/http/rate_limiter.hpp"

#include <algorithm>

namespace bobsync::controller::http {

RateLimiter::RateLimiter(Clock& clock, int max_requests, std::chrono::milliseconds window)
    : m_clock(clock),
      m_max_requests(std::max(1, max_requests)),
      m_window(window) {}

void RateLimiter::acquire() {
  while (true) {
    std::chrono::milliseconds wait{0};
    {
      const std::lock_guard lock(m_mutex);
      const auto now = m_clock.now();
      while (!m_sent.empty() && now - m_sent.front() >= m_window) {
        m_sent.pop_front();
      }
      if (static_cast<int>(m_sent.size()) < m_max_requests) {
        m_sent.push_back(now);
        return;
      }
      wait = std::chrono::ceil<std::chrono::milliseconds>(m_sent.front() + m_window - now);
    }
    m_clock.sleep_for(std::max(wait, std::chrono::milliseconds(1)));
  }
}

WriteGate::WriteGate(int max_concurrent)
    : m_max(std::max(1, max_concurrent)) {}

void WriteGate::acquire() {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock, [this] { return m_in_flight < m_max; });
  ++m_in_flight;
}

void WriteGate::release() {
  {
    const std::lock_guard lock(m_mutex);
    --m_in_flight;
  }
  m_cv.notify_one();
}

int WriteGate::in_flight() const {
  const std::lock_guard lock(m_mutex);
  return m_in_flight;
}

} // namespace bobsync::controller::http
