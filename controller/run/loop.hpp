#pragma once

// The controller's loop: one pass at a time, on one thread. Level-triggered
// full passes every schedule.interval, targeted passes for the employees the
// work queue names (webhooks), a full pass at the next date boundary of the
// last desired state (a starter's local midnight), failures retried with
// capped exponential backoff and full jitter, and the policy file checked for
// changes every few seconds (or at once on request, SIGHUP).
//
// Time comes from the injected clock. Tests drive the loop with step() over
// a manual clock (no thread, no sleeping); production calls run(), which
// waits on a condition variable until the next thing is due, an event
// arrives or stop() is called.

#include "controller/ports/clock.hpp"
#include "controller/run/backoff.hpp"
#include "controller/run/policy_source.hpp"
#include "controller/run/work_queue.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bobsync::controller::run {

using Clock = controller::Clock;
using WallTime = std::chrono::system_clock::time_point;

enum class PassKind { full, targeted };
std::string_view to_string(PassKind kind);

struct PassSpec {
  PassKind kind = PassKind::full;
  std::vector<std::string> employee_ids; // targeted: sorted, unique
  std::shared_ptr<const PolicySnapshot> policy;
  WallTime now;       // the controller clock's wall time: dates are judged as of it
  std::string reason; // startup | interval | webhook | webhook burst | date boundary | policy
                      // reload | retry | queue overflow
  int attempt = 0;    // 0: first try; n: the n-th retry
};

// What a pass did, for the loop (retries, the next wake-up) and the observer
// (logs, metrics, /readyz).
struct PassReport {
  bool failed = false; // the pass could not finish (Bob or JumpCloud unreachable, store error, ...)
  std::string error;
  // Targeted: the employees to retry (all of them when the pass failed
  // before planning). Full: unused (the whole pass is retried).
  std::vector<std::string> failed_employees;
  bool blocked = false;                // held by the safety limits: nothing applied
  std::vector<std::string> blocked_by; // the blocking diagnostics
  int conflicts = 0;
  int deferred = 0;
  int planned = 0;      // creates + updates + activations + suspensions planned
  int applied = 0;      // changes applied
  int apply_failed = 0; // changes that failed (retried by the next pass)
  // Each change applied: its action (create, update, ...) and whether it worked.
  std::vector<std::pair<std::string, bool>> changes;
  bool refreshed = false; // JumpCloud listed in full
  int recovered = 0;      // journal entries settled from an interrupted run
  std::vector<std::string> run_ids;
  std::optional<WallTime> next_transition; // the earliest future date boundary
};

// Performs one pass; the loop's only way to touch the world. Called on the
// loop thread only. May throw (a store error): the loop reports it as a failed
// pass.
class PassRunner {
public:
  virtual ~PassRunner() = default;
  virtual PassReport run(const PassSpec& spec) = 0;
};

// Hears what the loop does (logging, metrics). Called on the loop thread,
// except enqueued() (the caller of enqueue()). Must not throw.
class LoopObserver {
public:
  virtual ~LoopObserver() = default;
  virtual void pass_started(const PassSpec& /*spec*/) {}
  virtual void pass_finished(const PassSpec& /*spec*/,
                             const PassReport& /*report*/,
                             std::chrono::duration<double> /*seconds*/) {}
  virtual void policy_checked(const PolicyCheck& /*check*/, const PolicySnapshot& /*current*/) {}
  virtual void enqueued(const std::string& /*employee_id*/, Enqueued /*what*/) {}
};

struct LoopOptions {
  std::chrono::milliseconds policy_check_every{3000};
  // The longest a production wait lasts before looking again (a clock jump
  // is noticed at the latest then).
  std::chrono::milliseconds max_wait{5000};
  BackoffOptions backoff; // cap: at most the policy's interval
  std::uint64_t seed = 0; // jitter; 0: random
  std::size_t max_queued_employees = 10000;
  // A targeted pass of more employees than this is run as one full pass
  // instead: a targeted pass reads its employees from Bob one by one, past
  // a handful one search is cheaper (and the full pass subsumes them).
  std::size_t max_targets_per_pass = 8;
  // ... unless a full pass started less than this ago: Bob allows 50 full
  // searches a minute, a stream of webhooks must not spend them all.
  std::chrono::milliseconds min_full_pass_gap{2000};
  int failing_after = 3; // consecutive failed passes that make the loop "failing"
};

// A snapshot for /readyz, /metrics and tests. Thread-safe to obtain.
struct LoopStatus {
  std::uint64_t passes = 0;        // finished passes
  std::uint64_t failed_passes = 0; // of which failed
  std::uint64_t full_passes = 0;
  std::uint64_t targeted_passes = 0;
  int consecutive_failures = 0;
  bool failing = false; // consecutive_failures >= failing_after
  std::string last_error;
  bool last_blocked = false;
  std::optional<WallTime> last_success;  // controller clock
  std::optional<WallTime> next_boundary; // next date-boundary wake-up
  std::size_t queue_depth = 0;
  std::uint64_t queue_overflows = 0;
  std::shared_ptr<const PolicySnapshot> policy;
  std::vector<std::string> policy_rejected; // diagnostics of a rejected edit
  std::uint64_t policy_rejections = 0;
};

class Loop {
public:
  // `policy` must hold a valid policy (checked once by the caller).
  Loop(Clock& clock,
       PolicySource& policy,
       PassRunner& runner,
       LoopObserver* observer = nullptr,
       LoopOptions options = {});
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // From any thread (the webhook listener): queue a targeted pass of one
  // employee and wake the loop. Never blocks on a pass.
  Enqueued enqueue(const std::string& employee_id);
  // From any thread, or a signal-handling thread: check the policy file now.
  void request_reload();
  // From any thread: the loop finishes the pass in flight and run() returns.
  void stop();
  bool stopping() const { return m_stop.load(); }

  // Does what is due at the clock's now: the policy check, then at most one
  // pass. Returns true when a pass ran. Loop thread (or a test) only.
  bool step();
  // When the next thing is due (steady time of the clock): the next pass,
  // retry, date boundary or policy check.
  SteadyTime next_wake();
  // step() and wait, until stop(). Production.
  void run();

  LoopStatus status() const;
  // Blocks (real time, bounded) until at least `count` passes have finished.
  // For tests and benchmarks.
  bool wait_for_passes(std::uint64_t count, std::chrono::milliseconds timeout) const;

private:
  void check_policy();
  void schedule_after_full(const PassReport& report, int attempts, SteadyTime now);
  std::chrono::milliseconds interval() const;

  Clock& m_clock;
  PolicySource& m_policy;
  PassRunner& m_runner;
  LoopObserver* m_observer;
  LoopOptions m_options;
  WorkQueue m_queue;
  Backoff m_backoff;

  // Loop thread only.
  bool m_started = false;
  SteadyTime m_next_full;
  SteadyTime m_next_policy_check;
  std::optional<WallTime> m_next_boundary;
  std::string m_full_reason = "startup";
  std::optional<SteadyTime> m_last_full_start;
  std::uint64_t m_applied_generation = 0;

  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_reload{false};
  mutable std::mutex m_wake_mutex;
  std::condition_variable m_wake;
  bool m_poked = false;

  mutable std::mutex m_status_mutex;
  mutable std::condition_variable m_pass_done;
  LoopStatus m_status;
};

} // namespace bobsync::controller::run
