#pragma once

// The StateStore port: bobsync's memory between passes. Implemented by
// SqliteStore (state/sqlite/) and MemoryStore (tests, dry runs). Failures are
// exceptions (StoreError): a pass that cannot record what it did must stop.
// Implementations are thread-safe: the applier records from several threads.

#include "state/model.hpp"
#include "state/plan.hpp"
#include "state/planner.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace bobsync::state {

class StoreError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One intended write, recorded before the JumpCloud call and settled after.
struct JournalEntry {
  std::int64_t id = 0;
  std::string run_id;
  Action action = Action::update;
  EmployeeId employee_id;
  UserId user_id;                // "" for a create until it is known
  std::string payload;           // the Change as JSON (for settling after a crash)
  std::string created_at;        // ISO 8601 UTC
  std::string state = "pending"; // pending | done | failed

  bool operator==(const JournalEntry&) const = default;
};

// One applied (or failed) change, kept forever.
struct AuditRecord {
  std::int64_t id = 0;
  std::string time; // ISO 8601 UTC
  std::string run_id;
  Action action = Action::update;
  EmployeeId employee_id;
  UserId user_id;
  std::vector<FieldChange> fields; // old and new values
  std::string policy_hash;
  std::string outcome; // "ok" | "failed" | "recovered"
  std::string message; // error text for failures (already redacted)

  bool operator==(const AuditRecord&) const = default;
};

struct RunRecord {
  std::string id;
  std::string started_at;
  std::string finished_at; // "" while running
  std::string kind;        // "plan" | "apply" | "run"
  std::string policy_hash;
  std::string outcome; // "" while running; "converged" | "partial" | "blocked" | "failed"
  std::string summary; // e.g. "create=3 update=2 failed=1"

  bool operator==(const RunRecord&) const = default;
};

// Everything one settled change writes, in one transaction.
struct SettledChange {
  std::int64_t journal_id = 0;
  bool ok = true;
  std::optional<DirectoryUser> user; // write-through to the cache
  std::optional<Link> link;          // new or updated link
  AuditRecord audit;
};

class StateStore {
public:
  virtual ~StateStore() = default;

  // --- observed JumpCloud users (the cache)
  // Replaces the whole cache (a full refresh) and records `refreshed_at`.
  virtual void replace_users(const std::vector<DirectoryUser>& users,
                             const std::string& refreshed_at) = 0;
  virtual void upsert_user(const DirectoryUser& user) = 0;
  virtual std::vector<DirectoryUser> load_users() const = 0; // sorted by id
  // When the last full refresh happened; nullopt when never.
  virtual std::optional<std::string> last_full_refresh() const = 0;

  // --- links Bob id <-> JumpCloud _id (one per employee, one per user)
  virtual void upsert_link(const Link& link) = 0;
  // Many links at once, in order, all or none (a link without both ids
  // throws StoreError and writes nothing).
  virtual void upsert_links(const std::vector<Link>& links) {
    for (const auto& link : links) {
      upsert_link(link);
    }
  }
  virtual void remove_link(const EmployeeId& employee_id) = 0;
  virtual std::vector<Link> load_links() const = 0; // sorted by employee id

  // --- journal of intended writes
  // Records an intent and returns its id.
  virtual std::int64_t add_intent(const JournalEntry& entry) = 0;
  virtual std::vector<JournalEntry> pending_intents() const = 0; // oldest first
  // Settles the journal entry and writes cache, link and audit record
  // atomically.
  virtual void settle(const SettledChange& change) = 0;
  // Makes every settle durable: a store may queue settles to commit many in
  // one transaction (SqliteStore). Throws StoreError when a queued settle
  // could not be committed.
  virtual void flush() {}

  // --- audit log
  virtual void append_audit(const AuditRecord& record) = 0;
  // Newest last; all employees when `employee_id` is empty; at most `limit`
  // records (the newest ones) when limit > 0.
  virtual std::vector<AuditRecord> audit(const EmployeeId& employee_id, int limit) const = 0;
  // The employees whose newest audit row has this action, outcome and
  // message (e.g. creates settled as interrupted), sorted. One query, not
  // one per employee.
  virtual std::vector<EmployeeId> employees_last_audited_as(Action action,
                                                            const std::string& outcome,
                                                            const std::string& message) const = 0;

  // --- runs
  virtual void start_run(const RunRecord& run) = 0;
  virtual void finish_run(const RunRecord& run) = 0;               // by id
  virtual std::vector<RunRecord> recent_runs(int limit) const = 0; // newest first
};

} // namespace bobsync::state
