#pragma once

// The pure planner: desired state + observed JumpCloud users + stored links
// -> a plan. No I/O, no clock, no randomness: the same input gives the same
// plan, byte for byte.

#include "state/model.hpp"
#include "state/plan.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bobsync::state {

struct NullField {
  std::string bob_field;
  std::vector<std::string> targets; // JumpCloud field names

  bool operator==(const NullField&) const = default;
};

// Everything the desired-state builder found, for every employee Bob returned.
struct DesiredState {
  std::vector<DesiredUser> users;       // in-scope employees, any order
  std::vector<EmployeeId> out_of_scope; // known to Bob, not managed: left alone
  std::size_t source_count = 0;         // employees Bob returned
  // Bad reads (Bob returned nobody, an id twice, a field absent for all).
  std::vector<std::string> block_reasons;
  // Mapped Bob fields null for every employee, with the JumpCloud fields
  // they feed: the plan is blocked if it would change one of those on an
  // existing user (a middle name nobody has is normal; clearing everyone's
  // job title because the service user reads nulls is not).
  std::vector<NullField> null_fields;
  Diagnostics diagnostics;
};

// A stored link Bob id <-> JumpCloud `_id`.
struct Link {
  EmployeeId employee_id;
  UserId user_id;
  bool suspended_as_leaver = false; // bobsync suspended this user because the employee left

  bool operator==(const Link&) const = default;
};

enum class StatusBehavior { use_bob_status, always_activate, always_suspend };
enum class MatchRule { employee_identifier, email };

std::string_view to_string(StatusBehavior behavior);
std::string_view to_string(MatchRule rule);

struct UsernameRules {
  int max_length = 30;
  int suffix_start = 2; // john.smith, john.smith2, john.smith3, ...
};

struct SafetyLimits {
  std::optional<int> max_suspensions;            // per run, count
  std::optional<double> max_suspensions_percent; // per run, of managed users
  int min_suspensions_for_percent = 1;           // the percentage applies from this count on
  std::optional<int> max_changes;                // per run, creates+updates+activates+suspends
};

struct PlanOptions {
  StatusBehavior status_behavior = StatusBehavior::use_bob_status;
  UserState early_state = UserState::staged; // how `staged` employees are created
  std::vector<MatchRule> match_rules = {MatchRule::employee_identifier, MatchRule::email};
  bool adopt_existing = true;                   // match pre-existing users at all
  std::string link_attribute = "bobEmployeeId"; // custom attribute holding the Bob id; "" = none
  bool suspend_missing = true;                  // a linked employee gone from Bob is suspended
  UsernameRules usernames;
  SafetyLimits safety;
  // Plan only these employees (on-demand sync); empty: everybody. The plan is
  // the full plan restricted to them (matching, conflicts and usernames see
  // everybody); safety percentages still use the whole population.
  std::vector<EmployeeId> only_employees;
  // Fill Plan::matches (for `explain`).
  bool record_matches = false;
};

// Contract:
// - JumpCloud users that no employee maps to are never touched.
// - An employee is matched to a user by stored link, then by the link
//   attribute, then by `match_rules` in order; the first hit wins.
// - Identity problems (duplicate emails or employee ids among employees, one
//   user claimed by two employees, a desired email already held by another
//   user, no email for a new user) become `conflict` entries; the rest of the
//   plan is unaffected.
// - Usernames of new users are made unique against every observed user and
//   every other desired user with a suffix ladder; existing usernames are only
//   changed if the username field's mode is `always`.
// - Safety limits mark the plan blocked, with reasons.
Plan make_plan(const DesiredState& desired,
               const std::vector<DirectoryUser>& observed,
               const std::vector<Link>& links,
               const PlanOptions& options);

} // namespace bobsync::state
