#include "sandbox/fault_plan.hpp"

#include <random>
#include <utility>

namespace bobsync::sandbox {

std::string_view to_string(FaultKind kind) {
  switch (kind) {
  case FaultKind::status:
    return "status";
  case FaultKind::reset:
    return "reset";
  case FaultKind::lost_response:
    return "lost_response";
  case FaultKind::applied_then_reset:
    return "applied_then_reset";
  case FaultKind::malformed_json:
    return "malformed_json";
  case FaultKind::truncated_json:
    return "truncated_json";
  case FaultKind::html_200:
    return "html_200";
  case FaultKind::wrong_content_type:
    return "wrong_content_type";
  case FaultKind::delay:
    return "delay";
  }
  return "unknown"; // unreachable
}

std::optional<FaultKind> parse_fault_kind(std::string_view text) {
  for (const auto kind : {FaultKind::status,
                          FaultKind::reset,
                          FaultKind::lost_response,
                          FaultKind::applied_then_reset,
                          FaultKind::malformed_json,
                          FaultKind::truncated_json,
                          FaultKind::html_200,
                          FaultKind::wrong_content_type,
                          FaultKind::delay}) {
    if (to_string(kind) == text) {
      return kind;
    }
  }
  return std::nullopt;
}

void FaultPlan::add(Fault fault) {
  if (fault.times <= 0) {
    return;
  }
  const std::lock_guard lock(m_mutex);
  m_faults.push_back(std::move(fault));
}

void FaultPlan::fail_next(std::string path_prefix,
                          int status,
                          int times,
                          std::optional<std::string> retry_after) {
  Fault fault;
  fault.kind = FaultKind::status;
  fault.path_prefix = std::move(path_prefix);
  fault.status = status;
  fault.times = times;
  fault.retry_after = std::move(retry_after);
  add(std::move(fault));
}

std::optional<Fault> FaultPlan::take(std::string_view method, std::string_view path) {
  if (path.rfind("/_admin", 0) == 0) {
    return std::nullopt;
  }
  const std::lock_guard lock(m_mutex);
  for (auto it = m_faults.begin(); it != m_faults.end(); ++it) {
    if (!it->method.empty() && it->method != method) {
      continue;
    }
    if (path.rfind(it->path_prefix, 0) != 0) {
      continue;
    }
    // A probabilistic fault hits a matching request with that probability
    // (seeded: the same seed gives the same sequence of hits).
    if (it->probability < 1.0
        && std::uniform_real_distribution<double>(0.0, 1.0)(m_random) >= it->probability) {
      continue;
    }
    Fault taken = *it;
    ++m_injected;
    if (--it->times <= 0) {
      m_faults.erase(it);
    }
    return taken;
  }
  return std::nullopt;
}

void FaultPlan::seed(std::uint64_t value) {
  const std::lock_guard lock(m_mutex);
  m_random.seed(value);
}

void FaultPlan::clear() {
  const std::lock_guard lock(m_mutex);
  m_faults.clear();
  m_latency = std::chrono::milliseconds(0);
}

std::size_t FaultPlan::pending() const {
  const std::lock_guard lock(m_mutex);
  std::size_t n = 0;
  for (const auto& f : m_faults) {
    n += static_cast<std::size_t>(f.times);
  }
  return n;
}

std::size_t FaultPlan::injected() const {
  const std::lock_guard lock(m_mutex);
  return m_injected;
}

void FaultPlan::set_latency(std::chrono::milliseconds latency) {
  const std::lock_guard lock(m_mutex);
  m_latency = latency;
}

std::chrono::milliseconds FaultPlan::latency() const {
  const std::lock_guard lock(m_mutex);
  return m_latency;
}

void RequestStats::record(std::string_view method, std::string_view path) {
  LoggedRequest request;
  request.method = method;
  request.path = path;
  record(std::move(request));
}

void RequestStats::record(LoggedRequest request) {
  std::string key = request.method;
  key += ' ';
  key += request.path;
  const std::lock_guard lock(m_mutex);
  ++m_counts[key];
  ++m_total;
  m_log.push_back(std::move(request));
}

std::vector<LoggedRequest> RequestStats::log() const {
  const std::lock_guard lock(m_mutex);
  return m_log;
}

int RequestStats::count(std::string_view method, std::string_view path) const {
  std::string key(method);
  key += ' ';
  key += path;
  const std::lock_guard lock(m_mutex);
  const auto it = m_counts.find(key);
  return it == m_counts.end() ? 0 : it->second;
}

int RequestStats::count_prefix(std::string_view method, std::string_view path_prefix) const {
  std::string key(method);
  key += ' ';
  key += path_prefix;
  const std::lock_guard lock(m_mutex);
  int n = 0;
  for (auto it = m_counts.lower_bound(key); it != m_counts.end() && it->first.rfind(key, 0) == 0;
       ++it) {
    n += it->second;
  }
  return n;
}

int RequestStats::total() const {
  const std::lock_guard lock(m_mutex);
  return m_total;
}

std::map<std::string, int> RequestStats::snapshot() const {
  const std::lock_guard lock(m_mutex);
  return {m_counts.begin(), m_counts.end()};
}

void RequestStats::reset() {
  const std::lock_guard lock(m_mutex);
  m_counts.clear();
  m_log.clear();
  m_total = 0;
}

} // namespace bobsync::sandbox
