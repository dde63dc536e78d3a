#pragma once

// One level-triggered pass: read Bob and JumpCloud, build the desired state,
// plan. Applying comes later (the applier).

#include "controller/ports/directory.hpp"
#include "controller/ports/hr_source.hpp"
#include "policies/policy.hpp"
#include "state/planner.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::controller {

struct PassResult {
  std::vector<state::Employee> employees;
  std::vector<state::DirectoryUser> users;
  state::DesiredState desired;
  state::Plan plan;
};

struct PassRequest {
  const policies::Policy* policy = nullptr;
  std::chrono::system_clock::time_point now;
  std::vector<state::Link> links;
  std::string policy_hash;
  std::optional<state::EmployeeId> only_employee;
};

// Reads every employee (with the fields the policy needs) and every JumpCloud
// user, then plans. Fails with the first API error: a plan built on partial
// data is never presented as complete.
ApiResult<PassResult> plan_pass(HrSource& hr, Directory& directory, const PassRequest& request);

// Plans from data already read (cached users, a saved employee list).
PassResult plan_from(std::vector<state::Employee> employees,
                     std::vector<state::DirectoryUser> users,
                     const PassRequest& request);

} // namespace bobsync::controller
