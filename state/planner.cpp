#include "state/planner.hpp"

#include "state/position_index.hpp"
#include "state/util/ascii.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_set>

namespace bobsync::state {

std::string_view to_string(StatusBehavior behavior) {
  switch (behavior) {
  case StatusBehavior::use_bob_status:
    return "useBobStatus";
  case StatusBehavior::always_activate:
    return "alwaysActivate";
  case StatusBehavior::always_suspend:
    return "alwaysSuspend";
  }
  return "unknown"; // unreachable
}

std::string_view to_string(MatchRule rule) {
  switch (rule) {
  case MatchRule::employee_identifier:
    return "employeeIdentifier";
  case MatchRule::email:
    return "email";
  }
  return "unknown"; // unreachable
}

namespace {

constexpr std::size_t k_none = std::numeric_limits<std::size_t>::max();

// Field values that are compared without regard to case: JumpCloud may store
// emails lowercased.
bool same_value(std::string_view field, std::string_view a, std::string_view b) {
  if (field == "email") {
    return ascii_iequals(a, b);
  }
  return a == b;
}

// Fields JumpCloud requires: an empty desired value never clears them.
bool is_required(std::string_view field) {
  return field == "email" || field == "username";
}

// The usernames in use, without regard to ASCII case: views of the observed
// users' names, plus the names this plan gives out or frees.
class TakenNames {
public:
  void reserve(std::size_t n) { m_observed.reserve(n); }
  void add_observed(std::string_view name) { m_observed.add(name, 0); }
  bool contains(std::string_view name) const {
    const auto folded = ascii_lower(name);
    return m_taken.contains(folded) || (m_observed.contains(name) && !m_freed.contains(folded));
  }
  void take(std::string_view name) {
    auto folded = ascii_lower(name);
    m_freed.erase(folded);
    m_taken.insert(std::move(folded));
  }
  void release(std::string_view name) {
    auto folded = ascii_lower(name);
    m_taken.erase(folded);
    m_freed.insert(std::move(folded));
  }

private:
  PositionIndex<FoldedHash, FoldedEqual> m_observed;
  std::unordered_set<std::string> m_taken; // lowercased
  std::unordered_set<std::string> m_freed; // lowercased
};

struct Match {
  std::size_t user = k_none;
  std::string_view by;  // "link", "attribute" or a MatchRule's name
  std::string conflict; // non-empty: this employee is a conflict
  const Link* link = nullptr;
};

class Planner {
public:
  Planner(const DesiredState& desired,
          const std::vector<DirectoryUser>& observed,
          const std::vector<Link>& links,
          const PlanOptions& options)
      : m_desired(desired),
        m_observed(observed),
        m_links(links),
        m_options(options) {}

  Plan run() {
    index();
    match_all();
    mark_duplicates();
    m_taken_usernames.reserve(m_observed.size());
    for (const auto& u : m_observed) {
      m_taken_usernames.add_observed(u.get("username"));
    }
    for (std::size_t i : m_order) {
      plan_employee(i);
    }
    assign_new_usernames();
    if (m_options.record_matches) {
      for (std::size_t i : m_order) {
        const auto& d = m_desired.users[i];
        if (!targeted(d.employee_id)) {
          continue;
        }
        const auto& m = m_matches[i];
        m_plan.matches.push_back({d.employee_id,
                                  m.user != k_none ? m_observed[m.user].id : std::string(),
                                  std::string(m.by),
                                  m.conflict});
      }
    }
    plan_gone();
    // A targeted plan is the full plan, restricted: matching, conflicts and
    // usernames above saw everybody.
    if (!m_targets.empty()) {
      std::erase_if(m_plan.changes, [&](const Change& c) { return !targeted(c.employee_id); });
    }
    m_plan.diagnostics.insert(
        m_plan.diagnostics.end(), m_desired.diagnostics.begin(), m_desired.diagnostics.end());
    finalize(m_plan);
    m_plan.summary.managed =
        static_cast<int>(std::count(m_managed_users.begin(), m_managed_users.end(), 1));
    for (std::size_t i = 0; i < m_desired.users.size(); ++i) {
      if (targeted(m_desired.users[i].employee_id)) {
        m_plan.summary.unchanged += m_unchanged[i];
        m_plan.summary.not_created += m_not_created[i];
      }
    }
    for (const auto& id : m_desired.out_of_scope) {
      m_plan.summary.out_of_scope += targeted(id) ? 1 : 0;
    }
    check_safety();
    return std::move(m_plan);
  }

private:
  bool targeted(std::string_view employee) const {
    return m_targets.empty() || m_targets.contains(employee);
  }

  void index() {
    for (const auto& id : m_options.only_employees) {
      m_targets.insert(id);
    }
    m_unchanged.assign(m_desired.users.size(), 0);
    m_not_created.assign(m_desired.users.size(), 0);
    m_by_id.reserve(m_observed.size());
    m_by_email.reserve(m_observed.size());
    m_by_eid.reserve(m_observed.size());
    m_attribute_owner.assign(m_observed.size(), {});
    m_link_owner.assign(m_observed.size(), {});
    m_attribute_users.reserve(m_observed.size());
    m_link_by_employee.reserve(m_links.size());
    m_desired_index.reserve(m_desired.users.size());
    m_change_of.assign(m_desired.users.size(), k_none);
    m_managed_users.assign(m_observed.size(), 0);
    if (!m_options.link_attribute.empty()) {
      m_link_field = attribute_field(m_options.link_attribute);
    }
    const auto& link_field = m_link_field;
    for (std::size_t i = 0; i < m_observed.size(); ++i) {
      const auto& u = m_observed[i];
      m_by_id.add(u.id, i);
      if (auto email = u.get("email"); !email.empty()) {
        m_by_email.add(email, i);
      }
      if (auto eid = u.get("employeeIdentifier"); !eid.empty()) {
        m_by_eid.add(eid, i);
      }
      if (!link_field.empty()) {
        if (auto owner = u.get(link_field); !owner.empty()) {
          m_attribute_owner[i] = owner;
          m_attribute_users.add(owner, i);
        }
      }
    }
    for (std::size_t l = 0; l < m_links.size(); ++l) {
      const auto& link = m_links[l];
      const auto users = m_by_id.find(link.user_id);
      if (users.empty()) {
        continue; // the user was deleted in JumpCloud: the link is void
      }
      // The first link of an employee, and the first of a user, count.
      if (!m_link_by_employee.contains(link.employee_id)) {
        m_link_by_employee.add(link.employee_id, l);
      }
      if (m_link_owner[users.front()].empty()) {
        m_link_owner[users.front()] = link.employee_id;
      }
    }
    m_order.resize(m_desired.users.size());
    for (std::size_t i = 0; i < m_order.size(); ++i) {
      m_order[i] = i;
      m_desired_index.add(m_desired.users[i].employee_id, i);
    }
    std::sort(m_order.begin(), m_order.end(), [&](std::size_t a, std::size_t b) {
      return m_desired.users[a].employee_id < m_desired.users[b].employee_id;
    });
    m_matches.resize(m_desired.users.size());
  }

  // The employee that owns a user through a stored link or, failing that,
  // through the link attribute. "" when nobody does.
  std::string_view owner_of(std::size_t user) const {
    return !m_link_owner[user].empty() ? m_link_owner[user] : m_attribute_owner[user];
  }

  void match_all() {
    std::vector<std::pair<std::size_t, std::size_t>> claims; // (user, desired), in m_order
    for (std::size_t i : m_order) {
      const auto& d = m_desired.users[i];
      auto& match = m_matches[i];
      if (auto links = m_link_by_employee.find(d.employee_id); !links.empty()) {
        match.link = &m_links[links.front()];
        match.user = m_by_id.find(match.link->user_id).front();
        match.by = "link";
        continue;
      }
      if (!m_options.link_attribute.empty()) {
        // A user whose link attribute names this employee and that no stored
        // link gives to somebody else.
        for (std::size_t user : m_attribute_users.find(d.employee_id)) {
          if (m_link_owner[user].empty()) {
            match.user = user; // the lowest index: deterministic
            break;
          }
        }
        if (match.user != k_none) {
          match.by = "attribute";
          continue;
        }
      }
      for (auto rule : m_options.match_rules) {
        const std::string_view value =
            d.value(rule == MatchRule::email ? "email" : "employeeIdentifier");
        if (value.empty()) {
          continue;
        }
        const auto candidates =
            rule == MatchRule::email ? m_by_email.find(value) : m_by_eid.find(value);
        if (candidates.empty()) {
          continue;
        }
        auto what = [&] {
          return std::string(to_string(rule)) + " '"
                 + (rule == MatchRule::email ? ascii_lower(value) : std::string(value)) + "'";
        };
        if (candidates.size() > 1) {
          match.conflict = std::to_string(candidates.size()) + " JumpCloud users have " + what();
          break;
        }
        const std::size_t user = candidates.front();
        if (auto owner = owner_of(user); !owner.empty() && owner != d.employee_id) {
          match.conflict = "JumpCloud user " + m_observed[user].id + " with " + what()
                           + " is already linked to employee " + std::string(owner);
          break;
        }
        if (!m_options.adopt_existing) {
          match.conflict = "JumpCloud user " + m_observed[user].id + " has " + what()
                           + " but adopting existing users is disabled (matching.adoptExisting)";
          break;
        }
        match.user = user;
        match.by = to_string(rule);
        claims.emplace_back(user, i);
        break;
      }
    }
    // A user claimed by several employees goes to none of them.
    std::stable_sort(claims.begin(), claims.end(), [](const auto& a, const auto& b) {
      return a.first < b.first;
    });
    for (auto first = claims.begin(); first != claims.end();) {
      auto last = std::find_if(
          first, claims.end(), [&](const auto& claim) { return claim.first != first->first; });
      if (last - first > 1) {
        std::vector<std::size_t> members;
        for (auto it = first; it != last; ++it) {
          members.push_back(it->second);
        }
        const auto names = some_ids(members);
        for (auto it = first; it != last; ++it) {
          m_matches[it->second].conflict = "JumpCloud user " + m_observed[first->first].id
                                           + " is matched by several employees (" + names + ")";
        }
      }
      first = last;
    }
  }

  // The employee ids of a conflict's message: the first few and how many
  // more. Every member's change carries the message, so listing them all
  // made it quadratic (10,000 employees sharing one email: 2 GB of plan).
  template<typename Members> std::string some_ids(const Members& members) const {
    constexpr std::size_t k_shown = 5;
    std::string names;
    std::size_t n = 0;
    for (std::size_t i : members) {
      if (n++ < k_shown) {
        names += (names.empty() ? "" : ", ") + m_desired.users[i].employee_id;
      }
    }
    if (n > k_shown) {
      names += " and " + std::to_string(n - k_shown) + " more";
    }
    return names;
  }

  // Employees sharing an email or an employee id cannot both be right.
  void mark_duplicates() {
    auto mark = [&](std::string_view field, const auto& groups) {
      groups.for_each_repeated([&](std::string_view value, const auto& members) {
        // members are in employee-id order (m_order), so messages are stable
        const auto names = some_ids(members);
        for (std::size_t i : members) {
          if (m_matches[i].conflict.empty()) {
            m_matches[i].conflict = "employees " + names + " share " + std::string(field) + " '"
                                    + ascii_lower(value) + "'";
          }
        }
      });
    };
    PositionIndex<FoldedHash, FoldedEqual> emails;
    PositionIndex<ExactHash, ExactEqual> employee_ids;
    emails.reserve(m_order.size());
    employee_ids.reserve(m_order.size());
    for (std::size_t i : m_order) {
      if (auto v = m_desired.users[i].value("email"); !v.empty()) {
        emails.add(v, i);
      }
      if (auto v = m_desired.users[i].value("employeeIdentifier"); !v.empty()) {
        employee_ids.add(v, i);
      }
    }
    // Email conflicts first: an employee in both kinds reports the email.
    mark("email", emails);
    mark("employeeIdentifier", employee_ids);
  }

  Change base_change(Action action, const DesiredUser& d, const DirectoryUser* user) const {
    Change c;
    c.action = action;
    c.employee_id = d.employee_id;
    c.email = std::string(d.value("email"));
    if (user != nullptr) {
      c.user_id = user->id;
      c.username = std::string(user->get("username"));
      if (c.email.empty()) {
        c.email = std::string(user->get("email"));
      }
    } else {
      c.username = std::string(d.value("username"));
    }
    return c;
  }

  // Another user already holds `field` = desired value: JumpCloud would refuse.
  std::string uniqueness_conflict(const DesiredUser& d, std::size_t self) const {
    const auto email = d.value("email");
    if (!email.empty()) {
      for (std::size_t other : m_by_email.find(email)) {
        if (other != self) {
          return "email '" + ascii_lower(email) + "' already belongs to JumpCloud user "
                 + m_observed[other].id + " (" + std::string(m_observed[other].get("username"))
                 + ")";
        }
      }
    }
    const auto eid = d.value("employeeIdentifier");
    if (!eid.empty()) {
      for (std::size_t other : m_by_eid.find(eid)) {
        if (other != self) {
          return "employeeIdentifier '" + std::string(eid) + "' already belongs to JumpCloud user "
                 + m_observed[other].id;
        }
      }
    }
    return {};
  }

  // The value of a reference to another employee: that employee's user id,
  // "bob:<id>" when the user is created in this run (the applier resolves
  // it), or nullopt when the employee has no user bobsync manages (the field
  // is left alone).
  std::optional<std::string_view> resolve_reference(const DesiredUser& d, std::string_view value) {
    if (!value.starts_with(k_employee_ref)) {
      return value;
    }
    const auto employee = value.substr(k_employee_ref.size());
    if (auto found = m_desired_index.find(employee); !found.empty()) {
      const auto& target = m_desired.users[found.front()];
      const auto& match = m_matches[found.front()];
      if (match.conflict.empty() && match.user != k_none) {
        return std::string_view(m_observed[match.user].id);
      }
      if (match.conflict.empty() && (target.phase == Phase::active || target.phase == Phase::staged)
          && !target.value("email").empty()) {
        return value; // created in this run
      }
    }
    m_plan.diagnostics.push_back(
        {Severity::warning,
         "employee " + d.employee_id + ": manager " + std::string(employee)
             + " has no JumpCloud user managed by bobsync; the manager field is left alone",
         {}});
    return std::nullopt;
  }

  std::vector<FieldChange> field_changes(const DesiredUser& d, const DirectoryUser& u) {
    std::vector<FieldChange> out;
    // Both maps are sorted by name: walk them side by side.
    auto have_it = u.fields.begin();
    for (const auto& [name, desired_field] : d.fields) {
      if (name == "username") {
        continue; // usernames are decided with the others, see assign_new_usernames
      }
      const auto resolved = resolve_reference(d, desired_field.value);
      if (!resolved) {
        continue;
      }
      const std::string_view want = *resolved;
      while (have_it != u.fields.end() && have_it->first < name) {
        ++have_it;
      }
      const auto* current =
          have_it != u.fields.end() && have_it->first == name ? &have_it->second : nullptr;
      const std::string_view have = current != nullptr ? std::string_view(*current) : "";
      bool change = false;
      switch (desired_field.mode) {
      case FieldMode::always:
        change = !same_value(name, have, want) && !(want.empty() && is_required(name));
        break;
      case FieldMode::create_only:
        break;
      case FieldMode::if_empty:
        change = have.empty() && !want.empty();
        break;
      }
      if (change) {
        out.push_back({name,
                       current != nullptr ? std::optional<std::string>(*current) : std::nullopt,
                       std::string(want)});
      }
    }
    if (!m_link_field.empty()) {
      const auto& name = m_link_field;
      const auto* current = u.fields.find(name);
      if (current == nullptr || *current != d.employee_id) {
        out.push_back({name,
                       current != nullptr ? std::optional<std::string>(*current) : std::nullopt,
                       d.employee_id});
      }
    }
    std::sort(out.begin(), out.end(), [](const FieldChange& a, const FieldChange& b) {
      return a.name < b.name;
    });
    // A plan can hold 100,000 of these: no slots left over from growing.
    out.shrink_to_fit();
    return out;
  }

  struct StateDecision {
    std::optional<UserState> target;
    std::string reason;
    bool leaver = false;
  };

  StateDecision decide_state(const DesiredUser& d, const DirectoryUser& u, const Link* link) const {
    const UserState s = u.state;
    const bool rehire = link != nullptr && link->suspended_as_leaver;
    switch (d.phase) {
    case Phase::leaver:
      if (s != UserState::suspended) {
        return {UserState::suspended, "leaver: " + d.phase_reason, true};
      }
      return {};
    case Phase::inactive:
      if (d.hold_state) {
        return {};
      }
      if (m_options.status_behavior == StatusBehavior::use_bob_status
          && s != UserState::suspended) {
        return {UserState::suspended, d.phase_reason, false};
      }
      return {};
    case Phase::pending:
    case Phase::staged:
      if (m_options.status_behavior == StatusBehavior::use_bob_status
          && s == UserState::activated) {
        return {UserState::suspended, "before the start date: " + d.phase_reason, false};
      }
      return {};
    case Phase::active:
      switch (m_options.status_behavior) {
      case StatusBehavior::use_bob_status:
        if (s != UserState::activated) {
          return {UserState::activated,
                  rehire ? "rehired: " + d.phase_reason : "active in Bob: " + d.phase_reason,
                  false};
        }
        return {};
      case StatusBehavior::always_activate:
        if (s == UserState::staged || (s == UserState::suspended && rehire)) {
          return {UserState::activated,
                  (rehire ? "rehired: " : "start date reached: ") + d.phase_reason,
                  false};
        }
        return {};
      case StatusBehavior::always_suspend:
        return {};
      }
      return {};
    }
    return {};
  }

  void plan_employee(std::size_t i) {
    const auto& d = m_desired.users[i];
    const auto& match = m_matches[i];
    const DirectoryUser* user = match.user != k_none ? &m_observed[match.user] : nullptr;
    if (user != nullptr && match.conflict.empty()) {
      m_managed_users[match.user] = 1;
    }
    if (!d.refusal.empty()) {
      auto c = base_change(Action::conflict, d, user);
      c.reason = d.refusal;
      c.matched_by = match.by;
      m_plan.changes.push_back(std::move(c));
      return;
    }
    if (!match.conflict.empty()) {
      auto c = base_change(Action::conflict, d, user);
      c.reason = match.conflict;
      c.matched_by = match.by;
      m_plan.changes.push_back(std::move(c));
      return;
    }
    if (user == nullptr) {
      plan_new(i);
      return;
    }
    if (auto conflict = uniqueness_conflict(d, match.user); !conflict.empty()) {
      auto c = base_change(Action::conflict, d, user);
      c.reason = conflict;
      c.matched_by = match.by;
      m_plan.changes.push_back(std::move(c));
      return;
    }
    auto fields = field_changes(d, *user);
    if (auto username = d.fields.find("username");
        username != nullptr && username->mode == FieldMode::always) {
      m_renames.push_back({i, match.user});
    }
    const auto state = decide_state(d, *user, match.link);
    Change c = base_change(Action::update, d, user);
    c.matched_by = match.by;
    c.fields = std::move(fields);
    if (state.target) {
      c.action = *state.target == UserState::suspended ? Action::suspend : Action::activate;
      c.target_state = state.target;
      c.reason = state.reason;
      c.leaver = state.leaver;
    } else if (!c.fields.empty()) {
      c.reason = match.by == "link" || match.by == "attribute"
                     ? "fields differ"
                     : "fields differ; adopts the user matched by " + std::string(match.by);
    }
    if (c.fields.empty() && !c.target_state) {
      if ((d.phase == Phase::pending || d.phase == Phase::staged)
          && m_options.status_behavior != StatusBehavior::always_suspend
          && user->state != UserState::activated && d.start_date) {
        c.action = Action::defer;
        c.date = to_iso_date(*d.start_date);
        c.reason = "activated on the start date: " + d.phase_reason;
        m_change_of[i] = m_plan.changes.size();
        m_plan.changes.push_back(std::move(c));
        return;
      }
      m_unchanged[i] = 1;
      return;
    }
    m_change_of[i] = m_plan.changes.size();
    m_plan.changes.push_back(std::move(c));
  }

  void plan_new(std::size_t i) {
    const auto& d = m_desired.users[i];
    switch (d.phase) {
    case Phase::inactive:
    case Phase::leaver:
      m_not_created[i] = 1;
      return; // never create someone who should not have access
    case Phase::pending: {
      auto c = base_change(Action::defer, d, nullptr);
      c.date = d.provision_date ? to_iso_date(*d.provision_date) : std::string();
      c.reason = "future starter, not created yet: " + d.phase_reason;
      m_plan.changes.push_back(std::move(c));
      return;
    }
    case Phase::staged:
    case Phase::active:
      break;
    }
    if (d.value("email").empty()) {
      auto c = base_change(Action::conflict, d, nullptr);
      c.reason = "no email in Bob: JumpCloud requires one to create the user";
      m_plan.changes.push_back(std::move(c));
      return;
    }
    if (auto conflict = uniqueness_conflict(d, k_none); !conflict.empty()) {
      auto c = base_change(Action::conflict, d, nullptr);
      c.reason = conflict;
      m_plan.changes.push_back(std::move(c));
      return;
    }
    auto c = base_change(Action::create, d, nullptr);
    if (d.phase == Phase::staged) {
      c.target_state = m_options.early_state;
      c.reason = "new hire, early: " + d.phase_reason;
    } else {
      c.target_state = m_options.status_behavior == StatusBehavior::always_suspend
                           ? UserState::suspended
                           : UserState::activated;
      c.reason = "new hire: " + d.phase_reason;
    }
    for (const auto& [name, field] : d.fields) {
      if (field.value.empty() || name == "username") {
        continue;
      }
      if (auto resolved = resolve_reference(d, field.value)) {
        c.fields.push_back({std::string(name), std::nullopt, std::string(*resolved)});
      }
    }
    if (!m_options.link_attribute.empty()) {
      c.fields.push_back({m_link_field, std::nullopt, d.employee_id});
    }
    m_creates.push_back(m_plan.changes.size());
    m_plan.changes.push_back(std::move(c));
  }

  // The first of base, base2, base3, ... (within the length limit) that no
  // other user holds.
  std::string ladder(const std::string& base) const {
    const auto max = static_cast<std::size_t>(std::max(1, m_options.usernames.max_length));
    auto fit = [&](std::string s, std::size_t room) {
      if (s.size() > room) {
        s.resize(room);
      }
      while (!s.empty() && (s.back() == '.' || s.back() == '_' || s.back() == '-')) {
        s.pop_back();
      }
      return s;
    };
    std::string candidate = fit(base, max);
    for (int n = m_options.usernames.suffix_start; m_taken_usernames.contains(candidate); ++n) {
      const auto suffix = std::to_string(n);
      candidate = fit(base, max > suffix.size() ? max - suffix.size() : 0) + suffix;
    }
    return candidate;
  }

  void assign_new_usernames() {
    // Existing users whose username is managed (`always`) first: they keep a
    // name they already hold.
    for (const auto& [i, user] : m_renames) {
      const auto& d = m_desired.users[i];
      const auto& u = m_observed[user];
      const std::string base(d.value("username"));
      if (base.empty()) {
        continue;
      }
      m_taken_usernames.release(u.get("username"));
      const auto name = ladder(base);
      m_taken_usernames.take(name);
      if (name == u.get("username")) {
        continue;
      }
      if (m_change_of[i] == k_none) {
        m_unchanged[i] = 0;
        auto c = base_change(Action::update, d, &u);
        c.reason = "fields differ";
        m_change_of[i] = m_plan.changes.size();
        m_plan.changes.push_back(std::move(c));
      }
      auto it = m_plan.changes.begin() + static_cast<std::ptrdiff_t>(m_change_of[i]);
      if (it->action == Action::defer) {
        it->action = Action::update;
        it->date.clear();
        it->reason = "fields differ";
      }
      it->fields.push_back({"username", std::string(u.get("username")), name});
      std::sort(it->fields.begin(),
                it->fields.end(),
                [](const FieldChange& a, const FieldChange& b) { return a.name < b.name; });
      it->username = name;
    }
    // m_creates was filled in employee-id order: suffixes are deterministic.
    for (std::size_t index : m_creates) {
      auto& c = m_plan.changes[index];
      const auto& d = m_desired.users[m_desired_index.find(c.employee_id).front()];
      const std::string base(d.value("username"));
      if (base.empty()) {
        c.action = Action::conflict;
        c.fields.clear();
        c.target_state.reset();
        c.reason = "no username could be derived (display name '" + d.display_name
                   + "' has nothing usable); set one in Bob or change the username mapping";
        continue;
      }
      c.username = ladder(base);
      m_taken_usernames.take(c.username);
      c.fields.push_back({"username", std::nullopt, c.username});
      std::sort(c.fields.begin(), c.fields.end(), [](const FieldChange& a, const FieldChange& b) {
        return a.name < b.name;
      });
    }
  }

  // Users linked to an employee Bob no longer returns.
  void plan_gone() {
    if (!m_options.suspend_missing) {
      return;
    }
    std::unordered_set<std::string_view> out_of_scope(m_desired.out_of_scope.begin(),
                                                      m_desired.out_of_scope.end());
    std::map<std::string_view, std::size_t> gone;
    auto consider = [&](std::size_t user, std::string_view owner) {
      if (m_desired_index.contains(owner) || out_of_scope.contains(owner)) {
        return;
      }
      gone.emplace(owner, user);
    };
    for (std::size_t user = 0; user < m_observed.size(); ++user) {
      if (const auto owner = owner_of(user); !owner.empty()) {
        consider(user, owner);
      }
    }
    for (const auto& [employee, user] : gone) {
      const auto& u = m_observed[user];
      m_managed_users[user] = 1;
      if (u.state == UserState::suspended) {
        continue;
      }
      Change c;
      c.action = Action::suspend;
      c.employee_id = std::string(employee);
      c.user_id = u.id;
      c.email = std::string(u.get("email"));
      c.username = std::string(u.get("username"));
      c.target_state = UserState::suspended;
      c.reason = "leaver: employee is no longer in Bob";
      c.leaver = true;
      c.matched_by = m_link_owner[user].empty() ? "attribute" : "link";
      m_plan.changes.push_back(std::move(c));
    }
  }

  void block(BlockKind kind, std::string message) {
    m_plan.block_reasons.push_back({kind, std::move(message)});
  }

  // A mapped Bob field null for every employee feeds a JumpCloud field this
  // plan would change on an existing user: the read is not to be trusted.
  void check_null_fields() {
    for (const auto& null_field : m_desired.null_fields) {
      int users = 0;
      std::string example;
      for (const auto& c : m_plan.changes) {
        if (c.user_id.empty() || c.action == Action::conflict || c.action == Action::defer) {
          continue;
        }
        const bool touched =
            std::any_of(null_field.targets.begin(),
                        null_field.targets.end(),
                        [&](const std::string& t) { return c.field(t) != nullptr; });
        if (touched) {
          ++users;
          if (example.empty()) {
            example = c.user_id;
          }
        }
      }
      if (users == 0) {
        continue;
      }
      std::string targets;
      for (const auto& t : null_field.targets) {
        targets += (targets.empty() ? "" : ", ") + t;
      }
      block(BlockKind::bad_read,
            "Bob field '" + null_field.bob_field
                + "' is null for every employee, and the plan would change " + targets + " on "
                + std::to_string(users) + (users == 1 ? " JumpCloud user" : " JumpCloud users")
                + " (e.g. " + example
                + "): the service user may not be allowed to read it. Grant access to the field, "
                  "or remove it from the mapping.");
    }
  }

  void check_safety() {
    const auto& limits = m_options.safety;
    const int suspensions = m_plan.summary.count(Action::suspend);
    const int writes = m_plan.summary.count(Action::create) + m_plan.summary.count(Action::update)
                       + m_plan.summary.count(Action::activate) + suspensions;
    for (const auto& reason : m_desired.block_reasons) {
      block(BlockKind::bad_read, reason);
    }
    check_null_fields();
    if (limits.max_suspensions && suspensions > *limits.max_suspensions) {
      block(BlockKind::safety_limit,
            "the plan suspends " + std::to_string(suspensions)
                + (suspensions == 1 ? " user" : " users") + "; the policy allows "
                + std::to_string(*limits.max_suspensions)
                + " per run (safety.maxSuspensions). Check the data in Bob, or apply with "
                  "--allow-mass-changes.");
    }
    const int managed = m_plan.summary.managed;
    if (limits.max_suspensions_percent && managed > 0 && suspensions > 0
        && suspensions >= limits.min_suspensions_for_percent) {
      const double percent = 100.0 * suspensions / managed;
      if (percent > *limits.max_suspensions_percent) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.1f%%", percent);
        char limit[64];
        std::snprintf(limit, sizeof limit, "%g%%", *limits.max_suspensions_percent);
        block(BlockKind::safety_limit,
              "the plan suspends " + std::to_string(suspensions) + " users, " + buffer + " of the "
                  + std::to_string(managed) + " managed users; the policy allows " + limit
                  + " once " + std::to_string(limits.min_suspensions_for_percent)
                  + " or more are suspended (safety.maxSuspensionsPercent, "
                    "safety.minSuspensionsForPercent). Check the data in Bob, or apply with "
                    "--allow-mass-changes.");
      }
    }
    if (limits.max_changes && writes > *limits.max_changes) {
      block(BlockKind::safety_limit,
            "the plan makes " + std::to_string(writes) + " changes; the policy allows "
                + std::to_string(*limits.max_changes)
                + " per run (safety.maxChanges). Review the plan, then apply with "
                  "--allow-mass-changes.");
    }
    m_plan.blocked = !m_plan.block_reasons.empty();
  }

  const DesiredState& m_desired;
  const std::vector<DirectoryUser>& m_observed;
  const std::vector<Link>& m_links;
  const PlanOptions& m_options;

  Plan m_plan;
  std::string m_link_field; // attributes[name=<link attribute>], "" without one
  PositionIndex<ExactHash, ExactEqual> m_by_id;
  PositionIndex<FoldedHash, FoldedEqual> m_by_email;
  PositionIndex<ExactHash, ExactEqual> m_by_eid;
  std::vector<std::string_view> m_attribute_owner; // per user: the employee of its link attribute
  PositionIndex<ExactHash, ExactEqual> m_attribute_users;  // employee -> users
  std::vector<std::string_view> m_link_owner;              // per user: the employee of its link
  PositionIndex<ExactHash, ExactEqual> m_link_by_employee; // employee -> index into m_links
  PositionIndex<ExactHash, ExactEqual> m_desired_index;
  std::vector<std::size_t> m_order; // desired indexes sorted by employee id
  std::vector<Match> m_matches;
  TakenNames m_taken_usernames;
  std::vector<std::size_t> m_creates;                         // indexes into m_plan.changes
  std::vector<std::pair<std::size_t, std::size_t>> m_renames; // (desired, user)
  std::vector<std::size_t> m_change_of; // per desired user: its index in m_plan.changes
  std::vector<char> m_managed_users;    // per observed user: matched to an employee
  std::vector<char> m_unchanged;        // per desired user: matched and in line
  std::vector<char> m_not_created; // per desired user: inactive or left, no user: nothing to do
  std::unordered_set<std::string_view> m_targets; // PlanOptions::only_employees
};

} // namespace

Plan make_plan(const DesiredState& desired,
               const std::vector<DirectoryUser>& observed,
               const std::vector<Link>& links,
               const PlanOptions& options) {
  return Planner(desired, observed, links, options).run();
}

} // namespace bobsync::state
