#pragma once

// SqliteStore: the StateStore in one SQLite file (WAL, versioned schema,
// mode 0600), with a lock file so that only one process writes to it at a
// time. SQLiteCpp stays out of this header.

#include "state/store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace bobsync::state {

// How a process uses the database.
enum class OpenMode {
  read_only, // status, history, plan: no lock, no writes, runs beside a writer
  writer,    // apply, run: holds "<resolved path>.lock" for the life of the store
};

// Wall time for the store's own timestamps (a link's updated_at, a settle
// without an audit time). Empty: the system clock.
using WallClock = std::function<std::chrono::system_clock::time_point()>;

// A StateStore on SQLite. Thread-safe: one mutex serializes every operation
// on the single connection, so multi-statement transactions never interleave.
// Every failure is a StoreError naming the database path and the operation.
class SqliteStore final : public StateStore {
public:
  using OpenMode = state::OpenMode;

  // Opens (writer: creates, mode 0600, and migrates) the database at `path`.
  // A writer takes an exclusive lock on "<resolved path>.lock" (symlinks and
  // "..", "." resolved, so every name of the file meets the same lock),
  // records "<pid> <holder>" in it, and throws StoreError "another bobsync
  // process is applying to <path>: held by <holder> (pid N); ..." when
  // another store holds it. `holder` names the command ("bobsync apply",
  // "bobsync run"). read_only takes no lock and throws StoreError when the
  // file does not exist or its schema is not this binary's. ":memory:" opens
  // a private in-memory database (no file, no lock) in either mode. `clock`
  // times what the store stamps itself (the composition root passes the
  // process's one clock; empty: the system clock).
  static std::unique_ptr<SqliteStore> open(const std::string& path,
                                           OpenMode mode,
                                           const std::string& holder = "bobsync",
                                           WallClock clock = {});

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  // Closes the database, then releases the writer lock.
  ~SqliteStore() override;

  // The path given to open().
  const std::string& path() const { return m_path; }
  OpenMode mode() const { return m_mode; }

  // Replaces the cache in one transaction; throws StoreError (and changes
  // nothing) when a user has an empty id.
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
  void upsert_links(const std::vector<Link>& links) override;
  // Removes the employee's link; no-op when there is none.
  void remove_link(const EmployeeId& employee_id) override;
  // Every link, sorted by employee id.
  std::vector<Link> load_links() const override;

  // Group commit (docs/performance.md): intents and settles from several
  // threads share one transaction, and so one fsync.
  //
  // Records a pending intent (the entry's `id` and `state` are ignored) and
  // returns its id (increasing, never reused) once it is durable: the
  // intents and settles queued by other threads meanwhile are committed in
  // the same transaction.
  std::int64_t add_intent(const JournalEntry& entry) override;
  // The intents not yet settled, oldest first.
  std::vector<JournalEntry> pending_intents() const override;
  // In one transaction: marks the pending intent done (ok) or failed with a
  // settled_at time, writes the user and link when given, appends the audit
  // record. Throws StoreError, writing nothing, when the journal entry does
  // not exist or is already settled, or when the user or link is invalid.
  // The settle of an intent this store added is checked, then queued: it is
  // committed with the next intent, by any other operation of the store (so
  // every read sees it), by flush(), or at the latest 200 ms after it was
  // queued (a background thread), and before the store closes. A crash
  // before that leaves the intent pending for recovery (recover_journal),
  // which reads JumpCloud: nothing is lost or done twice.
  void settle(const SettledChange& change) override;
  // Commits the queued settles; throws the StoreError of a queued settle
  // that could not be committed (once).
  void flush() override;
  // Transactions the group commit has committed (for tests and benchmarks).
  std::int64_t group_commits() const;

  // Appends a record (its `id` is assigned, increasing).
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
  SqliteStore(std::string path,
              OpenMode mode,
              int lock_fd,
              std::unique_ptr<SQLite::Database> db,
              WallClock clock);

  // Now as ISO 8601 UTC, from m_clock.
  std::string now_utc() const;

  // Runs `body` under the mutex, turning SQLite and JSON failures into
  // StoreError "state database <path>: <operation>: <what>".
  // Every operation commits the queued intents and settles first.
  template<typename Body> auto guarded(const char* operation, Body&& body) const;

  struct GroupCommit;
  // Commits what is queued, in one transaction (m_mutex held).
  void commit_queued(SQLite::Database& db) const;
  void start_flusher(); // m_group->mutex held

  std::string m_path;
  OpenMode m_mode;
  int m_lock_fd = -1; // -1: no lock held (read_only, ":memory:")
  mutable std::mutex m_mutex;
  std::unique_ptr<SQLite::Database> m_db; // guarded by m_mutex
  WallClock m_clock;
  std::unique_ptr<GroupCommit> m_group; // its own mutex
};

} // namespace bobsync::state
