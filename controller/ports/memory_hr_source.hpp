#pragma once

// MemoryHrSource: the HrSource port kept in memory, for tests and dry runs.
// It honours the same contract as BobHrSource against FakeBob
// (tests/integration/hr_source_contract_test.cpp runs one suite against
// both): every employee, with only the requested fields (and their
// `@machine` companions); an unknown id is nullopt.

#include "controller/ports/hr_source.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::controller {

// An in-memory HrSource. Thread-safe (more than the port asks).
class MemoryHrSource final : public HrSource {
public:
  enum class Operation { list, get };

  ApiResult<std::vector<state::Employee>>
  list_employees(const std::vector<std::string>& fields) override; // sorted by id
  ApiResult<std::optional<state::Employee>>
  get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) override;

  // Test set-up: adds or replaces the employee (by id); removes one.
  void put(state::Employee employee);
  void remove(const state::EmployeeId& id);

  // The next `times` calls of `operation` fail with `error`.
  void fail_next(Operation operation, ApiError error, int times = 1);
  int calls(Operation operation) const;

private:
  std::optional<ApiError> take_fault(Operation operation); // mutex held

  mutable std::mutex m_mutex;
  std::map<state::EmployeeId, state::Employee> m_employees;
  std::map<Operation, std::pair<ApiError, int>> m_faults;
  std::map<Operation, int> m_calls;
};

} // namespace bobsync::controller
