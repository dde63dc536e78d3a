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

std::string_view to_string(BlockKind kind) {
  switch (kind) {
  case BlockKind::bad_read:
    return "badRead";
  case BlockKind::safety_limit:
    return "safetyLimit";
  }
  return "unknown"; // unreachable
}

std::optional<BlockKind> parse_block_kind(std::string_view text) {
  for (auto kind : {BlockKind::bad_read, BlockKind::safety_limit}) {
    if (to_string(kind) == text) {
      return kind;
    }
  }
  return std::nullopt;
}

bool Plan::overridable() const {
  return std::all_of(block_reasons.begin(), block_reasons.end(), [](const BlockReason& r) {
    return r.kind == BlockKind::safety_limit;
  });
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
