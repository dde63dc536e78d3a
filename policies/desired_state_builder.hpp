#pragma once

// Employees + policy + "now" -> desired state. Pure apart from reading the
// system time-zone database (through Howard Hinnant's date library).

#include "policies/policy.hpp"
#include "state/planner.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::policies {

// Evaluates scope, mapping and lifecycle for every employee as of `now`.
// Employees out of scope go to `out_of_scope`. Problems with one employee
// (unparseable dates) become warnings and do not stop the rest. Bob answering
// with nobody, or a mapped field absent for every employee, become
// `block_reasons` when the policy's safety section asks for it.
state::DesiredState build_desired_state(const std::vector<state::Employee>& employees,
                                        const Policy& policy,
                                        std::chrono::system_clock::time_point now);

// The earliest `DesiredUser::next_transition` of all users: the next instant
// (a local midnight) at which somebody's desired phase changes by the
// calendar alone. nullopt when no date ahead changes anything.
std::optional<std::chrono::system_clock::time_point>
next_transition(const state::DesiredState& desired);

// Why one employee gets each field and phase: used by `bobsync explain`.
struct FieldExplanation {
  std::string target;
  std::string sources;    // "root.firstName"
  std::string raw;        // values read from Bob, joined with " | "
  std::string transforms; // "trim | lower"
  std::string result;
  state::FieldMode mode = state::FieldMode::always;
};

struct EmployeeExplanation {
  bool in_scope = false;
  std::string scope_reason;
  std::string local_date; // today in the employee's time zone
  std::string time_zone;
  state::Phase phase = state::Phase::active;
  std::string phase_reason;
  std::vector<FieldExplanation> fields;
};

EmployeeExplanation explain_employee(const state::Employee& employee,
                                     const Policy& policy,
                                     std::chrono::system_clock::time_point now);

} // namespace bobsync::policies
