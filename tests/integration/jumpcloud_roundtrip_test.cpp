// Property: a JumpCloud user encoded (the body of POST /systemusers) and
// decoded (JumpCloud's answer, which echoes the body with an `_id`) equals
// the original, one user or a page of them. Pseudo-random users, fixed seeds.

#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"
#include "tests/support/random_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bobsync::controller {
namespace {

state::DirectoryUser random_user(testing::RandomText& r, std::uint32_t n) {
  static constexpr const char* k_scalars[] = {"firstname",
                                              "lastname",
                                              "displayname",
                                              "middlename",
                                              "jobTitle",
                                              "department",
                                              "employeeIdentifier",
                                              "location",
                                              "costCenter",
                                              "company",
                                              "employeeType",
                                              "description"};
  static constexpr const char* k_phone_types[] = {"work", "mobile", "home", "work_fax"};
  constexpr state::UserState k_states[] = {
      state::UserState::staged, state::UserState::activated, state::UserState::suspended};
  state::DirectoryUser user;
  user.id = "5f0c1b2c3d4e5f6a7b8c" + std::to_string(1000 + n);
  user.state = k_states[r.below(3)];
  // Values are never "": create_body leaves empty fields out.
  user.fields.set("email", r.identifier(10) + "@example.com");
  user.fields.set("username", r.identifier(12));
  for (const char* name : k_scalars) {
    if (r.chance(50)) {
      user.fields.set(name, "v" + r.text(20));
    }
  }
  for (const char* type : k_phone_types) {
    if (r.chance(40)) {
      user.fields.set(phone_field(type), "+" + r.text(12));
    }
  }
  const auto attributes = r.below(4);
  for (std::uint32_t i = 0; i < attributes; ++i) {
    // Attribute names may be any text without brackets.
    std::string name = r.chance(60) ? r.identifier(10) : "a" + r.text(8);
    std::erase_if(name, [](char c) { return c == '[' || c == ']'; });
    user.fields.set(state::attribute_field(name), "x" + r.text(16));
  }
  return user;
}

// JumpCloud's answer to a create: the body as sent, plus the new `_id`.
std::string answer_for(const state::DirectoryUser& user) {
  const auto body = create_body(user.fields, user.state);
  EXPECT_TRUE(body.has_value()) << body.error();
  auto answer = nlohmann::json::parse(body.value());
  answer["_id"] = user.id;
  return answer.dump();
}

TEST(JumpCloudRoundTrip, AUserEncodedAndDecodedIsTheSameUser) {
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    const auto user = random_user(r, seed);
    const auto decoded = user_from_json_text(answer_for(user));
    ASSERT_TRUE(decoded.has_value()) << decoded.error();
    EXPECT_EQ(decoded.value(), user);
  }
}

TEST(JumpCloudRoundTrip, APageOfEncodedUsersDecodesToTheSameUsers) {
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    std::vector<state::DirectoryUser> users;
    auto page = nlohmann::json::object();
    page["totalCount"] = 1000 + seed;
    page["results"] = nlohmann::json::array();
    const auto count = r.below(20);
    for (std::uint32_t i = 0; i < count; ++i) {
      users.push_back(random_user(r, i));
      page["results"].push_back(nlohmann::json::parse(answer_for(users.back())));
    }
    std::vector<state::DirectoryUser> decoded;
    long long total = 0;
    std::string error;
    ASSERT_TRUE(users_from_page_text(page.dump(r.chance(50) ? 2 : -1), decoded, total, error))
        << error;
    EXPECT_EQ(total, 1000 + seed);
    EXPECT_EQ(decoded, users);
  }
}

} // namespace
} // namespace bobsync::controller
