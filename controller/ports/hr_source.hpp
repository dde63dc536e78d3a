#pragma once

#include "controller/ports/api_error.hpp"
#include "state/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bobsync::controller {

// The HR system as the reconciler sees it. Implemented by BobHrSource (HTTP).
// Thread-compatible: one caller at a time.
class HrSource {
public:
  virtual ~HrSource() = default;

  // Every employee, active and inactive, with the given Bob fields (dot ids).
  virtual ApiResult<std::vector<state::Employee>>
  list_employees(const std::vector<std::string>& fields) = 0;

  // One employee; nullopt when Bob does not know the id (404).
  virtual ApiResult<std::optional<state::Employee>>
  get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) = 0;
};

} // namespace bobsync::controller
