#pragma once

// Time and sleeping for retries and rate limits, injected so that tests never
// really sleep.

#include <chrono>
#include <mutex>
#include <vector>

namespace bobsync::controller::http {

// Monotonic time, wall time (for Retry-After dates and X-RateLimit-Reset) and
// sleeping. Implementations are thread-safe.
class Clock {
public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual std::chrono::system_clock::time_point wall_now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

// The real clocks; sleep_for blocks the calling thread.
class SystemClock final : public Clock {
public:
  std::chrono::steady_clock::time_point now() override;
  std::chrono::system_clock::time_point wall_now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
};

// A clock that only moves when told to. sleep_for returns at once, advances
// both clocks by the duration and records it, so a test can assert on the
// delays a client chose. Thread-safe.
class ManualClock final : public Clock {
public:
  explicit ManualClock(std::chrono::system_clock::time_point wall_start =
                           std::chrono::system_clock::time_point(std::chrono::seconds(1795000000)));

  std::chrono::steady_clock::time_point now() override;
  std::chrono::system_clock::time_point wall_now() override;
  void sleep_for(std::chrono::milliseconds duration) override;

  // Moves both clocks forward without recording a sleep.
  void advance(std::chrono::milliseconds duration);
  // Every sleep_for duration so far, in call order.
  std::vector<std::chrono::milliseconds> sleeps() const;
  void clear_sleeps();

private:
  mutable std::mutex m_mutex;
  std::chrono::milliseconds m_elapsed{0};
  std::chrono::system_clock::time_point m_wall_start;
  std::vector<std::chrono::milliseconds> m_sleeps;
};

} // namespace bobsync::controller::http
