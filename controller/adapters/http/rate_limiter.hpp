#pragma once

// Client-side request rate limits (Bob's people search: 50 a minute).

#include "controller/ports/clock.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
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

// A counting semaphore with a run-time limit: bounds concurrent writes.
class WriteGate {
public:
  explicit WriteGate(int max_concurrent);

  void acquire();
  void release();
  int in_flight() const;

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
  int m_max;
  int m_in_flight = 0;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
};

} // namespace bobsync::controller::http
