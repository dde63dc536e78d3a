#pragma once

// A StateStore test double: forwards to a MemoryStore and throws StoreError
// on the n-th add_intent or settle (1-based; 0: never), on every flush
// (a queued settle whose group commit failed) or on every cache write
// (replace_users), like a database that fails under a running pass. Thread-safe (MemoryStore is;
// the counters are atomic).

#include "state/memory_store.hpp"

#include <atomic>

namespace bobsync::testing {

class FailingStore final : public state::StateStore {
public:
  explicit FailingStore(state::StateStore& inner)
      : m_inner(inner) {}

  void fail_add_intent_at(int n) { m_fail_add_intent_at = n; }
  void fail_settle_at(int n) { m_fail_settle_at = n; }
  void fail_flush() { m_fail_flush = true; }
  void fail_replace_users() { m_fail_replace_users = true; }

  void replace_users(const std::vector<state::DirectoryUser>& users,
                     const std::string& refreshed_at) override {
    if (m_fail_replace_users) {
      throw state::StoreError("replace_users: disk I/O error (injected)");
    }
    m_inner.replace_users(users, refreshed_at);
  }
  void upsert_user(const state::DirectoryUser& user) override { m_inner.upsert_user(user); }
  std::vector<state::DirectoryUser> load_users() const override { return m_inner.load_users(); }
  std::optional<std::string> last_full_refresh() const override {
    return m_inner.last_full_refresh();
  }
  void upsert_link(const state::Link& link) override { m_inner.upsert_link(link); }
  void remove_link(const state::EmployeeId& employee_id) override {
    m_inner.remove_link(employee_id);
  }
  std::vector<state::Link> load_links() const override { return m_inner.load_links(); }
  std::int64_t add_intent(const state::JournalEntry& entry) override {
    if (++m_add_intents == m_fail_add_intent_at) {
      throw state::StoreError("state database test.db: add_intent: disk I/O error");
    }
    return m_inner.add_intent(entry);
  }
  std::vector<state::JournalEntry> pending_intents() const override {
    return m_inner.pending_intents();
  }
  void settle(const state::SettledChange& change) override {
    if (++m_settles == m_fail_settle_at) {
      throw state::StoreError("state database test.db: settle: disk I/O error");
    }
    m_inner.settle(change);
  }
  void flush() override {
    if (m_fail_flush) {
      throw state::StoreError("state database test.db: flush: disk I/O error");
    }
    m_inner.flush();
  }
  void append_audit(const state::AuditRecord& record) override { m_inner.append_audit(record); }
  std::vector<state::AuditRecord> audit(const state::EmployeeId& employee_id,
                                        int limit) const override {
    return m_inner.audit(employee_id, limit);
  }
  std::vector<state::EmployeeId> employees_last_audited_as(
      state::Action action, const std::string& outcome, const std::string& message) const override {
    return m_inner.employees_last_audited_as(action, outcome, message);
  }
  void start_run(const state::RunRecord& run) override { m_inner.start_run(run); }
  void finish_run(const state::RunRecord& run) override { m_inner.finish_run(run); }
  std::vector<state::RunRecord> recent_runs(int limit) const override {
    return m_inner.recent_runs(limit);
  }

private:
  state::StateStore& m_inner;
  std::atomic<int> m_add_intents{0};
  std::atomic<int> m_settles{0};
  std::atomic<int> m_fail_add_intent_at{0};
  std::atomic<int> m_fail_settle_at{0};
  std::atomic<bool> m_fail_flush{false};
  std::atomic<bool> m_fail_replace_users{false};
};

} // namespace bobsync::testing
