#include "controller/adapters/http/rate_limiter.hpp"

#include <algorithm>
#include <utility>

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

WriteGate::WriteGate(int max_concurrent,
                     int raise_after,
                     std::function<void(int old_limit, int new_limit)> on_limit)
    : m_max(std::max(1, max_concurrent)),
      m_raise_after(std::max(1, raise_after)),
      m_on_limit(std::move(on_limit)),
      m_limit(m_max) {}

void WriteGate::acquire() {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock, [this] { return m_in_flight < m_limit; });
  ++m_in_flight;
}

void WriteGate::release() {
  {
    const std::lock_guard lock(m_mutex);
    --m_in_flight;
  }
  m_cv.notify_one();
}

void WriteGate::set_limit(int limit, std::unique_lock<std::mutex>& lock) {
  const int old = m_limit;
  m_limit = limit;
  m_successes = 0;
  if (limit > old) {
    m_cv.notify_all();
  }
  if (m_on_limit) {
    lock.unlock();
    m_on_limit(old, limit);
  }
}

void WriteGate::rate_limited() {
  std::unique_lock lock(m_mutex);
  m_successes = 0;
  if (m_grace > 0) {
    --m_grace;
    return;
  }
  m_grace = std::max(0, m_in_flight - 1); // the other writes in flight
  if (m_limit > 1) {
    set_limit(std::max(1, m_limit / 2), lock);
  }
}

void WriteGate::succeeded() {
  std::unique_lock lock(m_mutex);
  if (m_grace > 0) {
    --m_grace;
  }
  if (m_limit < m_max && ++m_successes >= m_raise_after) {
    set_limit(m_limit + 1, lock);
  }
}

int WriteGate::in_flight() const {
  const std::lock_guard lock(m_mutex);
  return m_in_flight;
}

int WriteGate::limit() const {
  const std::lock_guard lock(m_mutex);
  return m_limit;
}

} // namespace bobsync::controller::http
