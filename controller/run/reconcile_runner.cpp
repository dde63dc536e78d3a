#include "controller/run/reconcile_runner.hpp"

#include "controller/reconcile/reconciler.hpp"
#include "policies/desired_state_builder.hpp"

#include <set>
#include <stdexcept>

namespace bobsync::controller::run {

ReconcileRunner::ReconcileRunner(state::StateStore& store,
                                 Clock& clock,
                                 SourcesFactory factory,
                                 ReconcileRunnerOptions options)
    : m_store(store),
      m_clock(clock),
      m_factory(std::move(factory)),
      m_options(std::move(options)) {
  if (!m_options.new_run_id) {
    throw std::invalid_argument("ReconcileRunner: new_run_id is required");
  }
}

void ReconcileRunner::ensure_sources(const policies::Policy& policy) {
  const auto* built = m_sources_policy.get();
  if (built != nullptr && built->bob_url == policy.bob_url
      && built->jumpcloud_url == policy.jumpcloud_url
      && built->jumpcloud_org_id == policy.jumpcloud_org_id
      && built->write_concurrency == policy.write_concurrency) {
    return;
  }
  m_sources = m_factory(policy); // throws (a refused URL): the pass fails, the old clients stay
  m_sources_policy = std::make_shared<const policies::Policy>(policy);
}

ReconcileRunner::PlanView ReconcileRunner::last_plan() const {
  const std::lock_guard lock(m_plan_mutex);
  return m_last_plan;
}

PassReport ReconcileRunner::run(const PassSpec& spec) {
  std::shared_ptr<const std::vector<state::Employee>> employees;
  auto report = pass(spec, employees);
  // The pass's reads, plan and results are freed once pass() returns. The
  // employees stay as the next targeted passes' baseline: they were parsed
  // on worker threads, scattered through their arenas between the texts
  // and documents of the pass, and kept as they are they would pin pages
  // everywhere. A copy made here, in one go, is compact; then the original
  // goes and the memory the pass freed is given back to the system.
  if (employees) {
    m_baseline = std::make_shared<const std::vector<state::Employee>>(*employees);
    employees.reset();
  }
  release_free_memory();
  return report;
}

PassReport ReconcileRunner::pass(const PassSpec& spec,
                                 std::shared_ptr<const std::vector<state::Employee>>& employees) {
  const auto& policy = *spec.policy->policy;
  ensure_sources(policy);
  PassReport report;

  const bool targeted = spec.kind == PassKind::targeted;
  ReconcileRequest request;
  request.pass.policy = spec.policy->policy; // the snapshot, shared for the whole pass
  request.pass.now = spec.now;
  request.pass.policy_hash = spec.policy->hash;
  if (targeted) {
    request.pass.targets = spec.employee_ids;
    // Only the targets are read from Bob, in place of theirs in the last
    // full read (no baseline yet: every employee is read).
    request.baseline = m_baseline;
  }
  request.keep_employees = true; // the next targeted passes' baseline
  request.mode = Mode::apply;
  // The write-through cache, listed again in full every
  // schedule.fullRefreshInterval (the pass decides from the store).
  request.observe = Observe::cached;
  request.kind = "run";
  request.apply.concurrency = policy.write_concurrency;
  request.apply.run_id = m_options.new_run_id();
  request.apply.fault_point = m_options.fault_point;
  auto outcome =
      reconcile(*m_sources.hr, *m_sources.directory, m_store, m_clock, std::move(request));

  report.run_ids.push_back(outcome.run_id);
  report.refreshed = outcome.refreshed;
  report.recovered = outcome.recovered;
  if (outcome.error) {
    report.failed = true;
    report.error = outcome.error->message;
    if (targeted) {
      report.failed_employees = spec.employee_ids;
    }
    return report;
  }
  if (outcome.pass.employees) {
    employees = std::move(outcome.pass.employees);
  }
  const auto& plan = outcome.pass.plan;
  {
    PlanView view;
    for (const auto& c : plan.changes) {
      if (c.action == state::Action::defer || c.action == state::Action::conflict) {
        view.pending.push_back(c);
      }
    }
    view.block_reasons = plan.block_reasons;
    const std::lock_guard lock(m_plan_mutex);
    m_last_plan = std::move(view);
  }
  report.conflicts = plan.summary.count(state::Action::conflict);
  report.deferred = plan.summary.count(state::Action::defer);
  for (auto action : {state::Action::create,
                      state::Action::update,
                      state::Action::activate,
                      state::Action::suspend}) {
    report.planned += plan.summary.count(action);
  }
  if (outcome.blocked) {
    report.blocked = true;
    for (const auto& reason : plan.block_reasons) {
      report.blocked_by.push_back(reason.message);
    }
  }
  if (outcome.applied) {
    report.applied = outcome.applied->succeeded;
    report.apply_failed = outcome.applied->failed;
    std::set<std::string> failed;
    for (const auto& r : outcome.applied->results) {
      report.changes.emplace_back(std::string(to_string(r.change.action)), r.ok);
      if (!r.ok) {
        failed.insert(r.change.employee_id);
      }
    }
    report.failed_employees.assign(failed.begin(), failed.end());
  }
  // The next instant at which somebody's desired phase changes by the
  // calendar alone (a start date's local midnight, a leaving date, ...).
  report.next_transition = policies::next_transition(outcome.pass.desired);
  return report;
}

} // namespace bobsync::controller::run
