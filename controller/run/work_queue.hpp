#pragma once

// The controller's keyed work queue: Bob employee ids waiting for a targeted
// pass (a webhook named them, or their last pass failed), and whether a full
// pass is wanted. controller-runtime's workqueue in miniature: a key is held
// once however often it is added (deduplicated), becomes ready when no new
// event came for `debounce` (or at the latest `max_delay` after its first
// event, so a steady stream cannot starve it), and every ready key is taken
// together (one targeted pass for a burst). Past `max_keys` distinct keys the
// queue collapses into one full pass, so a flood cannot grow memory; a full
// pass subsumes every queued key.
//
// Pure bookkeeping: time is passed in (the injected clock's steady time), no
// thread is started and nothing sleeps. Thread-safe (the webhook listener
// adds, the loop thread takes).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::controller::run {

using SteadyTime = std::chrono::steady_clock::time_point;

struct WorkQueueOptions {
  std::chrono::milliseconds debounce{300};
  // A key waits at most this long after its first event; 0: max(4 x
  // debounce, 1 s).
  std::chrono::milliseconds max_delay{0};
  std::size_t max_keys = 10000;
};

// What add() did with a key.
enum class Enqueued {
  queued,   // a new key
  merged,   // the key was already queued (its debounce restarts)
  subsumed, // a full pass is already pending: it will cover the key
  overflow, // the queue was full: it collapsed into a full pass
};

struct Target {
  std::string employee_id;
  int attempts = 0; // failed passes of this key so far (0: a fresh event)
};

// Work taken from the queue: a full pass, or a targeted pass of `targets`
// (sorted by employee id).
struct WorkBatch {
  bool full = false;
  int full_attempts = 0; // failed full passes so far (retry)
  std::vector<Target> targets;
};

class WorkQueue {
public:
  explicit WorkQueue(WorkQueueOptions options = {});

  // A new debounce (policy reload); keys already queued keep their times.
  void set_debounce(std::chrono::milliseconds debounce);

  // An event for one employee (a webhook).
  Enqueued add(const std::string& employee_id, SteadyTime now);
  // A failed targeted pass: the key is retried at `not_before` (backoff),
  // remembering `attempts`. A key queued again meanwhile keeps both.
  void retry(const std::string& employee_id, int attempts, SteadyTime not_before);
  // A full pass is wanted at `at` (now: at once); an earlier request wins.
  // Queued keys are kept until the full pass is taken.
  void request_full(SteadyTime at, int attempts = 0);

  // The earliest time take() would return work; nullopt when empty.
  std::optional<SteadyTime> next_ready() const;
  // The work ready at `now`: a pending full pass (which takes every key with
  // it), else every key whose time has come; nullopt when nothing is ready.
  std::optional<WorkBatch> take(SteadyTime now);
  // Drops every queued key (a full pass started by the timer covers them).
  // Returns how many were dropped.
  std::size_t subsume_targets();

  std::size_t depth() const;       // keys queued
  bool full_pending() const;       // a full pass is requested
  std::uint64_t overflows() const; // times the queue collapsed into a full pass

private:
  struct Entry {
    SteadyTime first;
    SteadyTime last;
    SteadyTime not_before; // retry backoff; epoch when none
    int attempts = 0;
  };
  SteadyTime ready_at(const Entry& e) const;
  std::chrono::milliseconds max_delay() const;

  mutable std::mutex m_mutex;
  WorkQueueOptions m_options;
  std::map<std::string, Entry> m_keys;
  std::optional<SteadyTime> m_full_at;
  int m_full_attempts = 0;
  std::uint64_t m_overflows = 0;
};

} // namespace bobsync::controller::run
