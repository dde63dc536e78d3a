#pragma once

// MemoryDirectory: the Directory port kept in memory, for tests (the pass,
// the applier, the controller loop) and dry runs. It honours the same
// contract as JumpCloudDirectory against FakeJumpCloud
// (tests/integration/directory_contract_test.cpp runs one suite against
// both), including JumpCloud's rules: username, email (both without regard to
// ASCII case) and employeeIdentifier are unique; a duplicate create is a
// conflict, a duplicate update is rejected; STAGED only at creation; the
// username cannot change; phoneNumbers and attributes entries change one by
// one ("" removes the entry), the rest of the arrays is kept.

#include "controller/ports/directory.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

// An in-memory Directory. Thread-safe: every operation holds one mutex.
class MemoryDirectory final : public Directory {
public:
  // The operations a test can make fail (fail_next).
  enum class Operation { list, get, find, create, update };

  MemoryDirectory() = default;

  ApiResult<std::vector<state::DirectoryUser>> list_users() override; // sorted by id
  ApiResult<state::DirectoryUser> get_user(const state::UserId& id) override;
  ApiResult<std::vector<state::DirectoryUser>> find_users(std::string_view field,
                                                          std::string_view value) override;
  ApiResult<state::DirectoryUser> create_user(const state::FlatMap<std::string>& fields,
                                              state::UserState state) override;
  ApiResult<state::DirectoryUser> update_user(const state::UserId& id,
                                              const state::FlatMap<std::string>& changes,
                                              std::optional<state::UserState> state) override;

  // Test set-up: stores `user` as it is (an empty id gets a new one), without
  // the uniqueness checks (JumpCloud may hold anything made by hand).
  // Returns the id.
  state::UserId put(state::DirectoryUser user);
  // What the directory holds now, sorted by id; nullopt when there is no
  // such user.
  std::vector<state::DirectoryUser> users() const;
  std::optional<state::DirectoryUser> user(const state::UserId& id) const;

  // The next `times` calls of `operation` fail with `error` and change
  // nothing. With `after_write` a create or update is done first and then
  // answers `error` (a lost response: the write happened).
  void fail_next(Operation operation, ApiError error, int times = 1, bool after_write = false);
  // How many calls of `operation` were made (failed ones included).
  int calls(Operation operation) const;

private:
  struct Fault {
    Operation operation;
    ApiError error;
    int times;
    bool after_write;
  };

  // The fault for this call, if any (mutex held); counts the call.
  std::optional<Fault> take_fault(Operation operation);
  // The message of the first unique value of `user` another user holds.
  std::optional<std::string> duplicate_of(const state::DirectoryUser& user) const;
  state::UserId new_id();

  mutable std::mutex m_mutex;
  std::map<state::UserId, state::DirectoryUser> m_users;
  std::vector<Fault> m_faults;
  std::map<Operation, int> m_calls;
  std::uint64_t m_next_id = 1;
};

} // namespace bobsync::controller
