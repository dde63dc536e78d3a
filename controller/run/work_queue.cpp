#include "controller/run/work_queue.hpp"

#include <algorithm>

namespace bobsync::controller::run {

WorkQueue::WorkQueue(WorkQueueOptions options)
    : m_options(options) {}

void WorkQueue::set_debounce(std::chrono::milliseconds debounce) {
  const std::lock_guard lock(m_mutex);
  m_options.debounce = debounce;
}

std::chrono::milliseconds WorkQueue::max_delay() const {
  if (m_options.max_delay.count() > 0) {
    return m_options.max_delay;
  }
  return std::max(m_options.debounce * 4, std::chrono::milliseconds(1000));
}

SteadyTime WorkQueue::ready_at(const Entry& e) const {
  const auto debounced = std::min(e.last + m_options.debounce, e.first + max_delay());
  return std::max(debounced, e.not_before);
}

Enqueued WorkQueue::add(const std::string& employee_id, SteadyTime now) {
  const std::lock_guard lock(m_mutex);
  if (m_full_at) {
    return Enqueued::subsumed;
  }
  if (auto it = m_keys.find(employee_id); it != m_keys.end()) {
    it->second.last = now;
    return Enqueued::merged;
  }
  if (m_keys.size() >= m_options.max_keys) {
    m_keys.clear();
    m_full_at = now + m_options.debounce;
    ++m_overflows;
    return Enqueued::overflow;
  }
  m_keys.emplace(employee_id, Entry{now, now, SteadyTime{}, 0});
  return Enqueued::queued;
}

void WorkQueue::retry(const std::string& employee_id, int attempts, SteadyTime not_before) {
  const std::lock_guard lock(m_mutex);
  if (m_full_at) {
    return; // the pending full pass covers it
  }
  if (auto it = m_keys.find(employee_id); it != m_keys.end()) {
    it->second.attempts = std::max(it->second.attempts, attempts);
    it->second.not_before = std::max(it->second.not_before, not_before);
    return;
  }
  if (m_keys.size() >= m_options.max_keys) {
    m_keys.clear();
    m_full_at = not_before;
    ++m_overflows;
    return;
  }
  // Debounce already passed: ready at not_before.
  const auto start = not_before - max_delay();
  m_keys.emplace(employee_id, Entry{start, start, not_before, attempts});
}

void WorkQueue::request_full(SteadyTime at, int attempts) {
  const std::lock_guard lock(m_mutex);
  if (!m_full_at || at < *m_full_at) {
    m_full_at = at;
  }
  m_full_attempts = std::max(m_full_attempts, attempts);
}

std::optional<SteadyTime> WorkQueue::next_ready() const {
  const std::lock_guard lock(m_mutex);
  std::optional<SteadyTime> next = m_full_at;
  for (const auto& [id, entry] : m_keys) {
    const auto at = ready_at(entry);
    if (!next || at < *next) {
      next = at;
    }
  }
  return next;
}

std::optional<WorkBatch> WorkQueue::take(SteadyTime now) {
  const std::lock_guard lock(m_mutex);
  if (m_full_at && *m_full_at <= now) {
    WorkBatch batch;
    batch.full = true;
    batch.full_attempts = m_full_attempts;
    m_full_at.reset();
    m_full_attempts = 0;
    m_keys.clear();
    return batch;
  }
  WorkBatch batch;
  for (auto it = m_keys.begin(); it != m_keys.end();) {
    if (ready_at(it->second) <= now) {
      batch.targets.push_back({it->first, it->second.attempts});
      it = m_keys.erase(it);
    } else {
      ++it;
    }
  }
  if (batch.targets.empty()) {
    return std::nullopt;
  }
  return batch;
}

std::size_t WorkQueue::subsume_targets() {
  const std::lock_guard lock(m_mutex);
  const auto n = m_keys.size();
  m_keys.clear();
  return n;
}

std::size_t WorkQueue::depth() const {
  const std::lock_guard lock(m_mutex);
  return m_keys.size();
}

bool WorkQueue::full_pending() const {
  const std::lock_guard lock(m_mutex);
  return m_full_at.has_value();
}

std::uint64_t WorkQueue::overflows() const {
  const std::lock_guard lock(m_mutex);
  return m_overflows;
}

} // namespace bobsync::controller::run
