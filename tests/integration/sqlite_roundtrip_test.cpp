// Property: a cache row written and read back equals the original (the
// `users.fields` codec, and whole users through the SQLite store).
// Pseudo-random users, fixed seeds.

#include "state/sqlite/fields_codec.hpp"
#include "state/sqlite/sqlite_store.hpp"
#include "tests/support/random_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace bobsync::state {
namespace {

DirectoryUser random_user(testing::RandomText& r, std::uint32_t n) {
  constexpr UserState k_states[] = {UserState::staged, UserState::activated, UserState::suspended};
  DirectoryUser user;
  user.id = "u" + std::to_string(100000 + n);
  user.state = k_states[r.below(3)];
  const auto fields = r.below(10);
  for (std::uint32_t i = 0; i < fields; ++i) {
    // Any valid UTF-8, "" included, in names and values.
    user.fields.set(r.chance(70) ? r.identifier(12) : r.text(12), r.text(30));
  }
  return user;
}

TEST(CacheRoundTrip, FieldsEncodedAndDecodedAreTheSameFields) {
  for (std::uint32_t seed = 1; seed <= 1000; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    const auto user = random_user(r, seed);
    const auto encoded = sqlite_detail::encode_user_fields(user);
    EXPECT_EQ(sqlite_detail::decode_user_fields(encoded, user.id), user.fields);
  }
}

TEST(CacheRoundTrip, UsersWrittenAndReadAreTheSameUsers) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    auto store = SqliteStore::open(":memory:", OpenMode::writer);
    std::vector<DirectoryUser> users;
    const auto count = r.below(30);
    for (std::uint32_t i = 0; i < count; ++i) {
      users.push_back(random_user(r, i));
    }
    store->replace_users(users, "2026-12-01T10:00:00Z");
    // And one upserted over a replaced row.
    if (!users.empty()) {
      users.front() = random_user(r, 0);
      store->upsert_user(users.front());
    }
    std::sort(users.begin(), users.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    EXPECT_EQ(store->load_users(), users);
  }
}

} // namespace
} // namespace bobsync::state
