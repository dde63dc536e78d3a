// The Directory contract: every implementation must pass this suite.
// JumpCloudDirectory runs against FakeJumpCloud over loopback; MemoryDirectory
// in memory. What the port documents (and JumpCloud does) holds for both, so
// tests of the pass and the loop can use the in-memory one.

#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/ports/clock.hpp"
#include "controller/ports/memory_directory.hpp"
#include "sandbox/fake_jumpcloud.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

namespace bobsync::controller {
namespace {

using namespace std::chrono_literals;
using state::UserState;

// JumpCloudDirectory against FakeJumpCloud.
class HttpDirectoryEnv {
public:
  HttpDirectoryEnv() {
    sandbox::FakeJumpCloudOptions options;
    options.api_key = "contract-key";
    m_fake = std::make_unique<sandbox::FakeJumpCloud>(options);
    JumpCloudSettings settings;
    settings.base_url = m_fake->base_url();
    settings.api_key = "contract-key";
    settings.timeout = 5s;
    m_directory = std::make_unique<JumpCloudDirectory>(m_transport, m_clock, settings);
  }
  Directory& directory() { return *m_directory; }

private:
  std::unique_ptr<sandbox::FakeJumpCloud> m_fake;
  ManualClock m_clock;
  http::CurlTransport m_transport;
  std::unique_ptr<JumpCloudDirectory> m_directory;
};

class MemoryDirectoryEnv {
public:
  Directory& directory() { return m_directory; }

private:
  MemoryDirectory m_directory;
};

state::FlatMap<std::string>
fields(std::initializer_list<std::pair<std::string_view, std::string>> entries) {
  state::FlatMap<std::string> map;
  for (const auto& [k, v] : entries) {
    map.set(k, v);
  }
  return map;
}

state::FlatMap<std::string> person(const std::string& name, const std::string& identifier) {
  return fields({{"username", name},
                 {"email", name + "@example.com"},
                 {"employeeIdentifier", identifier},
                 {"firstname", "First " + name},
                 {"jobTitle", "Engineer"}});
}

template<typename Env> class DirectoryContract : public ::testing::Test {
protected:
  Directory& directory() { return m_env.directory(); }

  state::DirectoryUser create(const state::FlatMap<std::string>& f,
                              UserState state = UserState::activated) {
    auto created = directory().create_user(f, state);
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : state::DirectoryUser{};
  }

  std::size_t count() {
    auto users = directory().list_users();
    EXPECT_TRUE(users) << users.error().message;
    return users ? users->size() : 0;
  }

  Env m_env;
};

using DirectoryTypes = ::testing::Types<HttpDirectoryEnv, MemoryDirectoryEnv>;
TYPED_TEST_SUITE(DirectoryContract, DirectoryTypes);

TYPED_TEST(DirectoryContract, AnEmptyDirectoryListsNobody) {
  EXPECT_EQ(this->count(), 0U);
}

TYPED_TEST(DirectoryContract, ACreatedUserIsReturnedReadAndListedWithItsFields) {
  auto f = person("ada", "1001");
  f.set("phoneNumbers[type=work]", "+44 20 1");
  f.set("attributes[name=bobEmployeeId]", "3332");
  const auto created = this->create(f, UserState::staged);

  ASSERT_FALSE(created.id.empty());
  EXPECT_EQ(created.state, UserState::staged);
  const auto got = this->directory().get_user(created.id);
  ASSERT_TRUE(got) << got.error().message;
  for (const auto* u : {&created, &*got}) {
    EXPECT_EQ(u->id, created.id);
    EXPECT_EQ(u->get("username"), "ada");
    EXPECT_EQ(u->get("email"), "ada@example.com");
    EXPECT_EQ(u->get("employeeIdentifier"), "1001");
    EXPECT_EQ(u->get("jobTitle"), "Engineer");
    EXPECT_EQ(u->get("phoneNumbers[type=work]"), "+44 20 1");
    EXPECT_EQ(u->get("attributes[name=bobEmployeeId]"), "3332");
  }
  const auto users = this->directory().list_users();
  ASSERT_TRUE(users);
  ASSERT_EQ(users->size(), 1U);
  EXPECT_EQ(users->front().id, created.id);
  EXPECT_EQ(users->front().state, UserState::staged);
}

TYPED_TEST(DirectoryContract, ACreateKeepsTheStateAskedFor) {
  EXPECT_EQ(this->create(person("a", "1"), UserState::activated).state, UserState::activated);
  EXPECT_EQ(this->create(person("b", "2"), UserState::suspended).state, UserState::suspended);
  EXPECT_EQ(this->create(person("c", "3"), UserState::staged).state, UserState::staged);
}

TYPED_TEST(DirectoryContract, ACreateWithoutEmailOrUsernameIsRejected) {
  auto no_email = person("ada", "1");
  no_email.erase("email");
  auto no_username = person("bob", "2");
  no_username.erase("username");

  for (const auto& f : {no_email, no_username}) {
    const auto created = this->directory().create_user(f, UserState::activated);
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().kind, ErrorKind::rejected) << created.error().message;
  }
  EXPECT_EQ(this->count(), 0U);
}

TYPED_TEST(DirectoryContract, ADuplicateUniqueValueOnCreateIsAConflictAndCreatesNothing) {
  this->create(person("ada", "1001"));
  // username and email without regard to case; employeeIdentifier exactly.
  const std::vector<state::FlatMap<std::string>> duplicates = {
      fields({{"username", "ADA"}, {"email", "other@example.com"}, {"employeeIdentifier", "2"}}),
      fields({{"username", "other"}, {"email", "Ada@Example.com"}, {"employeeIdentifier", "3"}}),
      fields(
          {{"username", "third"}, {"email", "third@example.com"}, {"employeeIdentifier", "1001"}}),
  };
  for (const auto& f : duplicates) {
    const auto created = this->directory().create_user(f, UserState::activated);
    ASSERT_FALSE(created) << f.find("username");
    EXPECT_EQ(created.error().kind, ErrorKind::conflict) << created.error().message;
  }
  EXPECT_EQ(this->count(), 1U);
  // Another employeeIdentifier that differs only in case is another value.
  this->create(
      fields({{"username", "x"}, {"email", "x@example.com"}, {"employeeIdentifier", "A1"}}));
  const auto lower = this->directory().create_user(
      fields({{"username", "y"}, {"email", "y@example.com"}, {"employeeIdentifier", "a1"}}),
      UserState::activated);
  EXPECT_TRUE(lower) << lower.error().message;
}

TYPED_TEST(DirectoryContract, AnUpdateChangesOnlyTheGivenFieldsAndEmptyClears) {
  const auto id = this->create(person("ada", "1001")).id;

  const auto updated = this->directory().update_user(
      id, fields({{"jobTitle", "Lead"}, {"firstname", ""}, {"department", "R&D"}}), std::nullopt);

  ASSERT_TRUE(updated) << updated.error().message;
  const auto got = this->directory().get_user(id);
  ASSERT_TRUE(got);
  for (const auto* u : {&*updated, &*got}) {
    EXPECT_EQ(u->get("jobTitle"), "Lead");
    EXPECT_EQ(u->get("firstname"), "");
    EXPECT_EQ(u->get("department"), "R&D");
    EXPECT_EQ(u->get("email"), "ada@example.com");
    EXPECT_EQ(u->get("employeeIdentifier"), "1001");
    EXPECT_EQ(u->state, UserState::activated);
  }
}

TYPED_TEST(DirectoryContract, AnArrayEntryChangesAloneTheOthersAreKept) {
  auto f = person("ada", "1001");
  f.set("phoneNumbers[type=work]", "+44 1");
  f.set("phoneNumbers[type=mobile]", "+44 2");
  f.set("attributes[name=costCode]", "CC1");
  f.set("attributes[name=bobEmployeeId]", "3332");
  const auto id = this->create(f).id;

  const auto updated = this->directory().update_user(id,
                                                     fields({{"phoneNumbers[type=work]", "+44 9"},
                                                             {"attributes[name=costCode]", ""},
                                                             {"attributes[name=team]", "Core"}}),
                                                     std::nullopt);

  ASSERT_TRUE(updated) << updated.error().message;
  const auto got = this->directory().get_user(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->get("phoneNumbers[type=work]"), "+44 9");
  EXPECT_EQ(got->get("phoneNumbers[type=mobile]"), "+44 2");
  EXPECT_FALSE(got->fields.contains("attributes[name=costCode]"));
  EXPECT_EQ(got->get("attributes[name=bobEmployeeId]"), "3332");
  EXPECT_EQ(got->get("attributes[name=team]"), "Core");
}

TYPED_TEST(DirectoryContract, TheStateChangesBetweenActivatedAndSuspendedButNeverToStaged) {
  const auto id = this->create(person("ada", "1001"), UserState::staged).id;

  const auto staged = this->directory().update_user(id, {}, UserState::staged);
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().kind, ErrorKind::rejected);

  auto changed = this->directory().update_user(id, {}, UserState::activated);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(this->directory().get_user(id)->state, UserState::activated);
  changed = this->directory().update_user(id, fields({{"jobTitle", "Gone"}}), UserState::suspended);
  ASSERT_TRUE(changed) << changed.error().message;
  const auto got = this->directory().get_user(id);
  EXPECT_EQ(got->state, UserState::suspended);
  EXPECT_EQ(got->get("jobTitle"), "Gone");
}

TYPED_TEST(DirectoryContract, AnUpdateCannotTakeAnotherUsersEmailNorChangeTheUsername) {
  this->create(person("ada", "1001"));
  const auto id = this->create(person("bob", "1002")).id;

  const auto taken =
      this->directory().update_user(id, fields({{"email", "ADA@example.com"}}), std::nullopt);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().kind, ErrorKind::rejected) << taken.error().message;
  const auto renamed =
      this->directory().update_user(id, fields({{"username", "robert"}}), std::nullopt);
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().kind, ErrorKind::rejected) << renamed.error().message;

  const auto got = this->directory().get_user(id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->get("email"), "bob@example.com");
  EXPECT_EQ(got->get("username"), "bob");
}

TYPED_TEST(DirectoryContract, AnUnknownUserIsNotFound) {
  const std::string id = "66b2f0c1ffffffffffffffff";
  const auto got = this->directory().get_user(id);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::not_found);
  const auto updated = this->directory().update_user(id, fields({{"jobTitle", "X"}}), std::nullopt);
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().kind, ErrorKind::not_found);
}

TYPED_TEST(DirectoryContract, FindMatchesTopLevelFieldsExactly) {
  const auto ada = this->create(person("ada", "1001")).id;
  this->create(person("bob", "1002"));

  const auto by_identifier = this->directory().find_users("employeeIdentifier", "1001");
  ASSERT_TRUE(by_identifier) << by_identifier.error().message;
  ASSERT_EQ(by_identifier->size(), 1U);
  EXPECT_EQ(by_identifier->front().id, ada);
  const auto by_email = this->directory().find_users("email", "ada@example.com");
  ASSERT_TRUE(by_email);
  ASSERT_EQ(by_email->size(), 1U);
  EXPECT_EQ(by_email->front().id, ada);
  const auto by_title = this->directory().find_users("jobTitle", "Engineer");
  ASSERT_TRUE(by_title);
  EXPECT_EQ(by_title->size(), 2U);
  // Filter values are case-sensitive; nobody matches.
  const auto other_case = this->directory().find_users("email", "ADA@example.com");
  ASSERT_TRUE(other_case);
  EXPECT_TRUE(other_case->empty());
  const auto none = this->directory().find_users("employeeIdentifier", "9999");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  // Arrays cannot be filtered.
  const auto attribute = this->directory().find_users("attributes[name=bobEmployeeId]", "1");
  ASSERT_FALSE(attribute);
  EXPECT_EQ(attribute.error().kind, ErrorKind::rejected);
}

} // namespace
} // namespace bobsync::controller
