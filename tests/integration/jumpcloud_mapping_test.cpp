// JumpCloud JSON <-> DirectoryUser mapping (pure).

#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bobsync::controller {
namespace {

using nlohmann::json;
using state::UserState;

state::FlatMap<std::string>
fields(std::initializer_list<std::pair<std::string, std::string>> entries) {
  state::FlatMap<std::string> map;
  for (const auto& [k, v] : entries) {
    map.set(k, v);
  }
  return map;
}

TEST(JumpCloudMapping, UserFromJsonFlattensScalarsPhonesAndAttributes) {
  const auto user = user_from_json_text(R"({
    "_id": "66b2f0c1a1b2c3d4e5f60718", "username": "jane.doe", "email": "jane.doe@acme.com",
    "unix_uid": 5123, "sudo": false, "manager": null, "organization": "5a1b",
    "created": "2026-03-01T10:00:00.000Z", "mfa": {"configured": false},
    "phoneNumbers": [{"id": "p1", "type": "work", "number": "+49 30 1234"},
                     {"type": "work", "number": "+49 30 9999"},
                     {"type": "work_mobile", "number": null}],
    "attributes": [{"name": "hibobId", "value": "3332883884017713238"}, {"name": "n", "value": 5}],
    "state": "STAGED", "suspended": false})");

  ASSERT_TRUE(user) << user.error();
  EXPECT_EQ(user->id, "66b2f0c1a1b2c3d4e5f60718");
  EXPECT_EQ(user->state, UserState::staged);
  EXPECT_EQ(user->get("username"), "jane.doe");
  EXPECT_EQ(user->get("unix_uid"), "5123");
  EXPECT_EQ(user->get("sudo"), "false");
  EXPECT_FALSE(user->fields.contains("manager"));
  EXPECT_FALSE(user->fields.contains("organization"));
  EXPECT_FALSE(user->fields.contains("created"));
  EXPECT_FALSE(user->fields.contains("mfa"));
  EXPECT_EQ(user->get("phoneNumbers[type=work]"), "+49 30 1234"); // the first of a type wins
  EXPECT_FALSE(user->fields.contains("phoneNumbers[type=work_mobile]"));
  EXPECT_EQ(user->get("attributes[name=hibobId]"), "3332883884017713238");
  EXPECT_EQ(user->get("attributes[name=n]"), "5");
}

TEST(JumpCloudMapping, StateFallsBackToSuspended) {
  EXPECT_EQ(user_from_json_text(R"({"_id": "a", "suspended": true})")->state, UserState::suspended);
  EXPECT_EQ(user_from_json_text(R"({"_id": "a", "suspended": false})")->state,
            UserState::activated);
  EXPECT_EQ(user_from_json_text(R"({"_id": "a", "state": "weird", "suspended": true})")->state,
            UserState::suspended);
  EXPECT_FALSE(user_from_json_text(R"({"username": "no id"})"));
  EXPECT_FALSE(user_from_json_text(R"([1])"));
  EXPECT_FALSE(user_from_json_text(R"({"_id": )"));
}

TEST(JumpCloudMapping, FieldNames) {
  EXPECT_EQ(parse_field_name("jobTitle")->kind, FieldRef::Kind::scalar);
  EXPECT_EQ(parse_field_name("phoneNumbers[type=work_mobile]")->key, "work_mobile");
  EXPECT_EQ(parse_field_name("attributes[name=costCode]")->kind, FieldRef::Kind::attribute);
  for (const char* bad : {"",
                          "state",
                          "suspended",
                          "_id",
                          "phoneNumbers[type=]",
                          "addresses[type=work]",
                          "job title",
                          "attributes[name=a]b]"}) {
    EXPECT_FALSE(parse_field_name(bad)) << bad;
  }
}

TEST(JumpCloudMapping, CreateBodyCarriesStateSuspendedAndArrays) {
  const auto body = create_body(fields({{"username", "jane"},
                                        {"email", "jane@example.com"},
                                        {"middlename", ""},
                                        {"phoneNumbers[type=work]", "+1 5"},
                                        {"phoneNumbers[type=home]", ""},
                                        {"attributes[name=bobEmployeeId]", "333"}}),
                                UserState::suspended);

  ASSERT_TRUE(body) << body.error();
  const auto j = json::parse(*body);
  EXPECT_EQ(j["state"], "SUSPENDED");
  EXPECT_EQ(j["suspended"], true);
  EXPECT_FALSE(j.contains("middlename"));
  EXPECT_EQ(j["phoneNumbers"], json::parse(R"([{"type": "work", "number": "+1 5"}])"));
  EXPECT_EQ(j["attributes"], json::parse(R"([{"name": "bobEmployeeId", "value": "333"}])"));
  EXPECT_FALSE(create_body(fields({{"username", "jane"}}), UserState::activated));
  EXPECT_FALSE(create_body(fields({{"username", "j"}, {"email", "e"}, {"bad name", "x"}}),
                           UserState::activated));
}

TEST(JumpCloudMapping, UpdateBodyMergesArraysAndClears) {
  const std::string current = R"({"_id": "u1", "phoneNumbers": [
      {"id": "p1", "type": "work", "number": "+44 1"}, {"id": "p2", "type": "home", "number": "+44 2"},
      {"id": "p3", "type": "work", "number": "+44 3"}],
      "attributes": [{"name": "costCode", "value": "ENG"}, {"name": "bobEmployeeId", "value": "1"}]})";

  const auto body = update_body(fields({{"jobTitle", "Engineer"},
                                        {"location", ""},
                                        {"manager", ""},
                                        {"phoneNumbers[type=work]", "+44 9"},
                                        {"phoneNumbers[type=home]", ""},
                                        {"phoneNumbers[type=mobile]", "+44 7"},
                                        {"attributes[name=bobEmployeeId]", "2"}}),
                                UserState::activated,
                                current);

  ASSERT_TRUE(body) << body.error();
  const auto j = json::parse(*body);
  EXPECT_EQ(j["jobTitle"], "Engineer");
  EXPECT_EQ(j["location"], "");
  EXPECT_TRUE(j["manager"].is_null());
  EXPECT_EQ(j["phoneNumbers"],
            json::parse(
                R"([{"type": "work", "number": "+44 9"}, {"type": "mobile", "number": "+44 7"}])"));
  EXPECT_EQ(
      j["attributes"],
      json::parse(
          R"([{"name": "costCode", "value": "ENG"}, {"name": "bobEmployeeId", "value": "2"}])"));
  EXPECT_EQ(j["state"], "ACTIVATED");
  EXPECT_EQ(j["suspended"], false);
  EXPECT_FALSE(j.contains("username"));
}

TEST(JumpCloudMapping, UpdateBodyRefusesStagedAndArraysWithoutTheCurrentUser) {
  EXPECT_FALSE(update_body({}, UserState::staged, ""));
  EXPECT_FALSE(update_body(fields({{"attributes[name=x]", "1"}}), std::nullopt, ""));
  const auto scalars_only = update_body(fields({{"department", "R&D"}}), UserState::suspended, "");
  ASSERT_TRUE(scalars_only);
  EXPECT_EQ(json::parse(*scalars_only),
            json::parse(R"({"department": "R&D", "state": "SUSPENDED", "suspended": true})"));
}

TEST(JumpCloudPage, TheStreamingReaderMapsUsersLikeTheDocumentReader) {
  const std::vector<std::string> users = {
      R"({"_id": "a1", "username": "jane", "email": "j\u00e9@example.com", "unix_uid": 5123,
          "sudo": true, "manager": null, "organization": "o", "mfa": {"configured": false},
          "addresses": [{"type": "work", "locality": "Berlin"}],
          "phoneNumbers": [{"type": "work", "number": "+1"}, {"type": "work", "number": "+2"},
                           {"type": "home", "number": null}, {"type": 3, "number": "x"}],
          "attributes": [{"name": "n", "value": 5}, {"name": "s", "value": "a\"b"}, {"name": "o", "value": {}}],
          "state": "STAGED", "suspended": false})",
      R"({"_id": "a2", "suspended": true, "description": "emoji \ud83d\ude00"})",
      R"({"_id": "a3", "state": "ACTIVATED", "displayname": "Zoë Ødegård"})",
  };
  std::string page = R"({"totalCount": 3, "results": [)";
  for (std::size_t i = 0; i < users.size(); ++i) {
    page += (i > 0 ? "," : "") + users[i];
  }
  page += "]}";
  std::vector<state::DirectoryUser> parsed;
  long long total = 0;
  std::string error;

  ASSERT_TRUE(users_from_page_text(page, parsed, total, error)) << error;
  EXPECT_EQ(total, 3);
  ASSERT_EQ(parsed.size(), 3U);
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto expected = user_from_json_text(users[i]);
    ASSERT_TRUE(expected) << expected.error();
    EXPECT_EQ(parsed[i], *expected) << users[i];
  }
  EXPECT_EQ(parsed[0].get("email"), "jé@example.com");
  EXPECT_EQ(parsed[1].get("description"), "emoji \xF0\x9F\x98\x80");
}

TEST(JumpCloudPage, RejectsMalformedPages) {
  std::vector<std::string> pages = {R"({"totalCount": 0, "results": [], "x": )"
                                        + std::string(200, '[') + std::string(200, ']') + "}",
                                    std::string(R"({"totalCount": 0, "results": []})") + '\0'};
  for (const char* bad :
       {R"({"totalCount": 1, "results": [{"_id": "a"}])",
        R"({"totalCount": 1, "results": [{"username": "no id"}]})",
        R"({"totalCount": "1", "results": []})",
        R"({"results": []})",
        R"({"totalCount": 1, "results": [{"_id": "a", "x": tru}]})",
        R"({"totalCount": 1, "results": [{"_id": "a\ud800"}]})",
        R"({"totalCount": 0, "results": []} [])",
        R"(<html>)",
        // Values the mapping does not keep are checked all the same.
        R"({"totalCount": 1, "results": [{"_id": "a", "mfa": {"x": tru}}]})",
        R"({"totalCount": 1, "results": [{"_id": "a", "organization": [1, 01]}]})",
        R"({"totalCount": 1, "results": [{"_id": "a", "mfa": {"x\q": 1}}]})",
        R"({"totalCount": 1, "results": [{"_id": "a", "n": 1e400}]})",
        R"({"totalCount": 1, "x": [1,], "results": []})",
        "{\"totalCount\": 1, \"results\": [{\"_id\": \"a\", \"x\": \"\xff\"}]}",
        "{\"totalCount\": 1, \"results\": [{\"_id\": \"a\", \"x\": \"\xed\xa0\x80\"}]}",
        "{\"totalCount\": 1, \"results\": [{\"_id\": \"a\", \"x\": \"a\tb\"}]}",
        R"({"totalCount": 1, "results": [{"_id": "a\udc00"}]})",
        // Truncated (ending on an inner '}'), trailing bytes.
        R"({"totalCount": 0, "results": [], "x": {"b": 1})",
        R"({"totalCount": 0, "results": []} x)",
        R"({"totalCount": 0, "results": []}})",
        R"({"totalCount": 9223372036854775808, "results": []})",
        R"({"totalCount": 1.0, "results": []})",
        ""}) {
    pages.emplace_back(bad);
  }
  for (const auto& bad : pages) {
    std::vector<state::DirectoryUser> users;
    long long total = 0;
    std::string error;
    EXPECT_FALSE(users_from_page_text(bad, users, total, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(JumpCloudPage, AUserReadAloneIsMappedAsInAPage) {
  // Repeated names: a later scalar replaces an earlier one, null leaves it,
  // the first phone of a type wins across arrays; numbers keep their text.
  const std::string user = R"({"_id": "a", "email": "x@example.com", "email": null,
      "jobTitle": "A", "jobTitle": "B", "unix_uid": 1E2, "big": 123456789012345678901234567890,
      "phoneNumbers": [{"type": "work", "number": "+1"}],
      "phoneNumbers": [{"type": "work", "number": "+2"}, {"type": "home", "number": "+3"}],
      "suspended": true, "suspended": null})";
  std::vector<state::DirectoryUser> parsed;
  long long total = 0;
  std::string error;
  ASSERT_TRUE(
      users_from_page_text(R"({"totalCount": 1, "results": [)" + user + "]}", parsed, total, error))
      << error;
  const auto alone = user_from_json_text(user);
  ASSERT_TRUE(alone) << alone.error();
  ASSERT_EQ(parsed.size(), 1U);
  EXPECT_EQ(parsed[0], *alone);
  EXPECT_EQ(alone->get("email"), "x@example.com");
  EXPECT_EQ(alone->get("jobTitle"), "B");
  EXPECT_EQ(alone->get("unix_uid"), "1E2");
  EXPECT_EQ(alone->get("big"), "123456789012345678901234567890");
  EXPECT_EQ(alone->get("phoneNumbers[type=work]"), "+1");
  EXPECT_EQ(alone->get("phoneNumbers[type=home]"), "+3");
  EXPECT_EQ(alone->state, UserState::suspended);
}

TEST(JumpCloudMapping, UserFromJsonSaysWhatIsWrong) {
  EXPECT_EQ(user_from_json_text("[1]").error(), "user is not a JSON object");
  EXPECT_EQ(user_from_json_text("[1").error(), "user is not valid JSON");
  EXPECT_EQ(user_from_json_text("").error(), "user is not valid JSON");
  EXPECT_EQ(user_from_json_text("\xEF\xBB\xBF{\"_id\": \"a\"}").error(), "user is not valid JSON");
  EXPECT_EQ(user_from_json_text(R"({"_id": 5})").error(), "user has no string \"_id\"");
  EXPECT_EQ(user_from_json_text(R"({"x": 1} x)").error().rfind("user is not valid JSON", 0), 0U);
  EXPECT_EQ(user_from_json_text(R"({"_id": "a"} {})").error().rfind("user is not valid JSON", 0),
            0U);
  EXPECT_EQ(
      user_from_json_text(R"({"_id": "a", "n": tru})").error().rfind("user is not valid JSON", 0),
      0U);
  EXPECT_FALSE(user_from_json_text("{\"_id\": \"a\", \"x\": \"\xC0\xAF\"}"));
}

} // namespace
} // namespace bobsync::controller
