#include "controller/ports/memory_hr_source.hpp"

#include <algorithm>

namespace bobsync::controller {
namespace {

// The employee with only the requested fields and their `@machine` companions.
state::Employee project(const state::Employee& employee, const std::vector<std::string>& fields) {
  state::Employee out;
  out.id = employee.id;
  for (const auto& [name, value] : employee.fields) {
    auto base = name;
    if (base.ends_with(state::k_machine_suffix)) {
      base.remove_suffix(state::k_machine_suffix.size());
    }
    if (std::find(fields.begin(), fields.end(), base) != fields.end()) {
      out.fields.set(name, value);
    }
  }
  return out;
}

} // namespace

std::optional<ApiError> MemoryHrSource::take_fault(Operation operation) {
  ++m_calls[operation];
  const auto it = m_faults.find(operation);
  if (it == m_faults.end()) {
    return std::nullopt;
  }
  auto error = it->second.first;
  if (--it->second.second <= 0) {
    m_faults.erase(it);
  }
  return error;
}

ApiResult<std::vector<state::Employee>>
MemoryHrSource::list_employees(const std::vector<std::string>& fields) {
  const std::lock_guard lock(m_mutex);
  if (auto fault = take_fault(Operation::list)) {
    return unexpected(*fault);
  }
  std::vector<state::Employee> out;
  out.reserve(m_employees.size());
  for (const auto& [id, employee] : m_employees) {
    out.push_back(project(employee, fields));
  }
  return out;
}

ApiResult<std::optional<state::Employee>>
MemoryHrSource::get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) {
  const std::lock_guard lock(m_mutex);
  if (auto fault = take_fault(Operation::get)) {
    return unexpected(*fault);
  }
  const auto it = m_employees.find(id);
  if (it == m_employees.end()) {
    return std::optional<state::Employee>();
  }
  return std::optional<state::Employee>(project(it->second, fields));
}

void MemoryHrSource::put(state::Employee employee) {
  const std::lock_guard lock(m_mutex);
  auto id = employee.id;
  m_employees[id] = std::move(employee);
}

void MemoryHrSource::remove(const state::EmployeeId& id) {
  const std::lock_guard lock(m_mutex);
  m_employees.erase(id);
}

void MemoryHrSource::fail_next(Operation operation, ApiError error, int times) {
  const std::lock_guard lock(m_mutex);
  m_faults[operation] = {std::move(error), times};
}

int MemoryHrSource::calls(Operation operation) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_calls.find(operation);
  return it == m_calls.end() ? 0 : it->second;
}

} // namespace bobsync::controller
