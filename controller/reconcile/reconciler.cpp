#include "controller/reconcile/reconciler.hpp"

#include "policies/desired_state_builder.hpp"
#include "policies/lookalike.hpp"

#include <algorithm>
#include <ctime>
#include <future>
#include <malloc.h>
#include <set>
#include <unordered_set>
#include <utility>

namespace bobsync::controller {

void release_free_memory() {
  malloc_trim(0); // glibc: every arena's free pages back to the system
}

void tune_allocator_for_passes() {
  mallopt(M_MXFAST, 0);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024); // also turns the dynamic thresholds off
}

void tune_allocator_for_long_runs() {
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024); // also turns the dynamic threshold off
}

std::vector<state::EmployeeId> PassRequest::target_ids() const {
  std::vector<state::EmployeeId> ids = targets;
  if (only_employee) {
    ids.push_back(*only_employee);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

namespace {

void plan_desired(PassResult& result, const PassRequest& request) {
  auto options = request.policy->plan_options();
  options.only_employees = request.target_ids();
  options.record_matches = request.record_matches;
  result.plan = state::make_plan(result.desired, result.users, request.links, options);
  result.plan.policy_hash = request.policy_hash;
  policies::warn_lookalike_emails(result.plan, result.users);
}

} // namespace

namespace {

// plan_from's work on a result that already holds the observed users (which
// a pass's cache write may be reading meanwhile: they are not changed).
// Reading Bob has just freed its answer's text and batches, in chunks
// scattered over several threads' malloc arenas: trimming before the desired
// state is built (4 ms at 100,000 employees) consolidates them. Without it,
// the same build took 0.17 s in some passes and up to 0.42 s in others
// (`bench_apply noop 100000`), with twice the CPU for the same work.
void plan_into(PassResult& result,
               std::vector<state::Employee> employees,
               const PassRequest& request) {
  release_free_memory();
  result.desired = policies::build_desired_state(employees, *request.policy, request.now);
  // The employees are not needed any more: free them before the plan adds its
  // own peak, and give the pages back (they were allocated by Bob's parse
  // threads, in malloc arenas this thread would not reuse).
  std::vector<state::Employee>().swap(employees);
  release_free_memory();
  plan_desired(result, request);
}

void plan_into(PassResult& result,
               std::shared_ptr<const std::vector<state::Employee>> employees,
               const PassRequest& request) {
  release_free_memory();
  result.desired = policies::build_desired_state(*employees, *request.policy, request.now);
  result.employees = std::move(employees);
  plan_desired(result, request);
}

} // namespace

PassResult plan_from(std::vector<state::Employee> employees,
                     std::vector<state::DirectoryUser> users,
                     const PassRequest& request) {
  PassResult result;
  result.users = std::move(users);
  plan_into(result, std::move(employees), request);
  return result;
}

PassResult plan_from(std::shared_ptr<const std::vector<state::Employee>> employees,
                     std::vector<state::DirectoryUser> users,
                     const PassRequest& request) {
  PassResult result;
  result.users = std::move(users);
  plan_into(result, std::move(employees), request);
  return result;
}

namespace {

std::optional<std::chrono::system_clock::time_point> parse_iso(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string summary_of(const ReconcileOutcome& o) {
  std::string s;
  auto add = [&s](std::string_view name, int n) {
    if (!s.empty()) {
      s += ' ';
    }
    s.append(name);
    s += '=';
    s += std::to_string(n);
  };
  for (auto action : state::k_all_actions) {
    if (const int n = o.pass.plan.summary.count(action); n > 0) {
      add(to_string(action), n);
    }
  }
  if (o.applied) {
    add("applied", o.applied->succeeded);
    add("failed", o.applied->failed);
    if (o.applied->left_for_next_pass > 0) {
      add("left", o.applied->left_for_next_pass); // JumpCloud asked to wait (429)
    }
  }
  if (o.recovered > 0) {
    add("recovered", o.recovered);
  }
  if (o.applied && o.applied->aborted) {
    s += "; stopped: " + *o.applied->aborted;
  }
  return s.empty() ? "no changes" : s;
}

// Bob: read in full (it has no "changed since"); a targeted pass with a
// baseline re-reads only its targets.
ApiResult<std::vector<state::Employee>>
read_employees(HrSource& hr,
               const std::vector<std::string>& fields,
               const std::vector<state::EmployeeId>& targets,
               const std::shared_ptr<const std::vector<state::Employee>>& baseline) {
  std::vector<state::Employee> employees;
  if (!targets.empty() && baseline) {
    std::vector<std::optional<state::Employee>> fresh;
    for (const auto& id : targets) {
      auto one = hr.get_employee(id, fields);
      if (!one) {
        return Unexpected<ApiError>{one.error()};
      }
      fresh.push_back(std::move(*one)); // nullopt: gone from Bob
    }
    employees.reserve(baseline->size() + targets.size());
    for (const auto& e : *baseline) {
      if (!std::binary_search(targets.begin(), targets.end(), e.id)) {
        employees.push_back(e);
      }
    }
    for (auto& one : fresh) {
      if (one) {
        employees.push_back(std::move(*one));
      }
    }
    return employees;
  }
  auto all = hr.list_employees(fields);
  if (!all) {
    return Unexpected<ApiError>{all.error()};
  }
  employees = std::move(*all);
  if (!targets.empty()) {
    std::set<std::string_view> known;
    for (const auto& e : employees) {
      known.insert(e.id);
    }
    std::string missing;
    for (const auto& id : targets) {
      if (!known.contains(id)) {
        missing += (missing.empty() ? "" : ", ") + id;
      }
    }
    if (!missing.empty()) {
      return Unexpected<ApiError>{ApiError{ErrorKind::not_found,
                                           404,
                                           "Bob has no employee with id " + missing
                                               + " (the search of all employees, active and "
                                                 "inactive, does not return it)",
                                           std::nullopt}};
    }
  }
  return employees;
}

} // namespace

std::vector<state::Link> links_from_attributes(const std::vector<state::DirectoryUser>& users,
                                               const std::vector<state::Link>& stored,
                                               const std::string& attribute) {
  std::vector<state::Link> out;
  if (attribute.empty()) {
    return out;
  }
  // Views into `stored` and `users`, which outlive the sets.
  std::unordered_set<std::string_view> linked_employees;
  std::unordered_set<std::string_view> linked_users;
  linked_employees.reserve(stored.size() + users.size());
  linked_users.reserve(stored.size());
  for (const auto& l : stored) {
    linked_employees.insert(l.employee_id);
    linked_users.insert(l.user_id);
  }
  const auto field = state::attribute_field(attribute);
  for (const auto& u : users) {
    const std::string_view owner = u.get(field);
    if (owner.empty() || linked_employees.contains(owner) || linked_users.contains(u.id)) {
      continue;
    }
    linked_employees.insert(owner);
    // A suspended user found this way was suspended by bobsync as a leaver
    // or by hand: treat it as a leaver so a rehire is re-activated.
    out.push_back({std::string(owner), u.id, u.state == state::UserState::suspended});
  }
  return out;
}

ReconcileOutcome reconcile(HrSource& hr,
                           Directory& directory,
                           state::StateStore& store,
                           Clock& clock,
                           ReconcileRequest request) {
  ReconcileOutcome outcome;
  // The pass holds its snapshot of the policy to the end, whatever a reload
  // does meanwhile.
  const std::shared_ptr<const policies::Policy> snapshot = request.pass.policy;
  const auto& policy = *snapshot;
  const bool apply = request.mode == Mode::apply;
  outcome.run_id = request.apply.run_id;
  // Every audit row of the pass (recovery's included) names the policy.
  request.apply.policy_hash = request.pass.policy_hash;
  state::RunRecord run;
  run.id = request.apply.run_id;
  run.kind = request.kind;
  run.policy_hash = request.pass.policy_hash;
  run.started_at = iso_utc(clock.wall_now());
  if (apply) {
    store.start_run(run);
  }
  auto finish = [&](const std::string& result) {
    if (!apply) {
      return;
    }
    run.finished_at = iso_utc(clock.wall_now());
    run.outcome = result;
    run.summary = outcome.error ? outcome.error->message : summary_of(outcome);
    store.finish_run(run);
  };

  if (apply) {
    auto recovered = recover_journal(directory, store, clock, request.apply);
    if (!recovered) {
      outcome.error = recovered.error();
      finish("failed");
      return outcome;
    }
    outcome.recovered = *recovered;
  }

  // Bob is read while JumpCloud is observed: the two reads are independent,
  // and a pass waits for the slower of them, not for both in turn. Every
  // return below waits for it too (the future's destructor).
  auto bob_read = std::async(
      std::launch::async,
      [&hr,
       fields = policy.bob_fields(),
       targets = request.pass.target_ids(),
       baseline = request.baseline] { return read_employees(hr, fields, targets, baseline); });

  // JumpCloud: a fresh listing, or the cache, listed again when it is old.
  std::vector<state::DirectoryUser> users;
  auto links = store.load_links();
  const auto last = store.last_full_refresh();
  const auto last_time = last ? parse_iso(*last) : std::nullopt;
  const auto wall_now = clock.wall_now();
  const bool list = request.observe == Observe::fresh || request.expected.has_value() || !last_time
                    || wall_now - *last_time >= policy.schedule.full_refresh_interval
                    || outcome.recovered > 0;
  if (list) {
    auto listed = directory.list_users();
    if (!listed) {
      outcome.error = listed.error();
      finish("failed");
      return outcome;
    }
    users = std::move(*listed);
    outcome.refreshed = true;
  } else {
    users = store.load_users();
  }
  // No user at all while employees are linked to users: far likelier a bad
  // read (another organization, a broken API) than a directory emptied by
  // hand, and acting on it would re-create everyone.
  std::optional<std::string> empty_directory;
  if (users.empty() && !links.empty()) {
    empty_directory =
        std::string(list ? "JumpCloud listed no users" : "the JumpCloud cache is empty") + " while "
        + std::to_string(links.size())
        + " employees are linked to JumpCloud users: refusing to plan from it "
          "(--allow-mass-changes does not override this). Check "
          "target.jumpcloud.url, orgId and the API key; if JumpCloud really has "
          "no users any more, start from a new database";
  }
  const bool write_cache = list && apply && !empty_directory;
  auto rebuilt = links_from_attributes(users, links, policy.matching.link_attribute);
  const bool write_links = apply && !rebuilt.empty();
  links.insert(links.end(), rebuilt.begin(), rebuilt.end());
  request.pass.links = std::move(links);
  outcome.pass.users = std::move(users);

  // The cache and the rebuilt links are written while Bob is read and the
  // pass plans (which only read the users in memory); the writes end before
  // anything is applied and before the pass ends (the future's destructor
  // waits too, should anything throw).
  std::future<void> written;
  if (write_cache || write_links) {
    written = std::async(std::launch::async,
                         [&store,
                          &clock,
                          &observed = std::as_const(outcome.pass.users),
                          rebuilt = std::move(rebuilt),
                          refreshed_at = iso_utc(wall_now),
                          apply_options = request.apply,
                          attribute = policy.matching.link_attribute,
                          write_cache,
                          write_links] {
                           if (write_cache) {
                             store.replace_users(observed, refreshed_at);
                           }
                           if (write_links) {
                             store.upsert_links(rebuilt);
                             record_late_creates(rebuilt, store, clock, apply_options, attribute);
                           }
                         });
  }
  // Rethrows what the writes threw (a StoreError: the pass fails as before).
  auto wait_for_writes = [&written] {
    if (written.valid()) {
      written.get();
    }
  };

  auto read = bob_read.get();
  if (!read) {
    wait_for_writes();
    outcome.error = read.error();
    finish("failed");
    return outcome;
  }
  auto employees = std::move(*read);
  if (request.keep_employees) {
    plan_into(outcome.pass,
              std::make_shared<const std::vector<state::Employee>>(std::move(employees)),
              request.pass);
  } else {
    plan_into(outcome.pass, std::move(employees), request.pass);
  }
  wait_for_writes();
  if (empty_directory) {
    outcome.pass.plan.blocked = true;
    outcome.pass.plan.block_reasons.push_back({state::BlockKind::bad_read, *empty_directory});
  }

  if (!apply) {
    return outcome;
  }
  if (request.expected && request.expected->changes != outcome.pass.plan.changes) {
    outcome.stale = true;
    finish("stale");
    return outcome;
  }
  // --allow-mass-changes lifts safety limits, never a bad read.
  if (outcome.pass.plan.blocked
      && !(request.allow_mass_changes && outcome.pass.plan.overridable())) {
    outcome.blocked = true;
    finish("blocked");
    return outcome;
  }
  if (!outcome.pass.plan.empty()) {
    outcome.applied = apply_plan(outcome.pass.plan, directory, store, clock, request.apply);
  }
  finish(outcome.applied && outcome.applied->aborted      ? "failed"
         : outcome.applied && outcome.applied->failed > 0 ? "partial"
                                                          : "converged");
  return outcome;
}

} // namespace bobsync::controller
