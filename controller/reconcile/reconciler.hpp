#pragma once

// One level-triggered pass: read Bob and JumpCloud, build the desired state,
// plan. Applying comes later (the applier).

#include "controller/ports/clock.hpp"
#include "controller/ports/directory.hpp"
#include "controller/ports/hr_source.hpp"
#include "controller/reconcile/applier.hpp"
#include "policies/policy.hpp"
#include "state/planner.hpp"
#include "state/store.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::controller {

// The employees themselves are not kept: once the desired state is built
// they are freed before planning (100,000 of them are ~150 MB).
struct PassResult {
  // The employees the pass used, only when ReconcileRequest::keep_employees
  // asked for them (the controller keeps them as the next baseline).
  std::shared_ptr<const std::vector<state::Employee>> employees;
  std::vector<state::DirectoryUser> users;
  state::DesiredState desired;
  state::Plan plan;
};

struct PassRequest {
  // The policy of this pass: an immutable snapshot (required). A reload makes
  // a new Policy and hands it to the next pass; a running pass keeps its own
  // to the end, so the pass needs no lock. ARCHITECTURE.md says which keys a
  // reload may change.
  std::shared_ptr<const policies::Policy> policy;
  std::chrono::system_clock::time_point now;
  std::vector<state::Link> links;
  std::string policy_hash;
  // A targeted pass: the plan is the full plan restricted to these employees
  // (`only_employee` from the command line, `targets` from the controller;
  // both empty: everybody). Each must be known to Bob (see reconcile()).
  std::optional<state::EmployeeId> only_employee;
  std::vector<state::EmployeeId> targets;
  bool record_matches = false; // fill Plan::matches (explain)

  // only_employee and targets together, sorted and unique.
  std::vector<state::EmployeeId> target_ids() const;
};

// Gives memory that was freed back to the system. A pass allocates from
// several threads (Bob's parse threads, the desired-state slices), and freed
// memory in one thread's malloc arena is not reused by another: without this
// a 100,000-employee pass keeps ~150 MB it no longer uses.
void release_free_memory();

// For every command, once at the process's start (the binary's main):
// glibc's fast bins off and a fixed trim threshold of 128 KiB. A pass frees
// Bob's 100,000 employees on the planning thread, but they were allocated by
// the parse threads, in their own arenas, as small chunks. With fast bins
// those chunks are only merged by `malloc_trim`, which then leaves them as
// the top of a thread arena, which it never gives back (only the main
// arena's top is trimmed); the dynamic threshold, raised by the first large
// buffer freed, kept the arena from trimming them itself. Measured with
// bench_read 100000 --apart (Bob read while JumpCloud is listed, as a pass
// does): peak RSS 486 MB -> 367 MB, read + plan unchanged.
void tune_allocator_for_passes();

// For a long-running process (the controller), once at its start, on top of
// tune_allocator_for_passes(): glibc's allocator with at most two arenas and
// a fixed mmap threshold of 128 KiB.
// Large buffers (an API answer, a page of users, a vector of 10,000
// records) are then mapped and unmapped instead of raising the dynamic
// threshold and settling in the heap between long-lived records, and a
// pass's worker threads do not spread the heap over many arenas. Measured
// with bench_run memory (10,000 employees): RSS after a pass 40-49 MB
// instead of 55-88 MB.
void tune_allocator_for_long_runs();

// Plans from data already read (cached users, a saved employee list).
PassResult plan_from(std::vector<state::Employee> employees,
                     std::vector<state::DirectoryUser> users,
                     const PassRequest& request);
// The same, keeping the employees (PassResult::employees is set).
PassResult plan_from(std::shared_ptr<const std::vector<state::Employee>> employees,
                     std::vector<state::DirectoryUser> users,
                     const PassRequest& request);

enum class Mode { plan, apply };

// How a pass observes JumpCloud.
enum class Observe {
  fresh,  // list every user now (plan, apply and explain from the command line)
  cached, // the cache, listed again in full when older than
          // schedule.fullRefreshInterval, empty, or after crash recovery (the controller,
          // whose every write goes through to the cache; the CLI's --cached)
};

struct ReconcileRequest {
  PassRequest pass; // links are read from the store
  Mode mode = Mode::plan;
  bool allow_mass_changes = false;
  Observe observe = Observe::cached; // a saved plan (`expected`) is always checked fresh
  std::string kind = "apply";        // run record kind: apply | run
  // apply --plan: apply only if a fresh plan has exactly these changes.
  std::optional<state::Plan> expected;
  ApplyOptions apply; // run_id, progress, concurrency, ...
  // A targeted pass (pass.targets / pass.only_employee) normally reads every
  // employee (one search) so matching sees everybody. With a baseline (the
  // employees of the last full read) it reads only the targets, one by one,
  // in place of theirs: an id Bob answers 404 for has left Bob.
  std::shared_ptr<const std::vector<state::Employee>> baseline;
  // Return the employees the pass used in outcome.pass.employees.
  bool keep_employees = false;
};

struct ReconcileOutcome {
  PassResult pass;
  std::optional<ApplyResult> applied; // set when changes were applied
  std::optional<ApiError> error;      // the pass stopped (reading Bob or JumpCloud)
  bool refreshed = false;             // JumpCloud was listed in full
  int recovered = 0;                  // journal entries settled from an earlier crash
  bool blocked = false;               // blocked by safety and not allowed
  bool stale = false;                 // the saved plan no longer matches
  std::string run_id;

  bool ok() const {
    return !error && !blocked && !stale
           && (!applied || (applied->failed == 0 && !applied->aborted));
  }
};

// One level-triggered pass with the store: settle a crashed run's journal
// (apply mode), observe JumpCloud (a fresh listing, or the cache as
// `observe` says), read Bob, plan, and in apply mode apply unless blocked.
// A listing that fails (including an incomplete or inconsistent one) fails
// the pass and leaves the cache as it was. JumpCloud without a single user
// while the store holds links is not believed: the plan is blocked (even
// with allow_mass_changes) and the cache is not replaced. Store failures on
// the calling thread throw StoreError; one while applying stops the applier
// (ApplyResult::aborted: the run is recorded "failed", the journal keeps
// what was not settled). In plan mode the store is only read (a listing is
// kept in memory). `clock` gives the wall time of records and of the
// full-refresh interval (dates are evaluated as of request.pass.now, which
// --now may move).
ReconcileOutcome reconcile(HrSource& hr,
                           Directory& directory,
                           state::StateStore& store,
                           Clock& clock,
                           ReconcileRequest request);

// Links found in JumpCloud's link attribute for employees without a stored
// link (a lost database is rebuilt this way).
std::vector<state::Link> links_from_attributes(const std::vector<state::DirectoryUser>& users,
                                               const std::vector<state::Link>& stored,
                                               const std::string& attribute);

} // namespace bobsync::controller
