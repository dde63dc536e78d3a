#include "state/model.hpp"

namespace bobsync::state {

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

} // namespace bobsync::state
