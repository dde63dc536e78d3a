#include "policies/policy.hpp"

#include <algorithm>

namespace bobsync::policies {
namespace {

// Bob always returns the employee id: it is never requested as a field.
constexpr std::string_view k_bob_id_field = "root.id";

void sort_unique(std::vector<std::string>& fields) {
  fields.erase(std::remove(fields.begin(), fields.end(), k_bob_id_field), fields.end());
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
}

} // namespace

std::vector<std::string> Policy::bob_fields() const {
  std::vector<std::string> fields = mapped_bob_fields();
  auto add_scope_fields = [&](const ScopeFilter& filter) {
    for (const auto& entry : filter.fields) {
      fields.push_back(entry.first);
    }
  };
  add_scope_fields(scope.include);
  for (const auto& filter : scope.exclude) {
    add_scope_fields(filter);
  }
  const auto& lf = lifecycle.fields;
  for (const std::string* field : {&lf.start_date,
                                   &lf.termination_date,
                                   &lf.last_day_of_work,
                                   &lf.status,
                                   &lf.lifecycle_status,
                                   &lf.site,
                                   &lf.email,
                                   &lf.employment_type,
                                   &lf.department,
                                   &lf.display_name}) {
    fields.push_back(*field);
  }
  sort_unique(fields);
  return fields;
}

std::vector<std::string> Policy::mapped_bob_fields() const {
  std::vector<std::string> fields;
  for (const auto& m : mapping) {
    fields.insert(fields.end(), m.sources.begin(), m.sources.end());
  }
  sort_unique(fields);
  return fields;
}

state::PlanOptions Policy::plan_options() const {
  state::PlanOptions options;
  options.status_behavior = lifecycle.status_behavior;
  options.early_state = lifecycle.early_state;
  options.match_rules = matching.rules;
  options.adopt_existing = matching.adopt_existing;
  options.link_attribute = matching.link_attribute;
  options.suspend_missing = lifecycle.suspend_missing;
  options.usernames.max_length = usernames.max_length;
  options.usernames.suffix_start = usernames.suffix_start;
  options.safety.max_suspensions = safety.max_suspensions;
  options.safety.max_suspensions_percent = safety.max_suspensions_percent;
  options.safety.min_suspensions_for_percent = safety.min_suspensions_for_percent;
  options.safety.max_changes = safety.max_changes;
  return options;
}

} // namespace bobsync::policies
