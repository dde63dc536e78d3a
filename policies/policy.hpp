#pragma once

// The policy file as typed structures. Produced by parse_policy(); every
// value here has been validated. docs/policy.md documents each key.

#include "state/model.hpp"
#include "state/planner.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::policies {

// One step of a mapping's transform chain. A mapping's value is a list of
// strings (one per source); most steps apply to each element, `join` turns the
// list into one string.
struct Transform {
  enum class Kind {
    trim,
    lower,
    upper,
    default_value,        // arg: value used when empty
    replace,              // pattern (RE2 regex) -> replacement ($1 ...)
    lookup,               // table; `arg` is the fallback when `has_fallback`
    join,                 // arg: separator; empty elements are skipped
    normalize_diacritics, // José -> Jose, Straße -> Strasse; other scripts kept
    sanitize_username,    // transliterate to ASCII, lowercase, [a-z0-9._-], starts with a letter
  };
  Kind kind = Kind::trim;
  std::string arg;     // default value / separator / replacement / lookup fallback
  std::string pattern; // replace
  std::map<std::string, std::string> table; // lookup
  bool has_fallback = false; // lookup: use `arg` for unknown keys (else keep the value)
  state::SourceLocation where;
};

// One row of the mapping: JumpCloud field <- Bob field(s) | transforms, mode.
struct Mapping {
  std::string
      target; // JumpCloud field: `jobTitle`, `phoneNumbers[type=work]`, `attributes[name=x]`
  std::vector<std::string> sources; // Bob dot field ids; empty when `constant` is used
  std::optional<std::string> constant;
  std::vector<Transform> transforms;
  state::FieldMode mode = state::FieldMode::always;
  state::SourceLocation where;
};

// A scope condition set: each non-empty list must contain the employee's value
// (case-insensitive); lists are ANDed together.
struct ScopeFilter {
  std::vector<std::string> email_domains;
  std::vector<std::string> sites;
  std::vector<std::string> departments;
  std::vector<std::string> employment_types;
  std::vector<std::string> employee_ids;                  // Bob ids
  std::map<std::string, std::vector<std::string>> fields; // any Bob field -> allowed values

  bool empty() const {
    return email_domains.empty() && sites.empty() && departments.empty() && employment_types.empty()
           && employee_ids.empty() && fields.empty();
  }
};

enum class OutOfScopeAction { ignore, suspend };
enum class LeaverDate { earliest, termination_date, last_day_of_work };

struct Scope {
  ScopeFilter include;              // empty: everybody
  std::vector<ScopeFilter> exclude; // an employee matching any of these is out
  OutOfScopeAction out_of_scope = OutOfScopeAction::ignore;
};

// Which Bob fields drive the lifecycle.
struct LifecycleFields {
  std::string start_date = "work.startDate";
  std::string termination_date = "internal.terminationDate";
  std::string last_day_of_work = "employee.lastDayOfWork";
  std::string status = "internal.status";
  // "hired" here means a future starter: Bob marks them Inactive until a
  // midnight that may fall in another time zone than the one bobsync judges
  // the start date in, so on the start date itself that is no leave signal.
  std::string lifecycle_status = "internal.lifecycleStatus";
  std::string site = "work.site";
  std::string email = "root.email";
  std::string employment_type = "payroll.employment.type";
  std::string department = "work.department";
  std::string display_name = "root.displayName";
};

struct Lifecycle {
  state::StatusBehavior status_behavior = state::StatusBehavior::use_bob_status;
  std::string time_zone = "UTC";                                   // IANA name
  std::map<std::string, std::string, std::less<>> site_time_zones; // Bob site -> IANA name
  int provision_days_before = 0;
  state::UserState early_state = state::UserState::staged; // staged or suspended
  LeaverDate leaver_date = LeaverDate::earliest;
  bool suspend_missing = true; // employee gone from Bob -> suspend
  LifecycleFields fields;
};

struct Matching {
  std::vector<state::MatchRule> rules = {state::MatchRule::employee_identifier,
                                         state::MatchRule::email};
  bool adopt_existing = true;
  std::string link_attribute = "bobEmployeeId";
};

struct Usernames {
  int max_length = 30;
  int suffix_start = 2;
};

struct Safety {
  std::optional<int> max_suspensions = 10;
  std::optional<double> max_suspensions_percent = 5.0;
  // The percentage applies only to plans suspending at least this many
  // users: 2 leavers among 30 are 6.7%, a normal day (see docs/policy.md).
  int min_suspensions_for_percent = 5;
  std::optional<int> max_changes;
  bool block_on_empty_source = true;
  bool block_on_missing_field = true;
};

struct Schedule {
  std::chrono::seconds interval{300};
  std::chrono::seconds full_refresh_interval{3600};
  std::chrono::milliseconds webhook_debounce{300};
};

struct Policy {
  std::string source_name; // file name, for messages
  std::string bob_url = "https://api.hibob.com/v1";
  std::string jumpcloud_url = "https://console.jumpcloud.com/api";
  std::optional<std::string> jumpcloud_org_id;
  int write_concurrency = 4;
  Scope scope;
  std::vector<Mapping> mapping;
  Usernames usernames;
  Lifecycle lifecycle;
  Matching matching;
  Safety safety;
  Schedule schedule;

  // Every Bob field the policy reads (mapping sources, scope fields, lifecycle
  // fields), sorted and unique: the `fields` of Bob's people search.
  std::vector<std::string> bob_fields() const;
  // Bob fields read by the mapping only (for the "absent for everyone" check).
  std::vector<std::string> mapped_bob_fields() const;
  // The planner's options derived from this policy.
  state::PlanOptions plan_options() const;
};

} // namespace bobsync::policies
