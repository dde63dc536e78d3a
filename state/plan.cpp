#include "state/plan.hpp"

#include <algorithm>
#include <tuple>

namespace bobsync::state {

std::string_view to_string(Action action) {
  switch (action) {
  case Action::conflict:
    return "conflict";
  case Action::create:
    return "create";
  case Action::update:
    return "update";
  case Action::activate:
    return "activate";
  case Action::suspend:
    return "suspend";
  case Action::defer:
    return "defer";
  }
  return "unknown"; // unreachable
}

std::optional<Action> parse_action(std::string_view text) {
  for (auto action : k_all_actions) {
    if (to_string(action) == text) {
      return action;
    }
  }
  return std::nullopt;
}

const FieldChange* Change::field(std::string_view name) const {
  for (const auto& f : fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

bool Plan::empty() const {
  return std::none_of(changes.begin(), changes.end(), [](const Change& c) {
    return c.action != Action::conflict && c.action != Action::defer;
  });
}

void finalize(Plan& plan) {
  std::sort(plan.changes.begin(), plan.changes.end(), [](const Change& a, const Change& b) {
    return std::tie(a.action, a.employee_id, a.user_id)
           < std::tie(b.action, b.employee_id, b.user_id);
  });
  plan.summary.counts.fill(0);
  for (const auto& change : plan.changes) {
    ++plan.summary.counts.at(static_cast<std::size_t>(change.action));
  }
}

} // namespace bobsync::state
