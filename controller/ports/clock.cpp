#include "controller/ports/clock.hpp"

#include <ctime>
#include <thread>

namespace bobsync::controller {

std::chrono::steady_clock::time_point SystemClock::now() {
  return std::chrono::steady_clock::now();
}

std::chrono::system_clock::time_point SystemClock::wall_now() {
  return std::chrono::system_clock::now();
}

void SystemClock::sleep_for(std::chrono::milliseconds duration) {
  if (duration.count() > 0) {
    std::this_thread::sleep_for(duration);
  }
}

ManualClock::ManualClock(std::chrono::system_clock::time_point wall_start)
    : m_wall_start(wall_start) {}

std::chrono::steady_clock::time_point ManualClock::now() {
  const std::lock_guard lock(m_mutex);
  return std::chrono::steady_clock::time_point(m_elapsed);
}

std::chrono::system_clock::time_point ManualClock::wall_now() {
  const std::lock_guard lock(m_mutex);
  return m_wall_start + m_elapsed;
}

void ManualClock::sleep_for(std::chrono::milliseconds duration) {
  const std::lock_guard lock(m_mutex);
  m_sleeps.push_back(duration);
  if (duration.count() > 0) {
    m_elapsed += duration;
  }
}

void ManualClock::advance(std::chrono::milliseconds duration) {
  const std::lock_guard lock(m_mutex);
  m_elapsed += duration;
}

std::vector<std::chrono::milliseconds> ManualClock::sleeps() const {
  const std::lock_guard lock(m_mutex);
  return m_sleeps;
}

void ManualClock::clear_sleeps() {
  const std::lock_guard lock(m_mutex);
  m_sleeps.clear();
}

std::string iso_utc(std::chrono::system_clock::time_point when) {
  const auto t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  const auto length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer, length);
}

} // namespace bobsync::controller
