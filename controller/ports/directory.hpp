#pragma once

#include "controller/ports/api_error.hpp"
#include "state/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

// JumpCloud's system users as the reconciler sees it. Implemented by
// JumpCloudDirectory (HTTP). Field maps use the flat names of
// state::DirectoryUser (`jobTitle`, `phoneNumbers[type=work]`,
// `attributes[name=bobEmployeeId]`). Implementations retry idempotent reads and
// 429/5xx answers they know were not applied; they never blindly retry a
// create. Thread-safe: the applier calls it from several threads.
class Directory {
public:
  virtual ~Directory() = default;

  // Every user (paged internally).
  virtual ApiResult<std::vector<state::DirectoryUser>> list_users() = 0;

  // One user; error kind not_found when it does not exist.
  virtual ApiResult<state::DirectoryUser> get_user(const state::UserId& id) = 0;

  // Users whose `field` equals `value` exactly (`filter=field:$eq:value`).
  virtual ApiResult<std::vector<state::DirectoryUser>> find_users(std::string_view field,
                                                                  std::string_view value) = 0;

  // Creates a user with the given fields in `state` (STAGED only here).
  virtual ApiResult<state::DirectoryUser> create_user(const state::FlatMap<std::string>& fields,
                                                      state::UserState state) = 0;

  // Changes the given fields ("" clears) and optionally the state
  // (ACTIVATED/SUSPENDED). phoneNumbers and attributes are merged with what
  // the user has, because JumpCloud replaces arrays whole.
  virtual ApiResult<state::DirectoryUser> update_user(const state::UserId& id,
                                                      const state::FlatMap<std::string>& changes,
                                                      std::optional<state::UserState> state) = 0;
};

} // namespace bobsync::controller
