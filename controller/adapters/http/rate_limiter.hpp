#pragma once

// Client-side request rate limits (Bob's people search: 50 a minute).

#include "controller/ports/clock.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace bobsync::controller::http {

// Allows at most `max_requests` acquisitions in any sliding window of
// `window` (a token bucket whose tokens return exactly `window` after use).
// Unlike a bucket with a burst allowance, it never lets more than the limit
// through in any window, so the server's own limit is never reached by this
// process. Waits through the injected clock. Thread-safe.
class RateLimiter {
public:
  RateLimiter(Clock& clock, int max_requests, std::chrono::milliseconds window);

  // Blocks (clock.sleep_for) until a request may be sent, then records it.
  void acquire();

private:
  Clock& m_clock;
  int m_max_requests;
  std::chrono::milliseconds m_window;
  std::mutex m_mutex;
  std::deque<std::chrono::steady_clock::time_point> m_sent;
};

// A counting semaphore that bounds concurrent writes, with a limit that adapts
// to the server's 429s (additive increase, multiplicative decrease): a write
// answered 429 halves the limit (rounding down, never below 1), once per
// round: after a cut, the next answers to the other writes then in flight
// (as many answers as there were) do not cut it again, since they report
// the same congestion; `raise_after` successful writes in a row
// raise it by one, never above the configured maximum. Writes already in flight are never
// interrupted: a lowered limit only holds back the next acquisitions. Thread-safe.
class WriteGate {
public:
  static constexpr int k_default_raise_after = 20;

  // `on_limit(old, now)` is told every change of the limit (a log line).
  explicit WriteGate(int max_concurrent,
                     int raise_after = k_default_raise_after,
                     std::function<void(int old_limit, int new_limit)> on_limit = {});

  void acquire();
  void release();
  // A write was answered 429 / succeeded: adapts the limit.
  void rate_limited();
  void succeeded();
  int in_flight() const;
  int limit() const;
  int max() const { return m_max; }

  // RAII holder.
  class Slot {
  public:
    explicit Slot(WriteGate& gate)
        : m_gate(gate) {
      m_gate.acquire();
    }
    ~Slot() { m_gate.release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

  private:
    WriteGate& m_gate;
  };

private:
  void set_limit(int limit, std::unique_lock<std::mutex>& lock);

  int m_max;
  int m_raise_after;
  std::function<void(int, int)> m_on_limit;
  int m_limit;
  int m_in_flight = 0;
  int m_successes = 0; // in a row, since the limit last changed
  int m_grace = 0;     // answers to see before a 429 may cut the limit again
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
};

} // namespace bobsync::controller::http
