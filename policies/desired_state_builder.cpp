#include "policies/desired_state_builder.hpp"

#include "policies/transforms.hpp"
#include "state/util/ascii.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace bobsync::policies {
namespace {

using state::Employee;
using state::Phase;

// Longest field value bobsync writes. JumpCloud declares 1024 characters for
// most string fields; anything past this bound is bad data (or an attack),
// not a name: the employee gets no write and the value is not echoed.
constexpr std::size_t k_max_value_bytes = 4096;

// A value quoted in a message: at most 64 bytes, with the length when cut.
std::string shown(std::string_view value) {
  constexpr std::size_t k_shown = 64;
  if (value.size() <= k_shown) {
    return std::string(value);
  }
  return std::string(value.substr(0, k_shown)) + "... (" + std::to_string(value.size()) + " bytes)";
}

// The machine value of a field: Bob's human-readable form of a date follows
// the company's display format, so dates and statuses are read raw.
std::string_view raw_value(const Employee& employee, std::string_view field_id) {
  constexpr std::string_view k_suffix = state::k_machine_suffix;
  char buffer[128]; // field ids are short: no allocation per lookup
  std::string long_key;
  std::string_view key;
  if (field_id.size() + k_suffix.size() <= sizeof buffer) {
    field_id.copy(buffer, field_id.size());
    k_suffix.copy(buffer + field_id.size(), k_suffix.size());
    key = {buffer, field_id.size() + k_suffix.size()};
  } else {
    long_key.assign(field_id);
    long_key += k_suffix;
    key = long_key;
  }
  const auto* machine = employee.fields.find(key);
  return machine != nullptr ? std::string_view(*machine) : employee.get(field_id);
}

bool contains_ci(const std::vector<std::string>& values, std::string_view value) {
  return std::any_of(values.begin(), values.end(), [&](const std::string& v) {
    return ascii_iequals(trim_view(v), trim_view(value));
  });
}

std::string_view email_domain(std::string_view email) {
  const auto at = email.rfind('@');
  return at == std::string_view::npos ? std::string_view() : email.substr(at + 1);
}

// Every non-empty list of the filter holds the employee's value.
bool matches(const ScopeFilter& filter, const Employee& e, const LifecycleFields& f) {
  if (!filter.email_domains.empty()
      && !contains_ci(filter.email_domains, email_domain(trim_view(e.get(f.email))))) {
    return false;
  }
  if (!filter.sites.empty() && !contains_ci(filter.sites, e.get(f.site))) {
    return false;
  }
  if (!filter.departments.empty() && !contains_ci(filter.departments, e.get(f.department))) {
    return false;
  }
  if (!filter.employment_types.empty()
      && !contains_ci(filter.employment_types, e.get(f.employment_type))) {
    return false;
  }
  if (!filter.employee_ids.empty()
      && std::find(filter.employee_ids.begin(), filter.employee_ids.end(), e.id)
             == filter.employee_ids.end()) {
    return false;
  }
  for (const auto& [field, values] : filter.fields) {
    if (!contains_ci(values, e.get(field)) && !contains_ci(values, raw_value(e, field))) {
      return false;
    }
  }
  return true;
}

struct ScopeVerdict {
  bool in_scope = true;
  bool included = true;               // false: scope.include does not match
  std::optional<std::size_t> exclude; // the scope.exclude entry that matches
  bool has_include = false;
  bool email_undecided = false; // no email, and only scope.include.emailDomains would decide

  // Worded only when asked: most employees are simply in scope.
  std::string reason() const {
    if (!included) {
      return "does not match scope.include";
    }
    if (exclude) {
      return "matches scope.exclude[" + std::to_string(*exclude) + "]";
    }
    return has_include ? "matches scope.include" : "no scope.include: everybody is in scope";
  }
};

ScopeVerdict evaluate_scope(const Employee& e, const Policy& policy) {
  const auto& f = policy.lifecycle.fields;
  ScopeVerdict verdict;
  verdict.has_include = !policy.scope.include.empty();
  if (verdict.has_include && !matches(policy.scope.include, e, f)) {
    // Without an email the domain cannot decide: such an employee is
    // reported (a conflict), not silently left out.
    bool undecided = false;
    if (!policy.scope.include.email_domains.empty() && trim_view(e.get(f.email)).empty()) {
      auto rest = policy.scope.include;
      rest.email_domains.clear();
      undecided = matches(rest, e, f);
    }
    if (!undecided) {
      verdict.in_scope = verdict.included = false;
      return verdict;
    }
    verdict.email_undecided = true;
  }
  for (std::size_t i = 0; i < policy.scope.exclude.size(); ++i) {
    if (matches(policy.scope.exclude[i], e, f)) {
      verdict.in_scope = false;
      verdict.exclude = i;
      return verdict;
    }
  }
  return verdict;
}

// Parses Bob's machine date (YYYY-MM-DD, possibly followed by a time) or a
// DD/MM/YYYY display date. nullopt when it is neither.
std::optional<date::year_month_day> parse_date(std::string_view text) {
  text = text.substr(0, std::min<std::size_t>(text.size(), 10));
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  std::optional<int> y;
  std::optional<int> m;
  std::optional<int> d;
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    y = digits(0, 4);
    m = digits(5, 2);
    d = digits(8, 2);
  } else if (text.size() == 10 && text[2] == '/' && text[5] == '/') {
    d = digits(0, 2);
    m = digits(3, 2);
    y = digits(6, 4);
  }
  if (!y || !m || !d) {
    return std::nullopt;
  }
  const date::year_month_day ymd{
      date::year{*y}, date::month{static_cast<unsigned>(*m)}, date::day{static_cast<unsigned>(*d)}};
  return ymd.ok() ? std::optional(ymd) : std::nullopt;
}

// YYYY-MM-DD (years 0-9999, as Bob's dates are).
std::string to_iso(date::year_month_day ymd) {
  const int y = static_cast<int>(ymd.year());
  const auto m = static_cast<unsigned>(ymd.month());
  const auto d = static_cast<unsigned>(ymd.day());
  std::string out = "0000-00-00";
  auto put = [&](std::size_t at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<unsigned>(std::clamp(y, 0, 9999)), 4);
  put(5, m, 2);
  put(8, d, 2);
  return out;
}

date::year_month_day add_days(date::year_month_day ymd, int n) {
  return date::year_month_day{date::sys_days(ymd) + date::days{n}};
}

// A zone and the local date of `now` in it.
struct ZoneDay {
  const date::time_zone* zone = nullptr;
  date::year_month_day today;
};

// The local date of `now` in each IANA zone, worked out once per build.
class LocalDays {
public:
  explicit LocalDays(std::chrono::system_clock::time_point now)
      : m_now(now) {}

  // nullopt when the zone is unknown on this system.
  std::optional<ZoneDay> today(const std::string& zone_name) {
    auto it = m_days.find(zone_name);
    if (it == m_days.end()) {
      it = m_days.emplace(zone_name, compute(zone_name)).first;
    }
    return it->second;
  }

private:
  std::optional<ZoneDay> compute(const std::string& zone_name) const {
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(zone_name);
    } catch (const std::runtime_error&) {
      return std::nullopt;
    }
    const auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(m_now));
    return ZoneDay{zone, date::year_month_day{date::floor<date::days>(local)}};
  }

  std::chrono::system_clock::time_point m_now;
  std::unordered_map<std::string, std::optional<ZoneDay>> m_days;
};

struct LocalDay {
  date::year_month_day today;
  const std::string* zone_name; // into the policy
  const date::time_zone* zone;  // the zone used: UTC when `zone_name` is unknown
};

LocalDay local_today(const Employee& e,
                     const Policy& policy,
                     LocalDays& days,
                     state::Diagnostics& diagnostics) {
  const std::string* name = &policy.lifecycle.time_zone;
  const auto site = trim_view(e.get(policy.lifecycle.fields.site));
  if (auto it = policy.lifecycle.site_time_zones.find(site);
      !site.empty() && it != policy.lifecycle.site_time_zones.end()) {
    name = &it->second;
  }
  if (const auto day = days.today(*name)) {
    return {day->today, name, day->zone};
  }
  diagnostics.push_back(
      {state::Severity::warning,
       "time zone '" + *name + "' is unknown on this system; using UTC for employee " + e.id,
       {}});
  static const std::string k_utc = "UTC";
  const auto utc = days.today(k_utc).value();
  return {utc.today, name, utc.zone};
}

struct PhaseVerdict {
  Phase phase = Phase::active;
  std::string reason;
  bool hold_state = false; // unknown Bob status: neither suspend nor activate
};

std::optional<date::year_month_day>
read_date(const Employee& e, const std::string& field, state::Diagnostics& diagnostics) {
  const auto text = trim_view(raw_value(e, field));
  if (text.empty()) {
    return std::nullopt;
  }
  auto parsed = parse_date(text);
  if (!parsed) {
    diagnostics.push_back({state::Severity::warning,
                           "employee " + e.id + ": " + field + " '" + shown(text)
                               + "' is not a date (expected YYYY-MM-DD); ignored",
                           {}});
  }
  return parsed;
}

// The lifecycle dates of one employee, read once.
struct LifecycleDates {
  std::optional<date::year_month_day> start;
  std::optional<date::year_month_day> leave; // the policy's leaver date; none for a rehire
  std::string leave_what;
};

LifecycleDates
read_dates(const Employee& e, const Policy& policy, state::Diagnostics& diagnostics) {
  const auto& lc = policy.lifecycle;
  LifecycleDates out;
  out.start = read_date(e, lc.fields.start_date, diagnostics);
  const auto termination = read_date(e, lc.fields.termination_date, diagnostics);
  const auto last_day = read_date(e, lc.fields.last_day_of_work, diagnostics);
  auto consider = [&](const std::optional<date::year_month_day>& d, const char* what) {
    if (d && (!out.leave || *d < *out.leave)) {
      out.leave = d;
      out.leave_what = what;
    }
  };
  switch (lc.leaver_date) {
  case LeaverDate::earliest:
    consider(termination, "termination date");
    consider(last_day, "last day of work");
    break;
  case LeaverDate::termination_date:
    consider(termination, "termination date");
    break;
  case LeaverDate::last_day_of_work:
    consider(last_day, "last day of work");
    break;
  }
  // A start date after the leave date is a rehire: the termination belongs to
  // the earlier employment.
  if (out.leave && out.start && *out.start > *out.leave) {
    out.leave.reset();
  }
  return out;
}

PhaseVerdict phase_on(const Employee& e,
                      const Policy& policy,
                      const LifecycleDates& dates,
                      date::year_month_day today) {
  const auto& lc = policy.lifecycle;
  const auto& start = dates.start;
  const auto& leave = dates.leave;
  if (leave && today >= *leave) {
    return {Phase::leaver, dates.leave_what + " " + to_iso(*leave) + " reached", false};
  }
  const std::string leaving =
      leave ? "; leaves on " + to_iso(*leave) + " (" + dates.leave_what + ")" : std::string();
  if (start && today < *start) {
    const auto window = add_days(*start, -lc.provision_days_before);
    if (lc.provision_days_before > 0 && today >= window) {
      return {Phase::staged,
              "starts on " + to_iso(*start) + "; provisioned "
                  + std::to_string(lc.provision_days_before) + " days early" + leaving,
              false};
    }
    std::string reason = "starts on " + to_iso(*start);
    if (lc.provision_days_before > 0) {
      reason += "; created " + std::to_string(lc.provision_days_before) + " days before, on "
                + to_iso(window);
    }
    return {Phase::pending, reason + leaving, false};
  }
  const std::string started = start ? "started on " + to_iso(*start) : "no start date";
  if (lc.status_behavior == state::StatusBehavior::use_bob_status) {
    const auto status = trim_view(raw_value(e, lc.fields.status));
    const auto lifecycle = trim_view(raw_value(e, lc.fields.lifecycle_status));
    const bool starting = start && ascii_iequals(lifecycle, "hired");
    if (!status.empty() && !ascii_iequals(status, "active") && !starting) {
      if (!ascii_iequals(status, "inactive")) {
        // Bob's statuses are Active and Inactive: anything else is not a
        // reason to suspend or activate anybody.
        return {Phase::inactive,
                "Bob status '" + shown(status) + "' is unknown; the state is left as it is"
                    + leaving,
                true};
      }
      return {Phase::inactive, "Bob status is " + std::string(status) + leaving, false};
    }
  }
  return {Phase::active, started + leaving, false};
}

PhaseVerdict evaluate_phase(const Employee& e,
                            const Policy& policy,
                            date::year_month_day today,
                            state::Diagnostics& diagnostics) {
  return phase_on(e, policy, read_dates(e, policy, diagnostics), today);
}

// Local midnight at the start of `day` in `zone` (the first instant of the
// day when a DST change skips midnight).
std::chrono::system_clock::time_point local_midnight(const date::time_zone& zone,
                                                     date::year_month_day day) {
  const auto sys = zone.to_sys(date::local_days{day}, date::choose::earliest);
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(sys);
}

// The earliest date after `today` on which the phase differs from `current`.
std::optional<std::chrono::system_clock::time_point>
next_phase_change(const Employee& e,
                  const Policy& policy,
                  const LifecycleDates& dates,
                  date::year_month_day today,
                  Phase current,
                  const date::time_zone& zone) {
  std::vector<date::year_month_day> candidates;
  if (dates.start) {
    candidates.push_back(*dates.start);
    if (policy.lifecycle.provision_days_before > 0) {
      candidates.push_back(add_days(*dates.start, -policy.lifecycle.provision_days_before));
    }
  }
  if (dates.leave) {
    candidates.push_back(*dates.leave);
  }
  std::sort(candidates.begin(), candidates.end());
  for (const auto& day : candidates) {
    if (day > today && phase_on(e, policy, dates, day).phase != current) {
      return local_midnight(zone, day);
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::sys_days> as_sys(const std::optional<date::year_month_day>& d) {
  if (!d) {
    return std::nullopt;
  }
  return std::chrono::sys_days(date::sys_days(*d).time_since_epoch());
}

std::string describe_chain(const Mapping& m) {
  std::string out;
  for (const auto& t : m.transforms) {
    if (!out.empty()) {
      out += " | ";
    }
    switch (t.kind) {
    case Transform::Kind::trim:
      out += "trim";
      break;
    case Transform::Kind::lower:
      out += "lower";
      break;
    case Transform::Kind::upper:
      out += "upper";
      break;
    case Transform::Kind::default_value:
      out += "default(" + t.arg + ")";
      break;
    case Transform::Kind::replace:
      out += "replace(" + t.pattern + " -> " + t.arg + ")";
      break;
    case Transform::Kind::lookup:
      out += "lookup";
      break;
    case Transform::Kind::join:
      out += "join('" + t.arg + "')";
      break;
    case Transform::Kind::normalize_diacritics:
      out += "normalizeDiacritics";
      break;
    case Transform::Kind::sanitize_username:
      out += "sanitizeUsername";
      break;
    }
  }
  return out;
}

std::string describe_sources(const Mapping& m) {
  if (m.constant) {
    return "\"" + *m.constant + "\"";
  }
  std::string out;
  for (const auto& s : m.sources) {
    out += (out.empty() ? "" : " + ") + s;
  }
  return out;
}

std::vector<std::string> read_sources(const Mapping& m, const Employee& e) {
  std::vector<std::string> values;
  if (m.constant) {
    values.push_back(*m.constant);
    return values;
  }
  values.reserve(m.sources.size());
  for (const auto& s : m.sources) {
    values.emplace_back(e.get(s));
  }
  return values;
}

// The policy's mappings in the order of their targets, so that each user's
// fields are appended to its sorted map rather than inserted in the middle.
std::vector<const Mapping*> mappings_by_target(const Policy& policy) {
  std::vector<const Mapping*> out;
  out.reserve(policy.mapping.size());
  for (const auto& m : policy.mapping) {
    out.push_back(&m);
  }
  std::stable_sort(out.begin(), out.end(), [](const Mapping* a, const Mapping* b) {
    return a->target < b->target;
  });
  return out;
}

std::string mapped_value(const Mapping& m, const Employee& e, const Policy& policy) {
  if (m.target == "manager") {
    // Bob gives the manager's employee id (its display value is a name);
    // the planner turns it into the manager's JumpCloud _id.
    std::vector<std::string> ids;
    for (const auto& s : m.sources) {
      ids.emplace_back(raw_value(e, s));
    }
    const auto id = apply_transforms(std::move(ids), m.transforms, policy.usernames);
    return id.empty() ? std::string() : std::string(state::k_employee_ref) + id;
  }
  if (m.constant) {
    return apply_transforms(*m.constant, m.transforms, policy.usernames);
  }
  if (m.sources.size() == 1) {
    return apply_transforms(std::string(e.get(m.sources.front())), m.transforms, policy.usernames);
  }
  return apply_transforms(read_sources(m, e), m.transforms, policy.usernames);
}

state::DesiredUser build_user(const Employee& e,
                              const Policy& policy,
                              const std::vector<const Mapping*>& mappings,
                              PhaseVerdict phase) {
  state::DesiredUser user;
  user.employee_id = e.id;
  user.hold_state = phase.hold_state;
  user.display_name = std::string(e.get(policy.lifecycle.fields.display_name));
  user.phase = phase.phase;
  user.phase_reason = std::move(phase.reason);
  user.fields.reserve(mappings.size());
  for (const auto* m : mappings) {
    user.fields.set(m->target, {mapped_value(*m, e, policy), m->mode});
  }
  return user;
}

// Values bobsync will not write: one over the length bound (the value is
// dropped, not echoed), or no email while the scope is decided by email
// domain. The employee becomes a conflict; the others are unaffected.
void refuse_if_bad(const Employee& e,
                   const ScopeVerdict& scope,
                   state::DesiredUser& user,
                   state::Diagnostics& diagnostics) {
  std::string refusal;
  for (const auto& [name, field] : user.fields.entries()) {
    if (field.value.size() > k_max_value_bytes) {
      if (refusal.empty()) {
        refusal = std::string(name) + " from Bob is " + std::to_string(field.value.size())
                  + " bytes long, over the limit of " + std::to_string(k_max_value_bytes)
                  + " bytes: nothing is written for this employee until it is fixed in Bob";
      }
    }
  }
  if (!refusal.empty()) {
    for (const auto& entry : user.fields.entries()) {
      if (entry.second.value.size() > k_max_value_bytes) {
        user.fields.set(entry.first, {std::string(), entry.second.mode});
      }
    }
  }
  if (user.display_name.size() > k_max_value_bytes) {
    user.display_name = shown(user.display_name);
  }
  if (refusal.empty() && scope.email_undecided) {
    refusal = "no email in Bob: scope.include.emailDomains cannot tell whether this employee is "
              "managed; nothing is written for it until Bob has an email";
  }
  if (!refusal.empty()) {
    diagnostics.push_back({state::Severity::warning, "employee " + e.id + ": " + refusal, {}});
    user.refusal = std::move(refusal);
  }
}

// The desired user of each employee into `users` (same positions; an
// employee out of scope and ignored leaves its slot empty and goes to
// `out.out_of_scope` with `filled` 0).
void build_range(std::span<const Employee> employees,
                 const Policy& policy,
                 const std::vector<const Mapping*>& mappings,
                 std::chrono::system_clock::time_point now,
                 std::span<state::DesiredUser> users,
                 std::span<char> filled,
                 state::DesiredState& out) {
  LocalDays days(now);
  for (std::size_t i = 0; i < employees.size(); ++i) {
    const auto& e = employees[i];
    const auto scope = evaluate_scope(e, policy);
    if (!scope.in_scope && policy.scope.out_of_scope == OutOfScopeAction::ignore) {
      out.out_of_scope.push_back(e.id);
      continue;
    }
    const auto day = local_today(e, policy, days, out.diagnostics);
    const auto dates = read_dates(e, policy, out.diagnostics);
    auto phase = phase_on(e, policy, dates, day.today);
    if (!scope.in_scope) {
      phase = {Phase::leaver, "out of scope (" + scope.reason() + ")", false};
    }
    if (phase.hold_state) {
      out.diagnostics.push_back(
          {state::Severity::warning,
           "employee " + e.id + ": Bob status '"
               + shown(raw_value(e, policy.lifecycle.fields.status))
               + "' is unknown (expected Active or Inactive); the JumpCloud user's state is left "
                 "as it is and no user is created",
           {}});
    }
    const Phase current = phase.phase;
    auto& user = users[i];
    user = build_user(e, policy, mappings, std::move(phase));
    user.start_date = as_sys(dates.start);
    if (dates.start) {
      user.provision_date = as_sys(add_days(*dates.start, -policy.lifecycle.provision_days_before));
    }
    user.leave_date = as_sys(dates.leave);
    user.time_zone = day.zone->name();
    if (scope.in_scope) {
      user.next_transition = next_phase_change(e, policy, dates, day.today, current, *day.zone);
    }
    refuse_if_bad(e, scope, user, out.diagnostics);
    filled[i] = 1;
  }
}

// Employees are independent of each other: large populations are built in
// a few slices at once, then joined in order (the result is the same as
// one pass).
constexpr std::size_t k_slice_min = 5000;
constexpr unsigned k_slices_max = 4;

// Bob answering with one employee id twice is a bad read: one record
// displaced another, and acting on it could suspend an active employee.
void check_duplicate_ids(const std::vector<Employee>& employees, state::DesiredState& desired) {
  std::vector<std::string_view> ids;
  ids.reserve(employees.size());
  for (const auto& e : employees) {
    ids.emplace_back(e.id);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::string_view> repeated;
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] == ids[i - 1] && (repeated.empty() || repeated.back() != ids[i])) {
      repeated.push_back(ids[i]);
    }
  }
  if (repeated.empty()) {
    return;
  }
  constexpr std::size_t k_named = 10;
  std::string names;
  for (std::size_t i = 0; i < repeated.size() && i < k_named; ++i) {
    names += (names.empty() ? "" : ", ") + std::string(shown(repeated[i]));
  }
  if (repeated.size() > k_named) {
    names += " and " + std::to_string(repeated.size() - k_named) + " more";
  }
  desired.block_reasons.push_back(
      "Bob returned the same employee id more than once (" + names
      + "): the answer cannot be trusted, nothing is applied. Retry later; if it persists, report "
        "it to HiBob.");
}

// A field is absent when neither its value nor its machine form was sent.
bool has_field(const Employee& e, const std::string& field) {
  return e.fields.contains(field)
         || e.fields.contains(field + std::string(state::k_machine_suffix));
}

// Fields hidden from the service user: Bob omits them for everybody (absent)
// or, for some permission setups, sends null for everybody.
void check_fields(const std::vector<Employee>& employees,
                  const Policy& policy,
                  state::DesiredState& desired) {
  auto absent_for_all = [&](const std::string& field, const std::string& why) {
    const std::string message =
        "Bob field '" + field + "' (" + why
        + ") is absent for every employee: Bob silently omits fields the service user may not "
          "see. Grant the service user access to it, or remove it from the policy.";
    if (policy.safety.block_on_missing_field) {
      desired.block_reasons.push_back(message);
    } else {
      desired.diagnostics.push_back({state::Severity::warning, message, {}});
    }
  };
  std::set<std::string> checked;
  for (const auto& field : policy.mapped_bob_fields()) {
    checked.insert(field);
    bool present = false;
    bool valued = false;
    for (const auto& e : employees) {
      if (const auto* value = e.fields.find(field)) {
        present = true;
        if (!value->empty()) {
          valued = true;
          break;
        }
      }
    }
    if (!present) {
      absent_for_all(field, "mapped");
      continue;
    }
    if (!valued) {
      state::NullField null_field{field, {}};
      for (const auto& m : policy.mapping) {
        if (std::find(m.sources.begin(), m.sources.end(), field) != m.sources.end()) {
          null_field.targets.push_back(m.target);
        }
      }
      std::sort(null_field.targets.begin(), null_field.targets.end());
      null_field.targets.erase(std::unique(null_field.targets.begin(), null_field.targets.end()),
                               null_field.targets.end());
      desired.null_fields.push_back(std::move(null_field));
    }
  }
  // The lifecycle fields the policy reads. Null for everyone is normal (no
  // termination dates: nobody left); absent for everyone is a hidden field,
  // and reading it as "no date" would recreate past leavers.
  const auto& lc = policy.lifecycle;
  std::vector<std::pair<std::string, std::string>> lifecycle = {
      {lc.fields.start_date, "start date"}};
  switch (lc.leaver_date) {
  case LeaverDate::earliest:
    lifecycle.emplace_back(lc.fields.termination_date, "termination date");
    lifecycle.emplace_back(lc.fields.last_day_of_work, "last day of work");
    break;
  case LeaverDate::termination_date:
    lifecycle.emplace_back(lc.fields.termination_date, "termination date");
    break;
  case LeaverDate::last_day_of_work:
    lifecycle.emplace_back(lc.fields.last_day_of_work, "last day of work");
    break;
  }
  if (lc.status_behavior == state::StatusBehavior::use_bob_status) {
    lifecycle.emplace_back(lc.fields.status, "status");
  }
  for (const auto& entry : lifecycle) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const auto& field = entry.first;
    if (!checked.insert(field).second) {
      continue;
    }
    const bool present = std::any_of(
        employees.begin(), employees.end(), [&](const Employee& e) { return has_field(e, field); });
    if (!present) {
      absent_for_all(field, "lifecycle: " + entry.second);
    }
  }
}

} // namespace

state::DesiredState build_desired_state(const std::vector<state::Employee>& employees,
                                        const Policy& policy,
                                        std::chrono::system_clock::time_point now) {
  state::DesiredState desired;
  desired.source_count = employees.size();
  const auto mappings = mappings_by_target(policy);

  const auto slices = static_cast<std::size_t>(std::clamp(
      std::min<std::size_t>(std::thread::hardware_concurrency(), employees.size() / k_slice_min),
      std::size_t{1},
      std::size_t{k_slices_max}));
  // One slot per employee, filled in place by the slices, then compacted.
  desired.users.resize(employees.size());
  std::vector<char> filled(employees.size(), 0);
  std::vector<state::DesiredState> parts(slices);
  std::vector<std::future<void>> running;
  const std::span<const Employee> all(employees);
  const std::span<state::DesiredUser> slots(desired.users);
  for (std::size_t k = 0; k < slices; ++k) {
    const auto first = employees.size() * k / slices;
    const auto last = employees.size() * (k + 1) / slices;
    auto work = [&, first, last, k] {
      build_range(all.subspan(first, last - first),
                  policy,
                  mappings,
                  now,
                  slots.subspan(first, last - first),
                  std::span(filled).subspan(first, last - first),
                  parts[k]);
    };
    if (k + 1 == slices) {
      work(); // this thread takes the last slice
    } else {
      running.push_back(std::async(std::launch::async, work));
    }
  }
  for (auto& r : running) {
    r.get(); // rethrows what a slice threw
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < desired.users.size(); ++i) {
    if (filled[i] != 0) {
      if (kept != i) {
        desired.users[kept] = std::move(desired.users[i]);
      }
      ++kept;
    }
  }
  desired.users.resize(kept);
  for (auto& part : parts) {
    desired.out_of_scope.insert(
        desired.out_of_scope.end(), part.out_of_scope.begin(), part.out_of_scope.end());
    desired.diagnostics.insert(
        desired.diagnostics.end(), part.diagnostics.begin(), part.diagnostics.end());
  }
  std::sort(desired.out_of_scope.begin(), desired.out_of_scope.end());

  if (employees.empty()) {
    const std::string message =
        "Bob returned no employees: refusing to treat the whole workforce as gone. Check the "
        "service user's permissions (it must see all employees, including inactive ones).";
    if (policy.safety.block_on_empty_source) {
      desired.block_reasons.push_back(message);
    } else {
      desired.diagnostics.push_back({state::Severity::warning, message, {}});
    }
    return desired;
  }
  check_duplicate_ids(employees, desired);
  check_fields(employees, policy, desired);
  return desired;
}

std::optional<std::chrono::system_clock::time_point>
next_transition(const state::DesiredState& desired) {
  std::optional<std::chrono::system_clock::time_point> earliest;
  for (const auto& u : desired.users) {
    if (u.next_transition && (!earliest || *u.next_transition < *earliest)) {
      earliest = u.next_transition;
    }
  }
  return earliest;
}

EmployeeExplanation explain_employee(const state::Employee& employee,
                                     const Policy& policy,
                                     std::chrono::system_clock::time_point now) {
  EmployeeExplanation out;
  const auto scope = evaluate_scope(employee, policy);
  out.in_scope = scope.in_scope;
  out.scope_reason = scope.reason();
  LocalDays days(now);
  state::Diagnostics ignored;
  const auto day = local_today(employee, policy, days, ignored);
  out.local_date = to_iso(day.today);
  out.time_zone = *day.zone_name;
  const auto phase = evaluate_phase(employee, policy, day.today, ignored);
  out.phase = phase.phase;
  out.phase_reason = phase.reason;
  if (!scope.in_scope && policy.scope.out_of_scope == OutOfScopeAction::suspend) {
    out.phase = Phase::leaver;
    out.phase_reason = "out of scope (" + scope.reason() + ")";
  }
  for (const auto& m : policy.mapping) {
    FieldExplanation f;
    f.target = m.target;
    f.sources = describe_sources(m);
    const auto values = read_sources(m, employee);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const bool absent = !m.constant && !employee.fields.contains(m.sources[i]);
      f.raw += (i == 0 ? "" : " | ") + (absent ? std::string("<absent>") : "\"" + values[i] + "\"");
    }
    f.transforms = describe_chain(m);
    f.result = apply_transforms(values, m.transforms, policy.usernames);
    f.mode = m.mode;
    out.fields.push_back(std::move(f));
  }
  return out;
}

} // namespace bobsync::policies
