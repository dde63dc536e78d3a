#pragma once

// MemoryStore: the StateStore kept in memory, for tests and dry runs. It
// honours the same contract as SqliteStore (tests/integration/
// store_contract_test.cpp runs one suite against both) and forgets
// everything when destroyed.

#include "state/store.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::state {

// An in-memory StateStore. Thread-safe: every operation holds one mutex, so
// each call (settle included) is atomic with respect to the others.
class MemoryStore final : public StateStore {
public:
  MemoryStore() = default;

  // Replaces the cache; throws StoreError (and changes nothing) when a user
  // has an empty id.
  void replace_users(const std::vector<DirectoryUser>& users,
                     const std::string& refreshed_at) override;
  // Inserts or replaces one cached user; throws StoreError on an empty id.
  void upsert_user(const DirectoryUser& user) override;
  // Every cached user, sorted by id.
  std::vector<DirectoryUser> load_users() const override;
  // The `refreshed_at` of the last replace_users; nullopt when never.
  std::optional<std::string> last_full_refresh() const override;

  // Inserts or replaces the employee's link and drops any other link to the
  // same user; throws StoreError when either id is empty.
  void upsert_link(const Link& link) override;
  void upsert_links(const std::vector<Link>& links) override; // all or none, as SQLite's
  // Removes the employee's link; no-op when there is none.
  void remove_link(const EmployeeId& employee_id) override;
  // Every link, sorted by employee id.
  std::vector<Link> load_links() const override;

  // Records a pending intent (the entry's `id` and `state` are ignored) and
  // returns its id: 1, 2, 3, ...
  std::int64_t add_intent(const JournalEntry& entry) override;
  // The intents not yet settled, oldest first.
  std::vector<JournalEntry> pending_intents() const override;
  // Settles a pending intent (done when `ok`, else failed) and writes the
  // user, link and audit record, all or nothing. Throws StoreError when the
  // journal entry does not exist or is already settled, or when the user or
  // link is invalid.
  void settle(const SettledChange& change) override;

  // Appends a record (its `id` is assigned: 1, 2, 3, ...).
  void append_audit(const AuditRecord& record) override;
  // Oldest first; only `employee_id`'s records unless it is empty; only the
  // newest `limit` records when limit > 0.
  std::vector<AuditRecord> audit(const EmployeeId& employee_id, int limit) const override;
  std::vector<EmployeeId> employees_last_audited_as(Action action,
                                                    const std::string& outcome,
                                                    const std::string& message) const override;

  // Records a new run; throws StoreError when its id is already recorded.
  void start_run(const RunRecord& run) override;
  // Overwrites the run with the same id; throws StoreError when there is none.
  void finish_run(const RunRecord& run) override;
  // Most recently started first; all when limit <= 0.
  std::vector<RunRecord> recent_runs(int limit) const override;

private:
  void upsert_link_locked(const Link& link);

  mutable std::mutex m_mutex;
  std::map<UserId, DirectoryUser> m_users;
  std::optional<std::string> m_last_full_refresh;
  std::map<EmployeeId, Link> m_links;
  std::map<UserId, EmployeeId> m_link_by_user;
  std::map<std::int64_t, JournalEntry> m_journal;
  std::int64_t m_next_journal_id = 1;
  std::vector<AuditRecord> m_audit;
  std::vector<RunRecord> m_runs; // in start order
};

} // namespace bobsync::state
