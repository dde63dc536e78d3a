#pragma once

// The loop's passes over the real pass: controller::reconcile in apply mode
// against the state store, with the Bob and JumpCloud clients the factory
// builds for the policy. A targeted pass plans like a full one, with its
// targets re-read from Bob over the employees of the last pass. A policy reload that changes a URL,
// the JumpCloud organisation or writeConcurrency rebuilds the clients before the next pass.

#include "controller/ports/directory.hpp"
#include "controller/ports/hr_source.hpp"
#include "controller/run/loop.hpp"
#include "state/store.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace bobsync::controller::run {

struct RunnerSources {
  std::shared_ptr<void> keep_alive; // what the clients borrow
  std::unique_ptr<HrSource> hr;
  std::unique_ptr<Directory> directory;
};

using SourcesFactory = std::function<RunnerSources(const policies::Policy&)>;

struct ReconcileRunnerOptions {
  std::function<std::string()> new_run_id; // required: a new unique id per run record
  // Test hook (BOBSYNC_CRASH_AT): named points of the applier.
  std::function<void(std::string_view)> fault_point;
};

class ReconcileRunner final : public PassRunner {
public:
  // `clock`: the wall time of records and of the full-refresh interval.
  ReconcileRunner(state::StateStore& store,
                  Clock& clock,
                  SourcesFactory factory,
                  ReconcileRunnerOptions options);
  // One pass, then the memory it freed is given back to the system.
  PassReport run(const PassSpec& spec) override;

  // What the last pass's plan leaves for later (deferrals and conflicts:
  // changes that write nothing now) and why it was blocked; for the status
  // page. Any thread.
  struct PlanView {
    std::vector<state::Change> pending;
    std::vector<state::BlockReason> block_reasons;
  };
  PlanView last_plan() const;

private:
  void ensure_sources(const policies::Policy& policy);
  // One pass; `employees` receives what it read (the next baseline).
  PassReport pass(const PassSpec& spec,
                  std::shared_ptr<const std::vector<state::Employee>>& employees);

  state::StateStore& m_store;
  Clock& m_clock;
  SourcesFactory m_factory;
  ReconcileRunnerOptions m_options;
  RunnerSources m_sources;
  std::shared_ptr<const policies::Policy> m_sources_policy;
  // The employees of the last pass: a targeted pass re-reads only its
  // targets from Bob and takes everybody else from here.
  std::shared_ptr<const std::vector<state::Employee>> m_baseline;
  mutable std::mutex m_plan_mutex;
  PlanView m_last_plan;
};

} // namespace bobsync::controller::run
