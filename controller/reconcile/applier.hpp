#pragma once

// Executes a plan against JumpCloud, recording each change in the store:
// journal the intent -> call JumpCloud -> settle journal, cache, link and
// audit record in one transaction. A failed change is recorded and does not
// stop the others.

#include "controller/ports/clock.hpp"
#include "controller/ports/directory.hpp"
#include "state/plan.hpp"
#include "state/store.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

struct ChangeResult;

struct ApplyOptions {
  int concurrency = 4;
  std::string run_id;
  std::string policy_hash;
  // Called after each change (from worker threads, serialized): done, total.
  std::function<void(int, int)> progress;
  // Called with each change's result as it completes (serialized, before
  // progress): the CLI prints it at once.
  std::function<void(const ChangeResult&)> on_result;
  // Test hook: called at named points ("after_intent", "after_call",
  // "after_settle": the settle may still be queued, not durable); may
  // abort the process to simulate a crash.
  std::function<void(std::string_view)> fault_point;
  int max_create_attempts = 3;
};

struct ChangeResult {
  state::Change change;
  bool ok = false;
  bool recovered = false; // a create found already done (lost response, retry)
  std::string error;      // redacted, for people
  std::optional<ErrorKind> error_kind;
};

struct ApplyResult {
  std::vector<ChangeResult> results; // in plan order
  int succeeded = 0;
  int failed = 0;
  bool stopped_unauthorized = false; // JumpCloud refused our key: the rest was skipped
  // Set when recording failed (a StoreError from the journal, or any other
  // exception in a worker): the run stopped there. The change in hand is a
  // failed result; changes not yet started were not attempted (and have no
  // result); a change journaled but not settled stays pending for recovery.
  std::optional<std::string> aborted;
  // JumpCloud still answered 429 after the client's retries (it asked to
  // wait longer than a run waits): writing stopped. The changes not started
  // are neither journaled nor in `results`; the next pass plans them again.
  bool stopped_rate_limited = false;
  std::optional<std::chrono::milliseconds> rate_limit_wait; // what JumpCloud asked for
  int left_for_next_pass = 0;
};

// Applies every create/update/activate/suspend of `plan` (conflicts and
// deferrals are skipped). Never throws and never lets an exception escape a
// worker thread: see ApplyResult::aborted. Creates run first, so that references to users
// created in this run (manager placeholders "bob:<employee id>") can be
// resolved in a second step. Thread-safe use of `directory` and `store`.
// Records are timed by `clock` (wall time).
ApplyResult apply_plan(const state::Plan& plan,
                       Directory& directory,
                       state::StateStore& store,
                       Clock& clock,
                       const ApplyOptions& options);

// The audit message of a pending create that recovery did not find in
// JumpCloud. The request may still have been in flight when recovery looked
// (a run killed while JumpCloud was handling it): record_late_creates
// finds such users afterwards.
inline constexpr std::string_view k_interrupted_create_message =
    "interrupted before JumpCloud created the user";

// Settles journal entries left pending by a crash: reads JumpCloud to learn
// whether each write happened, then records the outcome (cache, link, audit
// with outcome "recovered" or "failed"). Returns how many were settled.
// Errors reaching JumpCloud leave the entries pending and are returned.
ApiResult<int> recover_journal(Directory& directory,
                               state::StateStore& store,
                               Clock& clock,
                               const ApplyOptions& options);

// For each link just rebuilt from a user's link attribute whose employee's
// newest audit row is a create settled as interrupted
// (k_interrupted_create_message): that create reached JumpCloud after all,
// after recovery looked. Appends a "recovered" create row naming the user,
// so that every user bobsync created has its audit row. Returns how many.
int record_late_creates(const std::vector<state::Link>& rebuilt,
                        state::StateStore& store,
                        Clock& clock,
                        const ApplyOptions& options,
                        std::string_view attribute);

// Looks for a user a create may already have made: by employeeIdentifier,
// then email, then username (each must identify exactly one user whose email
// matches, case-insensitively). nullopt when none.
ApiResult<std::optional<state::DirectoryUser>> find_created_user(Directory& directory,
                                                                 const state::Change& create);

} // namespace bobsync::controller
