#pragma once

// The plan: what one reconcile pass would change in JumpCloud, modelled on
// Terraform's plan (an action per entry, per-field old/new, a display-only
// reason) plus the safety verdict.

#include "state/diagnostic.hpp"
#include "state/model.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::state {

// What happens to one employee's JumpCloud user. Plans are sorted in this
// order. Switches over Action list every enumerator and have no `default:`.
enum class Action {
  conflict, // identity problem: reported, never applied
  create,   // no JumpCloud user yet: create it (`target_state` says how)
  update,   // fields differ
  activate, // set ACTIVATED (plus any field updates)
  suspend,  // set SUSPENDED (plus any field updates)
  defer,    // nothing now; something happens on `date`
};

inline constexpr std::array<Action, 6> k_all_actions = {
    Action::conflict,
    Action::create,
    Action::update,
    Action::activate,
    Action::suspend,
    Action::defer,
};

std::string_view to_string(Action action);
std::optional<Action> parse_action(std::string_view text);

struct FieldChange {
  FieldName name; // interned: a plan of 100,000 changes shares its field names
  std::optional<std::string> old_value; // nullopt: JumpCloud has no value (always for create)
  std::string new_value;                // "" clears the field

  bool operator==(const FieldChange&) const = default;
};

struct Change {
  Action action = Action::update;
  EmployeeId employee_id;
  UserId user_id; // "" for create and for conflicts without a user
  std::string email;
  std::string username;
  std::string reason;                    // display only: the applier must not branch on it
  std::vector<FieldChange> fields;       // sorted by name
  std::optional<UserState> target_state; // create / activate / suspend
  std::string date;                      // defer: YYYY-MM-DD when it happens
  // How the user was found: "link", "attribute", "employeeIdentifier", "email", or "".
  std::string matched_by;
  // suspend: the employee left (termination / gone from Bob), as opposed to
  // being inactive. Recorded with the link so a rehire can be re-activated.
  bool leaver = false;

  const FieldChange* field(std::string_view name) const;
  bool operator==(const Change&) const = default;
};

struct Summary {
  std::array<int, k_all_actions.size()> counts{};
  int unchanged = 0;    // matched users that need nothing (in line)
  int out_of_scope = 0; // employees not managed (scope), left alone
  int not_created = 0;  // inactive or gone employees without a user: nothing to do
  int managed = 0;      // JumpCloud users matched to an employee

  int count(Action action) const { return counts.at(static_cast<std::size_t>(action)); }
  bool operator==(const Summary&) const = default;
};

// How one employee was matched (recorded on request, for `explain`).
struct MatchRecord {
  EmployeeId employee_id;
  UserId user_id; // "" when no user was found
  std::string matched_by;
  std::string conflict;

  bool operator==(const MatchRecord&) const = default;
};

// Why a plan is blocked. A bad read means the data cannot be trusted (Bob
// answered with nobody, with an employee id twice, or without a field for
// everyone): no flag overrides it. A safety limit is a mass change that may
// well be real: --allow-mass-changes applies it after review.
enum class BlockKind { bad_read, safety_limit };

std::string_view to_string(BlockKind kind); // "badRead" | "safetyLimit"
std::optional<BlockKind> parse_block_kind(std::string_view text);

struct BlockReason {
  BlockKind kind = BlockKind::safety_limit;
  std::string message;

  bool operator==(const BlockReason&) const = default;
};

struct Plan {
  std::vector<Change> changes;      // sorted by (action, employee_id, user_id)
  std::vector<MatchRecord> matches; // only with PlanOptions::record_matches
  Summary summary;
  bool blocked = false;
  std::vector<BlockReason> block_reasons; // safety limits exceeded, bad reads
  Diagnostics diagnostics;                // warnings worth showing (e.g. unmanaged manager)
  std::string policy_hash;                // set by the caller

  // True when nothing would be written (conflicts and deferrals write nothing).
  bool empty() const;
  // True when there are writes and nothing blocks them.
  bool applyable() const { return !empty() && !blocked; }
  // True when every block reason is a safety limit (--allow-mass-changes may
  // apply the plan); false when a bad read blocks it.
  bool overridable() const;
  bool operator==(const Plan&) const = default;
};

// Sorts the changes and recomputes the per-action counts.
void finalize(Plan& plan);

} // namespace bobsync::state
