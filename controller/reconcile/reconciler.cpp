#include "controller/reconcile/reconciler.hpp"

#include "policies/desired_state_builder.hpp"

namespace bobsync::controller {

PassResult plan_from(std::vector<state::Employee> employees,
                     std::vector<state::DirectoryUser> users,
                     const PassRequest& request) {
  PassResult result;
  result.employees = std::move(employees);
  result.users = std::move(users);
  result.desired = policies::build_desired_state(result.employees, *request.policy, request.now);
  auto options = request.policy->plan_options();
  options.only_employee = request.only_employee;
  result.plan = state::make_plan(result.desired, result.users, request.links, options);
  result.plan.policy_hash = request.policy_hash;
  return result;
}

ApiResult<PassResult> plan_pass(HrSource& hr, Directory& directory, const PassRequest& request) {
  auto employees = hr.list_employees(request.policy->bob_fields());
  if (!employees) {
    return unexpected(employees.error());
  }
  auto users = directory.list_users();
  if (!users) {
    return unexpected(users.error());
  }
  return plan_from(std::move(*employees), std::move(*users), request);
}

} // namespace bobsync::controller
