#pragma once

// Capped exponential backoff with full jitter (AWS architecture blog,
// "Exponential Backoff And Jitter"): the n-th retry waits a uniformly random
// time in [floor, min(cap, base * 2^(n-1))]. Full jitter spreads retries of
// many failing keys instead of sending them back in lockstep; the floor keeps
// a failing pass from spinning.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace bobsync::controller::run {

struct BackoffOptions {
  std::chrono::milliseconds base{2000};
  std::chrono::milliseconds cap{300000}; // 5 min
  std::chrono::milliseconds floor{500};
};

class Backoff {
public:
  explicit Backoff(BackoffOptions options = {}, std::uint64_t seed = std::random_device{}());

  // The delay before retry number `attempt` (1 = the first retry).
  // Thread-safe.
  std::chrono::milliseconds delay(int attempt);
  // The largest delay() can return for `attempt`.
  std::chrono::milliseconds ceiling(int attempt) const;

  void set_cap(std::chrono::milliseconds cap);

private:
  std::chrono::milliseconds ceiling_unlocked(int attempt) const;

  BackoffOptions m_options;
  mutable std::mutex m_mutex;
  std::mt19937_64 m_random;
};

} // namespace bobsync::controller::run
