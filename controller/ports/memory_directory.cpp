#include "controller/ports/memory_directory.hpp"

#include "state/util/ascii.hpp"

#include <cstdio>

namespace bobsync::controller {
namespace {

constexpr std::string_view k_phones = "phoneNumbers[";
constexpr std::string_view k_attributes = "attributes[";

ApiError error(ErrorKind kind, int status, std::string message) {
  ApiError e;
  e.kind = kind;
  e.http_status = status;
  e.message = "in-memory directory: " + std::move(message);
  return e;
}

bool is_array_entry(std::string_view name) {
  return name.starts_with(k_phones) || name.starts_with(k_attributes);
}

// `_id`, `state` and `suspended` are not fields; names must be non-empty.
std::optional<std::string> bad_name(const state::FlatMap<std::string>& fields) {
  for (const auto& [name, value] : fields) {
    if (name.empty() || name == "_id" || name == "state" || name == "suspended") {
      return "'" + std::string(name) + "' is not a user field";
    }
    if (name.find('[') != std::string_view::npos && !is_array_entry(name)) {
      return "malformed field name '" + std::string(name) + "'";
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<MemoryDirectory::Fault> MemoryDirectory::take_fault(Operation operation) {
  ++m_calls[operation];
  for (auto it = m_faults.begin(); it != m_faults.end(); ++it) {
    if (it->operation != operation) {
      continue;
    }
    auto fault = *it;
    if (--it->times <= 0) {
      m_faults.erase(it);
    }
    return fault;
  }
  return std::nullopt;
}

std::optional<std::string> MemoryDirectory::duplicate_of(const state::DirectoryUser& user) const {
  const auto username = ascii_lower(user.get("username"));
  const auto email = ascii_lower(user.get("email"));
  const auto identifier = std::string(user.get("employeeIdentifier"));
  for (const auto& [id, other] : m_users) {
    if (id == user.id) {
      continue;
    }
    if (!username.empty() && ascii_lower(other.get("username")) == username) {
      return "User already exists: username '" + std::string(user.get("username"))
             + "' is already in use";
    }
    if (!email.empty() && ascii_lower(other.get("email")) == email) {
      return "User already exists: email '" + std::string(user.get("email"))
             + "' is already in use";
    }
    if (!identifier.empty() && other.get("employeeIdentifier") == identifier) {
      return "User already exists: employeeIdentifier '" + identifier + "' is already in use";
    }
  }
  return std::nullopt;
}

state::UserId MemoryDirectory::new_id() {
  char buffer[32];
  std::snprintf(
      buffer, sizeof buffer, "66b2f0c1%016llx", static_cast<unsigned long long>(m_next_id++));
  return buffer;
}

ApiResult<std::vector<state::DirectoryUser>> MemoryDirectory::list_users() {
  const std::lock_guard lock(m_mutex);
  if (auto fault = take_fault(Operation::list)) {
    return unexpected(fault->error);
  }
  std::vector<state::DirectoryUser> out;
  out.reserve(m_users.size());
  for (const auto& [id, user] : m_users) {
    out.push_back(user);
  }
  return out;
}

ApiResult<state::DirectoryUser> MemoryDirectory::get_user(const state::UserId& id) {
  const std::lock_guard lock(m_mutex);
  if (auto fault = take_fault(Operation::get)) {
    return unexpected(fault->error);
  }
  const auto it = m_users.find(id);
  if (it == m_users.end()) {
    return unexpected(error(ErrorKind::not_found, 404, "user " + id + " not found"));
  }
  return it->second;
}

ApiResult<std::vector<state::DirectoryUser>> MemoryDirectory::find_users(std::string_view field,
                                                                         std::string_view value) {
  const std::lock_guard lock(m_mutex);
  if (auto fault = take_fault(Operation::find)) {
    return unexpected(fault->error);
  }
  if (field.empty() || field.find('[') != std::string_view::npos || field == "state"
      || field == "suspended") {
    return unexpected(error(ErrorKind::rejected,
                            0,
                            "cannot filter on '" + std::string(field)
                                + "' (only top-level fields can be filtered)"));
  }
  std::vector<state::DirectoryUser> out;
  for (const auto& [id, user] : m_users) {
    // Filter values are case-sensitive, as JumpCloud documents.
    const auto* have = field == "_id" ? &id : user.fields.find(field);
    if (have != nullptr && *have == value) {
      out.push_back(user);
    }
  }
  return out;
}

ApiResult<state::DirectoryUser>
MemoryDirectory::create_user(const state::FlatMap<std::string>& fields, state::UserState state) {
  const std::lock_guard lock(m_mutex);
  const auto fault = take_fault(Operation::create);
  if (fault && !fault->after_write) {
    return unexpected(fault->error);
  }
  if (auto bad = bad_name(fields)) {
    return unexpected(error(ErrorKind::rejected, 0, "create: " + *bad));
  }
  for (const char* required : {"email", "username"}) {
    const auto* value = fields.find(required);
    if (value == nullptr || value->empty()) {
      return unexpected(
          error(ErrorKind::rejected, 0, std::string("create: ") + required + " is required"));
    }
  }
  state::DirectoryUser user;
  user.state = state;
  for (const auto& [name, value] : fields) {
    if (!value.empty()) { // only the non-empty fields are sent
      user.fields.set(name, value);
    }
  }
  if (auto duplicate = duplicate_of(user)) {
    return unexpected(error(ErrorKind::conflict, 400, *duplicate));
  }
  user.id = new_id();
  m_users.emplace(user.id, user);
  if (fault) {
    return unexpected(fault->error);
  }
  return user;
}

ApiResult<state::DirectoryUser>
MemoryDirectory::update_user(const state::UserId& id,
                             const state::FlatMap<std::string>& changes,
                             std::optional<state::UserState> state) {
  const std::lock_guard lock(m_mutex);
  const auto fault = take_fault(Operation::update);
  if (fault && !fault->after_write) {
    return unexpected(fault->error);
  }
  if (state == state::UserState::staged) {
    return unexpected(error(
        ErrorKind::rejected, 0, "user " + id + ": STAGED can only be set when a user is created"));
  }
  if (auto bad = bad_name(changes)) {
    return unexpected(error(ErrorKind::rejected, 0, "user " + id + ": " + *bad));
  }
  const auto it = m_users.find(id);
  if (it == m_users.end()) {
    return unexpected(error(ErrorKind::not_found, 404, "user " + id + " not found"));
  }
  auto user = it->second;
  if (const auto* username = changes.find("username");
      username != nullptr && *username != user.get("username")) {
    return unexpected(
        error(ErrorKind::rejected, 400, "username cannot be changed after the user is created"));
  }
  for (const auto& [name, value] : changes) {
    if (value.empty()) {
      user.fields.erase(name); // "" clears; an array entry is removed
    } else {
      user.fields.set(name, value);
    }
  }
  if (state) {
    user.state = *state;
  }
  if (auto duplicate = duplicate_of(user)) {
    return unexpected(error(ErrorKind::rejected, 400, *duplicate));
  }
  it->second = user;
  if (fault) {
    return unexpected(fault->error);
  }
  return user;
}

state::UserId MemoryDirectory::put(state::DirectoryUser user) {
  const std::lock_guard lock(m_mutex);
  if (user.id.empty()) {
    user.id = new_id();
  }
  auto id = user.id;
  m_users[id] = std::move(user);
  return id;
}

std::vector<state::DirectoryUser> MemoryDirectory::users() const {
  const std::lock_guard lock(m_mutex);
  std::vector<state::DirectoryUser> out;
  out.reserve(m_users.size());
  for (const auto& [id, user] : m_users) {
    out.push_back(user);
  }
  return out;
}

std::optional<state::DirectoryUser> MemoryDirectory::user(const state::UserId& id) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_users.find(id);
  return it == m_users.end() ? std::nullopt : std::optional(it->second);
}

void MemoryDirectory::fail_next(Operation operation, ApiError error, int times, bool after_write) {
  const std::lock_guard lock(m_mutex);
  m_faults.push_back({operation, std::move(error), times, after_write});
}

int MemoryDirectory::calls(Operation operation) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_calls.find(operation);
  return it == m_calls.end() ? 0 : it->second;
}

} // namespace bobsync::controller
