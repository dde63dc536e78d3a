#pragma once

// The controller's clock for `run --now TS` (or BOBSYNC_NOW): wall time starts
// at TS and runs on in real time, so a rehearsal (or a test) can start the
// controller a few seconds before a start date's midnight and watch the
// starter being created. Steady time and sleeping are real.

#include "controller/ports/clock.hpp"

#include <thread>

namespace bobsync::controller::run {

class ShiftedClock final : public Clock {
public:
  explicit ShiftedClock(std::chrono::system_clock::duration offset = {})
      : m_offset(offset) {}

  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() override {
    return std::chrono::system_clock::now() + m_offset;
  }
  void sleep_for(std::chrono::milliseconds duration) override {
    if (duration.count() > 0) {
      std::this_thread::sleep_for(duration);
    }
  }

private:
  std::chrono::system_clock::duration m_offset;
};

} // namespace bobsync::controller::run
