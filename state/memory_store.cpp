#include "state/memory_store.hpp"

#include <algorithm>
#include <iterator>
#include <map>

namespace bobsync::state {
namespace {

void require_user_id(const DirectoryUser& user) {
  if (user.id.empty()) {
    throw StoreError("state store: a JumpCloud user without an id cannot be cached");
  }
}

void require_link_ids(const Link& link) {
  if (link.employee_id.empty() || link.user_id.empty()) {
    throw StoreError("state store: a link needs both a Bob id and a JumpCloud id (employee '"
                     + link.employee_id + "', user '" + link.user_id + "')");
  }
}

} // namespace

void MemoryStore::replace_users(const std::vector<DirectoryUser>& users,
                                const std::string& refreshed_at) {
  std::map<UserId, DirectoryUser> fresh;
  for (const auto& user : users) {
    require_user_id(user);
    fresh.insert_or_assign(user.id, user);
  }
  const std::lock_guard lock(m_mutex);
  m_users = std::move(fresh);
  m_last_full_refresh = refreshed_at;
}

void MemoryStore::upsert_user(const DirectoryUser& user) {
  require_user_id(user);
  const std::lock_guard lock(m_mutex);
  m_users.insert_or_assign(user.id, user);
}

std::vector<DirectoryUser> MemoryStore::load_users() const {
  const std::lock_guard lock(m_mutex);
  std::vector<DirectoryUser> users;
  users.reserve(m_users.size());
  for (const auto& [id, user] : m_users) {
    users.push_back(user);
  }
  return users;
}

std::optional<std::string> MemoryStore::last_full_refresh() const {
  const std::lock_guard lock(m_mutex);
  return m_last_full_refresh;
}

void MemoryStore::upsert_link_locked(const Link& link) {
  // Any other employee's link to this user goes: a user has one employee.
  if (auto other = m_link_by_user.find(link.user_id);
      other != m_link_by_user.end() && other->second != link.employee_id) {
    m_links.erase(other->second);
    m_link_by_user.erase(other);
  }
  // The employee's previous user, if it changes, is no longer linked.
  if (auto previous = m_links.find(link.employee_id);
      previous != m_links.end() && previous->second.user_id != link.user_id) {
    m_link_by_user.erase(previous->second.user_id);
  }
  m_links.insert_or_assign(link.employee_id, link);
  m_link_by_user.insert_or_assign(link.user_id, link.employee_id);
}

void MemoryStore::upsert_link(const Link& link) {
  require_link_ids(link);
  const std::lock_guard lock(m_mutex);
  upsert_link_locked(link);
}

void MemoryStore::upsert_links(const std::vector<Link>& links) {
  for (const auto& link : links) {
    require_link_ids(link); // before any is written
  }
  const std::lock_guard lock(m_mutex);
  for (const auto& link : links) {
    upsert_link_locked(link);
  }
}

void MemoryStore::remove_link(const EmployeeId& employee_id) {
  const std::lock_guard lock(m_mutex);
  auto it = m_links.find(employee_id);
  if (it == m_links.end()) {
    return;
  }
  m_link_by_user.erase(it->second.user_id);
  m_links.erase(it);
}

std::vector<Link> MemoryStore::load_links() const {
  const std::lock_guard lock(m_mutex);
  std::vector<Link> links;
  links.reserve(m_links.size());
  for (const auto& [id, link] : m_links) {
    links.push_back(link);
  }
  return links;
}

std::int64_t MemoryStore::add_intent(const JournalEntry& entry) {
  const std::lock_guard lock(m_mutex);
  JournalEntry stored = entry;
  stored.id = m_next_journal_id++;
  stored.state = "pending";
  m_journal.emplace(stored.id, stored);
  return stored.id;
}

std::vector<JournalEntry> MemoryStore::pending_intents() const {
  const std::lock_guard lock(m_mutex);
  std::vector<JournalEntry> pending;
  for (const auto& [id, entry] : m_journal) {
    if (entry.state == "pending") {
      pending.push_back(entry);
    }
  }
  return pending;
}

void MemoryStore::settle(const SettledChange& change) {
  // Validate everything first, then apply: all or nothing.
  if (change.user) {
    require_user_id(*change.user);
  }
  if (change.link) {
    require_link_ids(*change.link);
  }
  const std::lock_guard lock(m_mutex);
  auto entry = m_journal.find(change.journal_id);
  if (entry == m_journal.end()) {
    throw StoreError("state store: settle: no journal entry " + std::to_string(change.journal_id));
  }
  if (entry->second.state != "pending") {
    throw StoreError("state store: settle: journal entry " + std::to_string(change.journal_id)
                     + " is already " + entry->second.state);
  }
  entry->second.state = change.ok ? "done" : "failed";
  if (!change.audit.user_id.empty()) {
    entry->second.user_id = change.audit.user_id;
  }
  if (change.user) {
    m_users.insert_or_assign(change.user->id, *change.user);
  }
  if (change.link) {
    upsert_link_locked(*change.link);
  }
  AuditRecord record = change.audit;
  record.id = static_cast<std::int64_t>(m_audit.size()) + 1;
  m_audit.push_back(std::move(record));
}

void MemoryStore::append_audit(const AuditRecord& record) {
  const std::lock_guard lock(m_mutex);
  AuditRecord stored = record;
  stored.id = static_cast<std::int64_t>(m_audit.size()) + 1;
  m_audit.push_back(std::move(stored));
}

std::vector<AuditRecord> MemoryStore::audit(const EmployeeId& employee_id, int limit) const {
  const std::lock_guard lock(m_mutex);
  std::vector<AuditRecord> newest_first;
  for (auto it = m_audit.rbegin(); it != m_audit.rend(); ++it) {
    if (limit > 0 && newest_first.size() >= static_cast<std::size_t>(limit)) {
      break;
    }
    if (employee_id.empty() || it->employee_id == employee_id) {
      newest_first.push_back(*it);
    }
  }
  return {std::make_move_iterator(newest_first.rbegin()),
          std::make_move_iterator(newest_first.rend())};
}

std::vector<EmployeeId> MemoryStore::employees_last_audited_as(Action action,
                                                               const std::string& outcome,
                                                               const std::string& message) const {
  const std::lock_guard lock(m_mutex);
  std::map<EmployeeId, const AuditRecord*> newest;
  for (const auto& record : m_audit) {
    newest[record.employee_id] = &record; // appended in id order: the last wins
  }
  std::vector<EmployeeId> out;
  for (const auto& [employee, record] : newest) {
    if (record->action == action && record->outcome == outcome && record->message == message) {
      out.push_back(employee);
    }
  }
  return out;
}

void MemoryStore::start_run(const RunRecord& run) {
  const std::lock_guard lock(m_mutex);
  if (std::any_of(
          m_runs.begin(), m_runs.end(), [&](const RunRecord& r) { return r.id == run.id; })) {
    throw StoreError("state store: start_run: run " + run.id + " is already recorded");
  }
  m_runs.push_back(run);
}

void MemoryStore::finish_run(const RunRecord& run) {
  const std::lock_guard lock(m_mutex);
  auto it = std::find_if(
      m_runs.begin(), m_runs.end(), [&](const RunRecord& r) { return r.id == run.id; });
  if (it == m_runs.end()) {
    throw StoreError("state store: finish_run: no run " + run.id);
  }
  *it = run;
}

std::vector<RunRecord> MemoryStore::recent_runs(int limit) const {
  const std::lock_guard lock(m_mutex);
  std::vector<RunRecord> runs;
  for (auto it = m_runs.rbegin(); it != m_runs.rend(); ++it) {
    if (limit > 0 && runs.size() >= static_cast<std::size_t>(limit)) {
      break;
    }
    runs.push_back(*it);
  }
  return runs;
}

} // namespace bobsync::state
