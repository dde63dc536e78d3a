#pragma once

// The one clock of the process: time for records, dates and intervals, and
// sleeping for retries and rate limits. Injected (from the composition root)
// so that tests drive time and never really sleep.

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace bobsync::controller {

// Monotonic time (intervals, rate limits), wall time (records, the full-refresh
// interval, Retry-After dates and X-RateLimit-Reset) and sleeping.
// Implementations are thread-safe.
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

// `when` as ISO 8601 UTC to the second ("2026-11-27T09:00:00Z"): the form of
// every timestamp bobsync records.
std::string iso_utc(std::chrono::system_clock::time_point when);

} // namespace bobsync::controller
