#pragma once

// The vocabulary of both worlds: employees as read from Bob, users as observed
// in JumpCloud, and the desired users built from the two. Plain value types.

#include <algorithm>
#include <chrono>
#include <compare>
#include <cstddef>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bobsync::state {

using EmployeeId = std::string; // Bob's id: a 19-digit number kept as a string
using UserId = std::string;     // JumpCloud's `_id`

// The one shared copy of a field name. Records hold their keys as views into
// a process-wide, append-only table: 100,000 employees and users share their
// twenty-odd field names instead of each allocating them. The table only
// grows with the distinct names ever seen (Bob field ids of the policy,
// JumpCloud field, phone type and attribute names), which are few. Thread-safe.
std::string_view intern_field_name(std::string_view name);

// A field name held as its interned copy: 16 bytes, nothing allocated per
// record, and it cannot dangle (it is only ever made by interning). For
// records kept by the hundred thousand, such as a plan's field changes.
class FieldName {
public:
  FieldName() = default;
  FieldName(std::string_view name) // NOLINT(google-explicit-constructor): a name is a name
      : m_name(intern_field_name(name)) {}
  FieldName(const char* name) // NOLINT(google-explicit-constructor)
      : FieldName(std::string_view(name)) {}
  FieldName(const std::string& name) // NOLINT(google-explicit-constructor)
      : FieldName(std::string_view(name)) {}

  std::string_view view() const { return m_name; }
  operator std::string_view() const { return m_name; } // NOLINT(google-explicit-constructor)
  std::string str() const { return std::string(m_name); }
  bool empty() const { return m_name.empty(); }
  std::size_t size() const { return m_name.size(); }

  friend bool operator==(const FieldName& a, const FieldName& b) { return a.m_name == b.m_name; }
  friend std::strong_ordering operator<=>(const FieldName& a, const FieldName& b) {
    return a.m_name.compare(b.m_name) <=> 0;
  }
  friend bool operator==(const FieldName& a, std::string_view b) { return a.m_name == b; }
  friend bool operator==(const FieldName& a, const char* b) { return a.m_name == b; }
  friend bool operator==(const FieldName& a, const std::string& b) { return a.m_name == b; }
  friend std::ostream& operator<<(std::ostream& out, const FieldName& name);

private:
  std::string_view m_name;
};

// A small sorted map of field names to values. Kept as a flat vector: an
// employee or user has about twenty fields, and 100,000 of each must fit in a
// few hundred megabytes. Keys are interned (see `intern_field_name`).
template<typename V> class FlatMap {
public:
  using Entry = std::pair<std::string_view, V>;

  FlatMap() = default;
  FlatMap(std::initializer_list<std::pair<std::string_view, V>> entries) {
    for (const auto& e : entries) {
      set(e.first, e.second);
    }
  }

  // nullptr when absent. A record's twenty-odd keys are scanned in order,
  // comparing lengths first: most keys differ in length, so this makes about
  // one memcmp per lookup where a binary search made five (field names share
  // prefixes such as "root." and "work."), and lookups are the hottest path
  // of the desired state.
  const V* find(std::string_view key) const {
    if (m_entries.size() > k_scan_limit) {
      auto it = lower(key);
      return it != m_entries.end() && it->first == key ? &it->second : nullptr;
    }
    for (const auto& e : m_entries) {
      if (e.first.size() == key.size()
          && (e.first.data() == key.data()
              || std::char_traits<char>::compare(e.first.data(), key.data(), key.size()) == 0)) {
        return &e.second;
      }
    }
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  void set(std::string_view key, V value) {
    // Keys usually arrive in order: appending is the common case.
    if (m_entries.empty() || m_entries.back().first < key) {
      grow_for_one();
      m_entries.emplace_back(intern_field_name(key), std::move(value));
      return;
    }
    auto it = lower(key);
    if (it->first == key) {
      it->second = std::move(value);
      return;
    }
    const auto offset = it - m_entries.begin();
    grow_for_one();
    m_entries.emplace(m_entries.begin() + offset, intern_field_name(key), std::move(value));
  }
  bool erase(std::string_view key) {
    auto it = lower(key);
    if (it == m_entries.end() || it->first != key) {
      return false;
    }
    m_entries.erase(it);
    return true;
  }
  void reserve(std::size_t n) { m_entries.reserve(n); }
  // Gives back the slots left over from growing (a record read once and kept).
  void shrink_to_fit() {
    if (m_entries.capacity() > m_entries.size()) {
      m_entries.shrink_to_fit();
    }
  }
  const std::vector<Entry>& entries() const { return m_entries; }
  std::size_t size() const { return m_entries.size(); }
  bool empty() const { return m_entries.empty(); }
  auto begin() const { return m_entries.begin(); }
  auto end() const { return m_entries.end(); }

  bool operator==(const FlatMap&) const = default;

private:
  static constexpr std::size_t k_scan_limit = 48;

  void grow_for_one() {
    if (m_entries.size() == m_entries.capacity()) {
      // Grow by a quarter, not by doubling: records hold 15-25 fields and
      // a doubled vector would leave a third of its slots empty.
      m_entries.reserve(m_entries.size() + m_entries.size() / 4 + 4);
    }
  }
  typename std::vector<Entry>::iterator lower(std::string_view key) {
    return std::lower_bound(m_entries.begin(),
                            m_entries.end(),
                            key,
                            [](const Entry& e, std::string_view k) { return e.first < k; });
  }
  typename std::vector<Entry>::const_iterator lower(std::string_view key) const {
    return std::lower_bound(m_entries.begin(),
                            m_entries.end(),
                            key,
                            [](const Entry& e, std::string_view k) { return e.first < k; });
  }

  std::vector<Entry> m_entries;
};

// One employee as Bob returned it. `fields` is keyed by Bob's dot field id
// (`root.email`, `work.title`, `work.custom.field_123`). A key that is absent
// means Bob did not send the field at all (often: the service user may not see
// it); a key holding "" means Bob sent null or an empty value. For list fields
// the value is the human-readable one when Bob sent it (humanReadable APPEND),
// else the machine value (a list-item id). When the two differ, the machine
// value is also kept under `<field id>` + k_machine_suffix
// (`work.startDate@machine`): dates and statuses are read from it.
inline constexpr std::string_view k_machine_suffix = "@machine";

struct Employee {
  EmployeeId id;
  FlatMap<std::string> fields;

  // The value of a field, "" when absent or null.
  std::string_view get(std::string_view field_id) const {
    const auto* value = fields.find(field_id);
    return value != nullptr ? std::string_view(*value) : std::string_view();
  }

  bool operator==(const Employee&) const = default;
};

// JumpCloud's user states. STAGED exists only at creation.
enum class UserState { staged, activated, suspended };

std::string_view to_string(UserState state); // "STAGED" | "ACTIVATED" | "SUSPENDED"
std::optional<UserState> parse_user_state(std::string_view text);

// A JumpCloud user as observed. `fields` is flat: scalar fields by their
// JumpCloud name (`email`, `jobTitle`), phone numbers as
// `phoneNumbers[type=work]`, custom attributes as `attributes[name=costCode]`.
struct DirectoryUser {
  UserId id;
  UserState state = UserState::activated;
  FlatMap<std::string> fields;

  std::string_view get(std::string_view name) const {
    const auto* value = fields.find(name);
    return value != nullptr ? std::string_view(*value) : std::string_view();
  }

  bool operator==(const DirectoryUser&) const = default;
};

// How a mapped field is owned.
enum class FieldMode {
  always,      // managed: any difference, including drift made by hand, is repaired
  create_only, // set when the user is created, never touched again
  if_empty,    // set when JumpCloud has no value
};

std::string_view to_string(FieldMode mode);

// A desired value that names another employee ("bob:<employee id>"): the
// planner resolves it to that employee's JumpCloud _id (the `manager` field),
// or the applier to a user created in the same run.
inline constexpr std::string_view k_employee_ref = "bob:";

// The flat field name of a custom attribute: `attributes[name=NAME]`.
std::string attribute_field(std::string_view name);

struct DesiredField {
  std::string value; // "" means "no value": clears the field in `always` mode
  FieldMode mode = FieldMode::always;

  bool operator==(const DesiredField&) const = default;
};

// Where an employee is in its lifecycle, as of the evaluation time.
enum class Phase {
  pending,  // start date (minus provisionDaysBefore) not reached: nothing to create yet
  staged,   // inside provisionDaysBefore: create staged, activate on the start date
  active,   // employed: the user should exist and be active
  inactive, // Bob says inactive (useBobStatus) but no termination is due: suspend, never create
  leaver,   // termination / last day reached, or gone from Bob: suspend, never create
};

std::string_view to_string(Phase phase);

// YYYY-MM-DD of a calendar date (years clamped to 0-9999).
std::string to_iso_date(std::chrono::sys_days day);

// One in-scope employee's desired JumpCloud user.
struct DesiredUser {
  EmployeeId employee_id;
  FlatMap<DesiredField> fields; // JumpCloud field name -> desired value
  Phase phase = Phase::active;
  std::string phase_reason; // display-only: why this phase ("start date 2026-12-01 ...")
  std::string display_name; // for messages
  // Non-empty: bobsync refuses to write anything for this employee (a value
  // over the length bound, no email to decide scope with); the planner
  // reports it as a conflict with this reason.
  std::string refusal;
  // Bob's status is unknown: the user's state is neither suspended nor
  // activated (and no user is created); fields are still kept in line.
  bool hold_state = false;
  // The lifecycle dates as data (calendar dates in `time_zone`); the planner
  // reads these, never `phase_reason`. `provision_date` is the start date
  // minus lifecycle.provisionDaysBefore; `leave_date` is the date the policy's
  // leaverDate rule picks (none when a later start date makes it a rehire).
  std::optional<std::chrono::sys_days> start_date;
  std::optional<std::chrono::sys_days> provision_date;
  std::optional<std::chrono::sys_days> leave_date;
  std::string time_zone; // IANA name the dates are judged in ("UTC" when the policy's is unknown)
  // The next instant strictly after the evaluation time (local midnight in
  // `time_zone`) at which `phase` would change; nullopt when no date ahead does.
  std::optional<std::chrono::system_clock::time_point> next_transition;

  std::string_view value(std::string_view name) const {
    const auto* field = fields.find(name);
    return field != nullptr ? std::string_view(field->value) : std::string_view();
  }

  bool operator==(const DesiredUser&) const = default;
};

} // namespace bobsync::state
