#include "controller/run/reconcile_runner.hpp"

#include "controller/reconcile/reconciler.hpp"

#include <date/tz.h>

#include <set>
#include <stdexcept>

namespace bobsync::controller::run {

std::optional<WallTime> next_local_midnight(const policies::Policy& policy, WallTime now) {
  std::set<std::string> zones = {policy.lifecycle.time_zone};
  for (const auto& [site, zone] : policy.lifecycle.site_time_zones) {
    zones.insert(zone);
  }
  std::optional<WallTime> next;
  for (const auto& name : zones) {
    try {
      const auto* zone = date::locate_zone(name);
      const auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(now));
      const auto midnight = date::floor<date::days>(local) + date::days{1};
      const WallTime at = zone->to_sys(midnight, date::choose::earliest);
      if (!next || at < *next) {
        next = at;
      }
    } catch (const std::exception&) {
      // The policy parser checked every zone; a broken tz database leaves the
      // interval as the only timer.
    }
  }
  return next;
}

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

PassReport ReconcileRunner::run(const PassSpec& spec) {
  const auto& policy = *spec.policy->policy;
  ensure_sources(policy);
  PassReport report;

  auto pass = [&](const std::optional<std::string>& only) {
    ReconcileRequest request;
    request.pass.policy = spec.policy->policy; // the snapshot, shared for the whole pass
    request.pass.now = spec.now;
    request.pass.policy_hash = spec.policy->hash;
    request.pass.only_employee = only;
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
    report.refreshed = report.refreshed || outcome.refreshed;
    report.recovered += outcome.recovered;
    if (outcome.error) {
      report.failed = true;
      if (!report.error.empty()) {
        report.error += "; ";
      }
      report.error += outcome.error->message;
      if (only) {
        report.failed_employees.push_back(*only);
      }
      return;
    }
    const auto& plan = outcome.pass.plan;
    report.conflicts += plan.summary.count(state::Action::conflict);
    report.deferred += plan.summary.count(state::Action::defer);
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
      report.applied += outcome.applied->succeeded;
      report.apply_failed += outcome.applied->failed;
      std::set<std::string> failed;
      for (const auto& r : outcome.applied->results) {
        report.changes.emplace_back(std::string(to_string(r.change.action)), r.ok);
        if (!r.ok) {
          failed.insert(r.change.employee_id);
        }
      }
      report.failed_employees.insert(report.failed_employees.end(), failed.begin(), failed.end());
    }
  };

  if (spec.kind == PassKind::full) {
    pass(std::nullopt);
  } else {
    // SEAM(bobtrust): one reconcile of the whole set (targets re-read fresh
    // over a baseline snapshot) once reconcile takes a set of employees.
    for (const auto& id : spec.employee_ids) {
      pass(id);
    }
  }
  // SEAM(bobtrust): policies::next_transition(desired) gives the exact next
  // boundary of the desired state; until then every local midnight of the
  // policy's zones (a superset of the boundaries).
  report.next_transition = next_local_midnight(policy, spec.now);
  release_free_memory();
  return report;
}

} // namespace bobsync::controller::run
