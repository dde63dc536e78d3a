#include "controller/reconcile/applier.hpp"

#include "state/plan_render.hpp"
#include "state/util/ascii.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

namespace bobsync::controller {
namespace {

using state::Action;
using state::Change;
using state::DirectoryUser;

bool writes(const Change& c) {
  switch (c.action) {
  case Action::create:
  case Action::update:
  case Action::activate:
  case Action::suspend:
    return true;
  case Action::conflict:
  case Action::defer:
    return false;
  }
  return false; // unreachable
}

std::string new_value_of(const Change& c, std::string_view field) {
  const auto* f = c.field(field);
  return f != nullptr ? f->new_value : std::string();
}

// A thread-safe map of employees to users created in this run.
class CreatedUsers {
public:
  void add(const std::string& employee, const std::string& user) {
    std::lock_guard lock(m_mutex);
    m_users[employee] = user;
  }
  std::optional<std::string> find(const std::string& employee) const {
    std::lock_guard lock(m_mutex);
    auto it = m_users.find(employee);
    return it == m_users.end() ? std::nullopt : std::optional(it->second);
  }

private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_users;
};

class Applier {
public:
  Applier(Directory& directory, state::StateStore& store, Clock& clock, const ApplyOptions& options)
      : m_directory(directory),
        m_store(store),
        m_clock(clock),
        m_options(options) {}

  ApplyResult run(const state::Plan& plan) {
    std::vector<Change> first;
    std::vector<Change> second;
    for (const auto& c : plan.changes) {
      if (!writes(c)) {
        continue;
      }
      (c.action == Action::create ? first : second).push_back(c);
    }
    m_total = static_cast<int>(first.size() + second.size());
    run_batch(first);
    if (m_aborted.load()) {
      return finish();
    }
    // References to users created above can be resolved now; creates whose
    // references could not be resolved get a follow-up update.
    std::vector<Change> follow_up;
    for (auto& r : m_results) {
      if (!r.ok || r.change.action != Action::create) {
        continue;
      }
      Change update;
      update.action = Action::update;
      update.employee_id = r.change.employee_id;
      update.user_id = r.change.user_id;
      update.email = r.change.email;
      update.username = r.change.username;
      update.reason = "reference to a user created in this run";
      for (const auto& f : m_deferred_fields[r.change.employee_id]) {
        update.fields.push_back(f);
      }
      if (!update.fields.empty()) {
        follow_up.push_back(std::move(update));
      }
    }
    m_total += static_cast<int>(follow_up.size());
    second.insert(second.end(), follow_up.begin(), follow_up.end());
    run_batch(second);
    return finish();
  }

private:
  // The store may hold settles back to commit them together: they are all
  // durable before the result is reported.
  ApplyResult finish() {
    try {
      m_store.flush();
    } catch (const std::exception& e) {
      stop_run(e.what());
    }
    return result();
  }

  ApplyResult result() {
    ApplyResult out;
    out.results = std::move(m_results);
    for (const auto& r : out.results) {
      (r.ok ? out.succeeded : out.failed) += 1;
    }
    out.stopped_unauthorized = m_unauthorized.load();
    out.aborted = m_abort_reason;
    out.stopped_rate_limited = m_rate_limited.load();
    out.left_for_next_pass = m_left.load();
    {
      std::lock_guard lock(m_mutex);
      out.rate_limit_wait = m_rate_limit_wait;
    }
    return out;
  }

  // Stops the run: no worker starts another change.
  void stop_run(std::string reason) {
    std::lock_guard lock(m_mutex);
    if (!m_abort_reason) {
      m_abort_reason = std::move(reason);
    }
    m_aborted.store(true);
  }

  // The result of a change whose recording failed.
  static ChangeResult interrupted(const Change& c, const std::string& what) {
    ChangeResult r;
    r.change = c;
    r.error = "stopped: " + what;
    return r;
  }

  // A worker thread's entry point (the calling thread runs one too): nothing
  // escapes it. Any exception stops the run (stop_run) and is reported in
  // ApplyResult::aborted.
  void work(std::vector<Change>& batch, std::atomic<std::size_t>& next) noexcept {
    try {
      for (std::size_t i = next++; i < batch.size() && !m_aborted.load(); i = next++) {
        if (m_rate_limited.load()) {
          ++m_left; // not started, not journaled: the next pass plans it again
          continue;
        }
        ChangeResult result;
        try {
          result = m_unauthorized.load() ? skipped(batch[i]) : apply_one(batch[i]);
        } catch (const std::exception& e) {
          result = interrupted(batch[i], e.what());
          stop_run(e.what());
        } catch (...) {
          result = interrupted(batch[i], "unknown error");
          stop_run("unknown error");
        }
        std::lock_guard lock(m_mutex);
        m_results.push_back(std::move(result));
        ++m_done;
        if (m_options.on_result) {
          m_options.on_result(m_results.back());
        }
        if (m_options.progress) {
          m_options.progress(m_done, m_total);
        }
      }
    } catch (const std::exception& e) {
      stop_run(e.what());
    } catch (...) {
      stop_run("unknown error");
    }
  }

  void run_batch(std::vector<Change>& batch) {
    std::atomic<std::size_t> next{0};
    auto worker = [&] { work(batch, next); };
    const auto threads =
        std::clamp<std::size_t>(static_cast<std::size_t>(std::max(1, m_options.concurrency)),
                                1,
                                std::max<std::size_t>(1, batch.size()));
    std::vector<std::jthread> pool; // joined on every path
    pool.reserve(threads - 1);
    for (std::size_t t = 1; t < threads; ++t) {
      try {
        pool.emplace_back(worker);
      } catch (const std::system_error&) {
        break; // no more threads: the ones we have do the work
      }
    }
    worker();
    pool.clear();
  }

  ChangeResult skipped(const Change& c) {
    ChangeResult r;
    r.change = c;
    r.error = "skipped: JumpCloud refused the API key earlier in this run";
    r.error_kind = ErrorKind::unauthorized;
    return r;
  }

  // Replaces "bob:<employee id>" references with users created in this run.
  // References that cannot be resolved yet are held back for the follow-up.
  state::FlatMap<std::string> resolve_fields(const Change& c) {
    state::FlatMap<std::string> fields;
    for (const auto& f : c.fields) {
      if (f.new_value.rfind(state::k_employee_ref, 0) == 0) {
        const auto employee = f.new_value.substr(state::k_employee_ref.size());
        if (auto user = m_created.find(employee)) {
          fields.set(f.name, *user);
        } else {
          std::lock_guard lock(m_mutex);
          auto held = f;
          m_deferred_fields[c.employee_id].push_back(std::move(held));
        }
        continue;
      }
      fields.set(f.name, f.new_value);
    }
    return fields;
  }

  void fault(std::string_view point) const {
    if (m_options.fault_point) {
      m_options.fault_point(point);
    }
  }

  ChangeResult apply_one(Change c) {
    ChangeResult result;
    state::JournalEntry intent;
    intent.run_id = m_options.run_id;
    intent.action = c.action;
    intent.employee_id = c.employee_id;
    intent.user_id = c.user_id;
    intent.payload = state::change_to_json(c);
    intent.created_at = iso_utc(m_clock.wall_now());
    const auto journal_id = m_store.add_intent(intent);
    fault("after_intent");

    const auto fields = resolve_fields(c);
    ApiResult<DirectoryUser> outcome = unexpected(ApiError{});
    bool unknown = false; // a create that may have happened: nobody could tell
    if (c.action == Action::create) {
      outcome = create(c, fields, result.recovered, unknown);
    } else {
      outcome = m_directory.update_user(c.user_id, fields, c.target_state);
    }
    fault("after_call");

    if (unknown) {
      // Settling it as failed would be a guess: the user may exist. The
      // intent stays pending; the next run's recovery reads JumpCloud and
      // records what really happened (with its audit row).
      result.error = "the outcome of the create is unknown (" + outcome.error().message
                     + "); left pending for the next run to settle";
      result.error_kind = ErrorKind::unknown_outcome;
      result.change = std::move(c);
      return result;
    }

    state::SettledChange settled;
    settled.journal_id = journal_id;
    settled.audit.time = iso_utc(m_clock.wall_now());
    settled.audit.run_id = m_options.run_id;
    settled.audit.action = c.action;
    settled.audit.employee_id = c.employee_id;
    settled.audit.fields = c.fields;
    settled.audit.policy_hash = m_options.policy_hash;
    if (outcome) {
      c.user_id = outcome->id;
      if (c.action == Action::create) {
        m_created.add(c.employee_id, outcome->id);
      }
      settled.ok = true;
      settled.user = *outcome;
      // A plain update of a linked user keeps its link (and its leaver flag).
      if (c.action != Action::update || c.matched_by != "link") {
        settled.link = state::Link{
            c.employee_id, outcome->id, c.target_state == state::UserState::suspended && c.leaver};
      }
      settled.audit.user_id = outcome->id;
      settled.audit.outcome = result.recovered ? "recovered" : "ok";
      result.ok = true;
    } else {
      settled.ok = false;
      settled.audit.user_id = c.user_id;
      settled.audit.outcome = "failed";
      settled.audit.message = outcome.error().message;
      result.error = outcome.error().message;
      result.error_kind = outcome.error().kind;
      if (outcome.error().kind == ErrorKind::unauthorized) {
        m_unauthorized.store(true);
      }
      if (outcome.error().http_status == 429) {
        // The client has waited what a run waits; JumpCloud still says wait.
        std::lock_guard lock(m_mutex);
        m_rate_limit_wait = outcome.error().retry_after;
        m_rate_limited.store(true);
      }
    }
    m_store.settle(settled);
    fault("after_settle");
    result.change = std::move(c);
    return result;
  }

  // A create is retried only after checking that the previous attempt did
  // not happen after all (lost response, timeout, duplicate).
  // `unknown` is set when a create may have happened and the lookup that
  // should tell failed too.
  ApiResult<DirectoryUser> create(const Change& c,
                                  const state::FlatMap<std::string>& fields,
                                  bool& recovered,
                                  bool& unknown) {
    const auto state = c.target_state.value_or(state::UserState::activated);
    ApiResult<DirectoryUser> last = unexpected(ApiError{});
    for (int attempt = 0; attempt < std::max(1, m_options.max_create_attempts); ++attempt) {
      last = m_directory.create_user(fields, state);
      if (last) {
        return last;
      }
      if (last.error().http_status == 429) {
        return last; // not applied, and JumpCloud asks to wait: stop here
      }
      const auto kind = last.error().kind;
      const bool uncertain = kind == ErrorKind::transient || kind == ErrorKind::unknown_outcome
                             || kind == ErrorKind::conflict || kind == ErrorKind::protocol;
      if (!uncertain) {
        return last;
      }
      auto existing = find_created_user(m_directory, c);
      if (!existing) {
        unknown = true;
        return unexpected(existing.error());
      }
      if (*existing) {
        recovered = true;
        return **existing;
      }
      if (kind == ErrorKind::conflict) {
        return last; // a real duplicate of somebody else
      }
    }
    return last;
  }

  Directory& m_directory;
  state::StateStore& m_store;
  Clock& m_clock;
  const ApplyOptions& m_options;
  CreatedUsers m_created;
  std::mutex m_mutex;
  std::vector<ChangeResult> m_results;
  std::map<std::string, std::vector<state::FieldChange>> m_deferred_fields;
  std::atomic<bool> m_unauthorized{false};
  std::atomic<bool> m_aborted{false};
  std::optional<std::string> m_abort_reason; // guarded by m_mutex
  std::atomic<bool> m_rate_limited{false};
  std::optional<std::chrono::milliseconds> m_rate_limit_wait; // guarded by m_mutex
  std::atomic<int> m_left{0};
  int m_done = 0;
  int m_total = 0;
};

} // namespace

ApiResult<std::optional<DirectoryUser>> find_created_user(Directory& directory,
                                                          const state::Change& create) {
  const auto email = ascii_lower(new_value_of(create, "email"));
  const std::vector<std::pair<std::string_view, std::string>> keys = {
      {"employeeIdentifier", new_value_of(create, "employeeIdentifier")},
      {"email", email},
      {"username", create.username.empty() ? new_value_of(create, "username") : create.username},
  };
  for (const auto& [field, value] : keys) {
    if (value.empty()) {
      continue;
    }
    auto found = directory.find_users(field, value);
    if (!found) {
      return unexpected(found.error());
    }
    std::vector<DirectoryUser> same;
    for (auto& u : *found) {
      if (ascii_lower(u.get("email")) == email) {
        same.push_back(std::move(u));
      }
    }
    if (same.size() == 1) {
      return std::optional<DirectoryUser>(std::move(same.front()));
    }
  }
  return std::optional<DirectoryUser>();
}

ApplyResult apply_plan(const state::Plan& plan,
                       Directory& directory,
                       state::StateStore& store,
                       Clock& clock,
                       const ApplyOptions& options) {
  return Applier(directory, store, clock, options).run(plan);
}

ApiResult<int> recover_journal(Directory& directory,
                               state::StateStore& store,
                               Clock& clock,
                               const ApplyOptions& options) {
  int settled_count = 0;
  for (const auto& entry : store.pending_intents()) {
    state::SettledChange settled;
    settled.journal_id = entry.id;
    settled.audit.time = iso_utc(clock.wall_now());
    settled.audit.run_id = entry.run_id;
    settled.audit.action = entry.action;
    settled.audit.employee_id = entry.employee_id;
    settled.audit.policy_hash = options.policy_hash;
    std::string error;
    const auto change = state::change_from_json(entry.payload, error);
    if (!change) {
      settled.ok = false;
      settled.audit.outcome = "failed";
      settled.audit.message = "journal entry unreadable: " + error;
      store.settle(settled);
      ++settled_count;
      continue;
    }
    settled.audit.fields = change->fields;
    std::optional<DirectoryUser> user;
    if (change->action == Action::create) {
      auto found = find_created_user(directory, *change);
      if (!found) {
        return unexpected(found.error());
      }
      user = *found;
    } else {
      auto got = directory.get_user(change->user_id);
      if (got) {
        user = *got;
      } else if (got.error().kind != ErrorKind::not_found) {
        return unexpected(got.error());
      }
    }
    if (user) {
      // The write may or may not have happened; the cache now holds what
      // JumpCloud has, and the next plan finishes whatever is missing.
      settled.ok = true;
      settled.user = user;
      const bool suspended_leaver = change->target_state == state::UserState::suspended
                                    && change->leaver && user->state == state::UserState::suspended;
      settled.link = state::Link{change->employee_id, user->id, suspended_leaver};
      settled.audit.user_id = user->id;
      settled.audit.outcome = "recovered";
      settled.audit.message = "settled after an interrupted run by reading JumpCloud";
    } else {
      settled.ok = false;
      settled.audit.user_id = change->user_id;
      settled.audit.outcome = "failed";
      settled.audit.message = change->action == Action::create
                                  ? std::string(k_interrupted_create_message)
                                  : "the user no longer exists in JumpCloud";
    }
    store.settle(settled);
    ++settled_count;
  }
  store.flush();
  return settled_count;
}

int record_late_creates(const std::vector<state::Link>& rebuilt,
                        state::StateStore& store,
                        Clock& clock,
                        const ApplyOptions& options,
                        std::string_view attribute) {
  int recorded = 0;
  if (rebuilt.empty()) {
    return recorded;
  }
  // One query for the (few) candidates, not one per rebuilt link: a new
  // database rebuilds a link for every user it finds.
  const auto interrupted = store.employees_last_audited_as(
      Action::create, "failed", std::string(k_interrupted_create_message));
  for (const auto& link : rebuilt) {
    if (!std::binary_search(interrupted.begin(), interrupted.end(), link.employee_id)) {
      continue;
    }
    const auto last = store.audit(link.employee_id, 1);
    state::AuditRecord record;
    record.time = iso_utc(clock.wall_now());
    record.run_id = options.run_id;
    record.action = Action::create;
    record.employee_id = link.employee_id;
    record.user_id = link.user_id;
    record.fields = last.back().fields;
    record.policy_hash = options.policy_hash;
    record.outcome = "recovered";
    record.message = "the create of run " + last.back().run_id
                     + " reached JumpCloud after it was settled as interrupted (its request was "
                       "still in flight); found by its "
                     + std::string(attribute) + " attribute";
    store.append_audit(record);
    ++recorded;
  }
  return recorded;
}

} // namespace bobsync::controller
