#include "state/model.hpp"

#include <array>
#include <cstdio>
#include <deque>
#include <mutex>
#include <ostream>
#include <unordered_set>

namespace bobsync::state {
namespace {

// Never destroyed: views into it live in records until the process ends.
struct NamePool {
  std::mutex mutex;
  std::deque<std::string> storage; // stable addresses: a deque never moves its elements
  std::unordered_set<std::string_view> names;
};

NamePool& name_pool() {
  static auto* pool = new NamePool();
  return *pool;
}

std::string_view intern_slow(std::string_view name) {
  auto& pool = name_pool();
  const std::lock_guard lock(pool.mutex);
  if (auto it = pool.names.find(name); it != pool.names.end()) {
    return *it;
  }
  const std::string_view stored = pool.storage.emplace_back(name);
  pool.names.insert(stored);
  return stored;
}

} // namespace

std::string_view intern_field_name(std::string_view name) {
  // A small per-thread cache, checked by content, spares the lock and the
  // hash for the few names a pass uses over and over.
  thread_local std::array<std::string_view, 256> cache{};
  std::size_t slot = name.size() * 31;
  if (!name.empty()) {
    slot += static_cast<unsigned char>(name.front()) * 7
            + static_cast<unsigned char>(name[name.size() / 2]) * 13
            + static_cast<unsigned char>(name.back());
  }
  auto& cached = cache[slot % cache.size()];
  if (cached.data() != nullptr && cached == name) {
    return cached;
  }
  cached = intern_slow(name);
  return cached;
}

std::ostream& operator<<(std::ostream& out, const FieldName& name) {
  return out << name.view();
}

std::string attribute_field(std::string_view name) {
  return "attributes[name=" + std::string(name) + "]";
}

std::string_view to_string(UserState state) {
  switch (state) {
  case UserState::staged:
    return "STAGED";
  case UserState::activated:
    return "ACTIVATED";
  case UserState::suspended:
    return "SUSPENDED";
  }
  return "UNKNOWN"; // unreachable
}

std::optional<UserState> parse_user_state(std::string_view text) {
  if (text == "STAGED") {
    return UserState::staged;
  }
  if (text == "ACTIVATED") {
    return UserState::activated;
  }
  if (text == "SUSPENDED") {
    return UserState::suspended;
  }
  return std::nullopt;
}

std::string_view to_string(FieldMode mode) {
  switch (mode) {
  case FieldMode::always:
    return "always";
  case FieldMode::create_only:
    return "createOnly";
  case FieldMode::if_empty:
    return "ifEmpty";
  }
  return "unknown"; // unreachable
}

std::string_view to_string(Phase phase) {
  switch (phase) {
  case Phase::pending:
    return "pending";
  case Phase::staged:
    return "staged";
  case Phase::active:
    return "active";
  case Phase::inactive:
    return "inactive";
  case Phase::leaver:
    return "leaver";
  }
  return "unknown"; // unreachable
}

std::string to_iso_date(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  const int y = std::clamp(static_cast<int>(ymd.year()), 0, 9999);
  char buffer[16];
  std::snprintf(buffer,
                sizeof buffer,
                "%04d-%02u-%02u",
                y,
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buffer;
}

} // namespace bobsync::state
