// JumpCloudDirectory against FakeJumpCloud over real HTTP on loopback.

#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/fake_jumpcloud.hpp"
#include "tests/integration/support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

namespace bobsync::controller {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using sandbox::Fault;
using sandbox::FaultKind;
using state::UserState;

constexpr const char* k_key = "jc-test-key-9f8e7d";

state::FlatMap<std::string>
fields(std::initializer_list<std::pair<std::string, std::string>> entries) {
  state::FlatMap<std::string> map;
  for (const auto& [k, v] : entries) {
    map.set(k, v);
  }
  return map;
}

class JumpCloudDirectoryTest : public ::testing::Test {
protected:
  explicit JumpCloudDirectoryTest(std::optional<std::string> org = std::nullopt) {
    sandbox::FakeJumpCloudOptions options;
    options.api_key = k_key;
    options.org_id = org;
    m_fake = std::make_unique<sandbox::FakeJumpCloud>(options);
  }

  JumpCloudSettings settings() const {
    JumpCloudSettings s;
    s.base_url = m_fake->base_url();
    s.api_key = k_key;
    s.timeout = 5s;
    s.retry.jitter_seed = 7;
    return s;
  }

  JumpCloudDirectory& directory() {
    if (!m_directory) {
      m_directory = std::make_unique<JumpCloudDirectory>(m_transport, m_clock, settings());
    }
    return *m_directory;
  }

  std::string add(const std::string& user_json) { return m_fake->add_user(user_json); }

  json stored(const std::string& id) const { return json::parse(*m_fake->user_json(id)); }

  void seed(int n) {
    m_fake->reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      add(R"({"username": "user)" + std::to_string(i) + R"(", "email": "user)" + std::to_string(i)
          + R"(@example.com", "employeeIdentifier": ")" + std::to_string(1000 + i) + "\"}");
    }
  }

  int gets(const std::string& path = "/api/systemusers") const {
    return m_fake->stats().count("GET", path);
  }

  std::unique_ptr<sandbox::FakeJumpCloud> m_fake;
  ManualClock m_clock;
  http::CurlTransport m_transport;
  std::unique_ptr<JumpCloudDirectory> m_directory;
};

class ListPaging : public JumpCloudDirectoryTest, public ::testing::WithParamInterface<int> {};

TEST_P(ListPaging, MakesExactlyOneRequestPerHundredUsers) {
  const int n = GetParam();
  seed(n);

  auto users = directory().list_users();

  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(users->size(), static_cast<std::size_t>(n));
  EXPECT_EQ(gets(), std::max(1, (n + 99) / 100));
  std::set<std::string> ids;
  for (const auto& u : *users) {
    ids.insert(u.id);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
}

INSTANTIATE_TEST_SUITE_P(Sizes, ListPaging, ::testing::Values(0, 1, 99, 100, 101, 250));

TEST_F(JumpCloudDirectoryTest, ListMapsUsersToFlatFields) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com", "jobTitle": "Engineer",
      "phoneNumbers": [{"type": "work", "number": "+44 1"}, {"type": "home", "number": "+44 2"}],
      "attributes": [{"name": "bobEmployeeId", "value": "3332883854254932743"}],
      "state": "SUSPENDED"})");

  auto users = directory().list_users();

  ASSERT_TRUE(users) << users.error().message;
  ASSERT_EQ(users->size(), 1U);
  const auto& u = users->front();
  EXPECT_EQ(u.id, id);
  EXPECT_EQ(u.state, UserState::suspended);
  EXPECT_EQ(u.get("jobTitle"), "Engineer");
  EXPECT_EQ(u.get("phoneNumbers[type=work]"), "+44 1");
  EXPECT_EQ(u.get("phoneNumbers[type=home]"), "+44 2");
  EXPECT_EQ(u.get("attributes[name=bobEmployeeId]"), "3332883854254932743");
}

TEST_F(JumpCloudDirectoryTest, TheFakeDefaultsToTenPerPageAndClampsToAHundred) {
  seed(120);
  http::Request request;
  request.url = m_fake->base_url() + "/systemusers";
  request.headers = {{"x-api-key", k_key}};

  auto ten = m_transport.send(request);
  request.url += "?limit=500";
  auto hundred = m_transport.send(request);

  ASSERT_TRUE(ten && hundred);
  EXPECT_EQ(json::parse(ten->body)["results"].size(), 10U);
  EXPECT_EQ(json::parse(ten->body)["totalCount"], 120);
  EXPECT_EQ(json::parse(hundred->body)["results"].size(), 100U);
}

TEST_F(JumpCloudDirectoryTest, FindUsersFiltersExactlyAndCaseSensitively) {
  add(R"({"username": "priya", "email": "Priya.Sharma@Example.com"})");
  add(R"({"username": "plus", "email": "a+b c@example.com", "employeeIdentifier": "77"})");
  add(R"({"username": "other", "email": "other@example.com", "employeeIdentifier": "78"})");

  auto exact = directory().find_users("email", "Priya.Sharma@Example.com");
  auto other_case = directory().find_users("email", "priya.sharma@example.com");
  auto encoded = directory().find_users("email", "a+b c@example.com");
  auto by_eid = directory().find_users("employeeIdentifier", "78");
  auto bad = directory().find_users("phoneNumbers[type=work]", "1");

  ASSERT_TRUE(exact && other_case && encoded && by_eid);
  ASSERT_EQ(exact->size(), 1U);
  EXPECT_EQ(exact->front().get("username"), "priya");
  EXPECT_TRUE(other_case->empty());
  ASSERT_EQ(encoded->size(), 1U);
  EXPECT_EQ(encoded->front().get("username"), "plus");
  ASSERT_EQ(by_eid->size(), 1U);
  EXPECT_EQ(by_eid->front().get("username"), "other");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::rejected);
}

TEST_F(JumpCloudDirectoryTest, TheFakeAndsIndexedFiltersAndSorts) {
  add(R"({"username": "a", "email": "a@example.com", "department": "Sales", "location": "Berlin"})");
  add(R"({"username": "b", "email": "b@example.com", "department": "Sales", "location": "London"})");
  add(R"({"username": "c", "email": "c@example.com", "department": "R&D", "location": "London"})");
  http::Request request;
  request.headers = {{"x-api-key", k_key}};
  request.url = m_fake->base_url()
                + "/systemusers?filter[0]=" + http::url_encode("department:$eq:Sales")
                + "&filter[1]=" + http::url_encode("location:$eq:London");
  auto both = m_transport.send(request);
  request.url = m_fake->base_url() + "/systemusers?sort=-username";
  auto sorted = m_transport.send(request);
  request.url = m_fake->base_url() + "/systemusers?filter=" + http::url_encode("department:Sales");
  auto no_operator = m_transport.send(request);

  ASSERT_TRUE(both && sorted && no_operator);
  const auto b = json::parse(both->body);
  EXPECT_EQ(b["totalCount"], 1);
  EXPECT_EQ(b["results"][0]["username"], "b");
  const auto s = json::parse(sorted->body);
  EXPECT_EQ(s["results"][0]["username"], "c");
  EXPECT_EQ(s["results"][2]["username"], "a");
  EXPECT_EQ(no_operator->status, 400);
}

TEST_F(JumpCloudDirectoryTest, CreateSendsStateWithAConsistentSuspendedFlag) {
  struct Case {
    UserState state;
    const char* expected;
    bool suspended;
  };
  for (const auto& c : {Case{UserState::staged, "STAGED", false},
                        Case{UserState::activated, "ACTIVATED", false},
                        Case{UserState::suspended, "SUSPENDED", true}}) {
    const std::string name = std::string("new.") + c.expected;
    auto created = directory().create_user(fields({{"username", name},
                                                   {"email", name + "@example.com"},
                                                   {"phoneNumbers[type=work]", "+1 5"}}),
                                           c.state);

    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(created->state, c.state);
    EXPECT_EQ(created->id.size(), 24U);
    const auto user = stored(created->id);
    EXPECT_EQ(user["state"], c.expected);
    EXPECT_EQ(user["suspended"], c.suspended);
    EXPECT_EQ(user["phoneNumbers"][0]["number"], "+1 5");
  }
}

TEST_F(JumpCloudDirectoryTest, DuplicateCreateIsAConflict) {
  add(R"({"username": "jose.nunez", "email": "JOSE.NUNEZ@example.com", "employeeIdentifier": "1003"})");
  struct Case {
    const char* what;
    state::FlatMap<std::string> fields;
  };
  const std::vector<Case> cases = {
      {"email in another case", fields({{"username", "jn2"}, {"email", "jose.nunez@example.com"}})},
      {"username", fields({{"username", "Jose.Nunez"}, {"email", "x@example.com"}})},
      {"employeeIdentifier",
       fields({{"username", "jn3"}, {"email", "y@example.com"}, {"employeeIdentifier", "1003"}})},
  };
  for (const auto& c : cases) {
    auto created = directory().create_user(c.fields, UserState::activated);

    ASSERT_FALSE(created) << c.what;
    EXPECT_EQ(created.error().kind, ErrorKind::conflict) << c.what;
    EXPECT_EQ(created.error().http_status, 400);
    EXPECT_NE(created.error().message.find(
                  "JumpCloud create user: HTTP 400 Bad Request: User already exists"),
              std::string::npos)
        << created.error().message;
  }
  EXPECT_EQ(m_fake->user_count(), 1U);
  EXPECT_EQ(m_fake->write_count(), 0);
  EXPECT_EQ(m_fake->stats().count("POST", "/api/systemusers"), 3); // one each, never retried
}

TEST_F(JumpCloudDirectoryTest, StagedIsRefusedOnUpdateBeforeAnyRequest) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com"})");

  auto updated = directory().update_user(id, fields({{"jobTitle", "x"}}), UserState::staged);

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().kind, ErrorKind::rejected);
  EXPECT_EQ(m_fake->stats().total(), 0);
}

TEST_F(JumpCloudDirectoryTest, TheFakeRefusesStagedOnPut) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com", "state": "STAGED"})");
  http::Request request;
  request.method = "PUT";
  request.url = m_fake->base_url() + "/systemusers/" + id;
  request.headers = {{"x-api-key", k_key}, {"Content-Type", "application/json"}};
  request.body = R"({"state": "STAGED"})";

  auto response = m_transport.send(request);

  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(stored(id)["state"], "STAGED");
}

TEST_F(JumpCloudDirectoryTest, UpdateSendsOnlyTheChangedScalars) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com", "jobTitle": "Engineer",
      "department": "R&D", "location": "London", "manager": "5f0c1b2c3d4e5f6a7b8c0001"})");

  auto updated = directory().update_user(
      id,
      fields({{"jobTitle", "Staff Engineer"}, {"location", ""}, {"manager", ""}}),
      std::nullopt);

  ASSERT_TRUE(updated) << updated.error().message;
  const auto user = stored(id);
  EXPECT_EQ(user["jobTitle"], "Staff Engineer");
  EXPECT_EQ(user["department"], "R&D");
  EXPECT_EQ(user["location"], "");
  EXPECT_FALSE(user.contains("manager"));
  EXPECT_EQ(updated->get("jobTitle"), "Staff Engineer");
  EXPECT_EQ(gets("/api/systemusers/" + id), 0); // no read needed for scalars
}

TEST_F(JumpCloudDirectoryTest, UpdateMergesPhoneNumbersAndAttributesWithWhatTheUserHas) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com",
      "phoneNumbers": [{"type": "work", "number": "+44 1"}, {"type": "home", "number": "+44 2"}],
      "attributes": [{"name": "costCode", "value": "ENG-100"}]})");

  auto first =
      directory().update_user(id,
                              fields({{"phoneNumbers[type=work_mobile]", "+44 7"},
                                      {"phoneNumbers[type=work]", "+44 9"},
                                      {"attributes[name=bobEmployeeId]", "3332883854254932743"}}),
                              std::nullopt);
  ASSERT_TRUE(first) << first.error().message;
  auto second =
      directory().update_user(id, fields({{"phoneNumbers[type=home]", ""}}), std::nullopt);
  ASSERT_TRUE(second) << second.error().message;

  const auto user = directory().get_user(id);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->get("phoneNumbers[type=work]"), "+44 9");
  EXPECT_EQ(user->get("phoneNumbers[type=work_mobile]"), "+44 7");
  EXPECT_FALSE(user->fields.contains("phoneNumbers[type=home]"));
  EXPECT_EQ(user->get("attributes[name=costCode]"), "ENG-100");
  EXPECT_EQ(user->get("attributes[name=bobEmployeeId]"), "3332883854254932743");
  EXPECT_EQ(stored(id)["phoneNumbers"].size(), 2U);
}

TEST_F(JumpCloudDirectoryTest, TheFakeReplacesArraysWholeOnPut) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com",
      "phoneNumbers": [{"type": "work", "number": "+44 1"}, {"type": "home", "number": "+44 2"}]})");
  http::Request request;
  request.method = "PUT";
  request.url = m_fake->base_url() + "/systemusers/" + id;
  request.headers = {{"x-api-key", k_key}, {"Content-Type", "application/json"}};
  request.body = R"({"phoneNumbers": [{"type": "work_mobile", "number": "+44 7"}]})";

  auto response = m_transport.send(request);

  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const auto phones = stored(id)["phoneNumbers"];
  ASSERT_EQ(phones.size(), 1U);
  EXPECT_EQ(phones[0]["type"], "work_mobile");
}

TEST_F(JumpCloudDirectoryTest, StateChangesSendStateAndSuspendedTogether) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com", "state": "STAGED"})");

  auto suspended = directory().update_user(id, {}, UserState::suspended);
  ASSERT_TRUE(suspended) << suspended.error().message;
  EXPECT_EQ(stored(id)["state"], "SUSPENDED");
  EXPECT_EQ(stored(id)["suspended"], true);

  auto active = directory().update_user(id, {}, UserState::activated);
  ASSERT_TRUE(active) << active.error().message;
  EXPECT_EQ(active->state, UserState::activated);
  EXPECT_EQ(stored(id)["state"], "ACTIVATED");
  EXPECT_EQ(stored(id)["suspended"], false);
}

TEST_F(JumpCloudDirectoryTest, TheFakeRejectsContradictoryStateAndUsernameChanges) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com"})");
  http::Request request;
  request.method = "PUT";
  request.url = m_fake->base_url() + "/systemusers/" + id;
  request.headers = {{"x-api-key", k_key}, {"Content-Type", "application/json"}};

  request.body = R"({"state": "SUSPENDED", "suspended": false})";
  auto contradictory = m_transport.send(request);
  request.body = R"({"username": "ada2"})";
  auto rename = m_transport.send(request);

  ASSERT_TRUE(contradictory && rename);
  EXPECT_EQ(contradictory->status, 400);
  EXPECT_EQ(rename->status, 400);
  EXPECT_EQ(stored(id)["username"], "ada");
}

TEST_F(JumpCloudDirectoryTest, UpdatingAnEmailToOneInUseIsRejected) {
  add(R"({"username": "ada", "email": "ada@example.com"})");
  const auto id = add(R"({"username": "bob", "email": "bob@example.com"})");

  auto updated = directory().update_user(id, fields({{"email", "ADA@example.com"}}), std::nullopt);

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().kind, ErrorKind::rejected); // only a create's duplicate is a conflict
  EXPECT_EQ(stored(id)["email"], "bob@example.com");
}

TEST_F(JumpCloudDirectoryTest, GetUnknownUserIsNotFound) {
  auto user = directory().get_user("5f0c1b2c3d4e5f6a7b8c9d0e");

  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().kind, ErrorKind::not_found);
  EXPECT_EQ(user.error().message, "JumpCloud get user: HTTP 404 Not Found: User not found");
}

TEST_F(JumpCloudDirectoryTest, EditsBehindTheControllersBackAreSeen) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com", "department": "R&D"})");

  ASSERT_TRUE(m_fake->edit_user(id, R"({"department": "Sales", "state": "SUSPENDED"})"));
  auto user = directory().get_user(id);

  ASSERT_TRUE(user);
  EXPECT_EQ(user->get("department"), "Sales");
  EXPECT_EQ(user->state, UserState::suspended);
  EXPECT_EQ(m_fake->write_count(), 0);
}

TEST_F(JumpCloudDirectoryTest, LostResponseOfAnUpdateIsUnknownOutcomeButApplied) {
  const auto id = add(R"({"username": "ada", "email": "ada@example.com", "department": "R&D"})");
  Fault lost;
  lost.kind = FaultKind::lost_response;
  lost.method = "PUT";
  m_fake->faults().add(lost);

  auto updated = directory().update_user(id, fields({{"department", "Sales"}}), std::nullopt);

  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().kind, ErrorKind::unknown_outcome);
  EXPECT_EQ(stored(id)["department"], "Sales");
  EXPECT_EQ(m_fake->stats().count("PUT", "/api/systemusers/" + id), 1);
}

TEST_F(JumpCloudDirectoryTest, LostResponseOfACreateIsUnknownOutcomeAndTheUserCanBeFound) {
  Fault lost;
  lost.kind = FaultKind::lost_response;
  lost.method = "POST";
  m_fake->faults().add(lost);

  auto created = directory().create_user(
      fields({{"username", "grace"}, {"email", "grace@example.com"}, {"employeeIdentifier", "42"}}),
      UserState::activated);
  auto found = directory().find_users("employeeIdentifier", "42");

  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().kind, ErrorKind::unknown_outcome);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->size(), 1U);
}

TEST_F(JumpCloudDirectoryTest, ServerErrorWhileListingIsRetried) {
  seed(150);
  m_fake->faults().fail_next("/api/systemusers", 503, 1);

  auto users = directory().list_users();

  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(users->size(), 150U);
  EXPECT_EQ(gets(), 3);
}

struct BadListing {
  const char* name;
  sandbox::ListingFault fault;
  int users;
  const char* expected;
};

class BadListingTest : public JumpCloudDirectoryTest,
                       public ::testing::WithParamInterface<BadListing> {};

// A listing is used only when it is complete and consistent: as many users as
// totalCount says, the same totalCount on every page, each id once.
TEST_P(BadListingTest, FailsWithAClearErrorAfterBoundedRequests) {
  seed(GetParam().users);
  m_fake->set_listing_fault(GetParam().fault);

  auto users = directory().list_users();

  ASSERT_FALSE(users) << "accepted " << users->size() << " users";
  EXPECT_EQ(users.error().kind, ErrorKind::protocol);
  EXPECT_NE(users.error().message.find(GetParam().expected), std::string::npos)
      << users.error().message;
  EXPECT_NE(users.error().message.find("JumpCloud list users: "), std::string::npos);
  // Never more pages than the first totalCount announces.
  EXPECT_LE(gets(), (GetParam().users + 99) / 100 + 1);
}

INSTANTIATE_TEST_SUITE_P(
    Faults,
    BadListingTest,
    ::testing::Values(
        BadListing{"short_page_then_empty",
                   {sandbox::ListingFault::Kind::short_page, 0},
                   250,
                   "incomplete listing: 150 users read, totalCount 250"},
        BadListing{"total_count_larger",
                   {sandbox::ListingFault::Kind::wrong_total, 180},
                   150,
                   "incomplete listing: 150 users read, totalCount 180"},
        BadListing{"total_count_smaller",
                   {sandbox::ListingFault::Kind::wrong_total, 120},
                   150,
                   "page at skip 100 has 50 users, expected 20"},
        BadListing{"duplicate_ids",
                   {sandbox::ListingFault::Kind::duplicate_ids, 0},
                   150,
                   "is listed twice"},
        BadListing{"endless", {sandbox::ListingFault::Kind::endless, 0}, 150, "totalCount changed"},
        BadListing{"absurd_total",
                   {sandbox::ListingFault::Kind::wrong_total, 2000000000},
                   3,
                   "totalCount 2000000000 is more than bobsync accepts"},
        BadListing{"negative_total",
                   {sandbox::ListingFault::Kind::wrong_total, -1},
                   3,
                   "totalCount -1 is not a number of users"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST_F(JumpCloudDirectoryTest, PagesAreReadConcurrentlyAndTheResultIsCompleteAndOrdered) {
  seed(1050);
  m_fake->faults().set_latency(20ms);
  testing::CountingTransport counting(m_transport);
  auto s = settings();
  s.list_concurrency = 4;
  JumpCloudDirectory concurrent(counting, m_clock, s);
  s.list_concurrency = 1;
  JumpCloudDirectory sequential(m_transport, m_clock, s);

  auto fast = concurrent.list_users();
  auto slow = sequential.list_users();

  ASSERT_TRUE(fast) << fast.error().message;
  ASSERT_TRUE(slow) << slow.error().message;
  ASSERT_EQ(fast->size(), 1050U);
  std::vector<std::string> fast_ids;
  std::vector<std::string> slow_ids;
  for (const auto& u : *fast) {
    fast_ids.push_back(u.id);
  }
  for (const auto& u : *slow) {
    slow_ids.push_back(u.id);
  }
  EXPECT_EQ(fast_ids, slow_ids);
  EXPECT_TRUE(std::is_sorted(fast_ids.begin(), fast_ids.end()));
  EXPECT_EQ(std::set<std::string>(fast_ids.begin(), fast_ids.end()).size(), 1050U);
  EXPECT_EQ(counting.sent(), 11);
  EXPECT_GT(counting.max_in_flight(), 1);
  EXPECT_LE(counting.max_in_flight(), 4);
}

struct BrokenPage {
  const char* name;
  FaultKind kind;
  const char* expected;
};

class BrokenPageTest : public JumpCloudDirectoryTest,
                       public ::testing::WithParamInterface<BrokenPage> {};

TEST_P(BrokenPageTest, ListFailsWithAClearProtocolError) {
  seed(3);
  Fault fault;
  fault.kind = GetParam().kind;
  m_fake->faults().add(fault);

  auto users = directory().list_users();

  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().kind, ErrorKind::protocol);
  EXPECT_NE(users.error().message.find(GetParam().expected), std::string::npos)
      << users.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Faults,
    BrokenPageTest,
    ::testing::Values(
        BrokenPage{"malformed",
                   FaultKind::malformed_json,
                   "JumpCloud list users: response is not valid JSON"},
        BrokenPage{"truncated",
                   FaultKind::truncated_json,
                   "JumpCloud list users: response is not valid JSON"},
        BrokenPage{"html",
                   FaultKind::html_200,
                   "JumpCloud list users: response is not JSON (content-type text/html)"},
        BrokenPage{"text",
                   FaultKind::wrong_content_type,
                   "JumpCloud list users: response is not JSON (content-type text/plain)"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST_F(JumpCloudDirectoryTest, WritesAreBoundedByTheConfiguredConcurrency) {
  Fault slow;
  slow.kind = FaultKind::delay;
  slow.method = "POST";
  slow.delay = 40ms;
  slow.times = 100;
  m_fake->faults().add(slow);
  testing::CountingTransport counting(m_transport);
  auto s = settings();
  s.write_concurrency = 3;
  JumpCloudDirectory limited(counting, m_clock, s);

  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 9; ++i) {
    threads.emplace_back([&, i] {
      const auto name = "w" + std::to_string(i);
      if (!limited.create_user(fields({{"username", name}, {"email", name + "@example.com"}}),
                               UserState::activated)) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(m_fake->user_count(), 9U);
  EXPECT_LE(counting.max_in_flight(), 3);
}

TEST_F(JumpCloudDirectoryTest, TooManyRequestsLowerTheWriteConcurrencyUntilWritesSucceedAgain) {
  m_fake->faults().fail_next("/api/systemusers", 429, 2, "1");
  std::vector<std::string> lines;
  auto s = settings();
  s.write_concurrency = 4;
  s.log = [&](std::string_view line) { lines.emplace_back(line); };
  JumpCloudDirectory adaptive(m_transport, m_clock, s);
  auto create = [&](int i) {
    const auto name = "a" + std::to_string(i);
    return adaptive.create_user(fields({{"username", name}, {"email", name + "@example.com"}}),
                                UserState::activated);
  };

  ASSERT_TRUE(create(0)); // answered 429 twice (4 -> 2 -> 1), then created
  EXPECT_EQ(adaptive.write_concurrency_limit(), 1);
  EXPECT_EQ(m_fake->user_count(), 1U);
  for (int i = 1; i <= 58; ++i) {
    ASSERT_TRUE(create(i));
  }
  EXPECT_EQ(adaptive.write_concurrency_limit(), 3); // one step every 20 successes
  ASSERT_TRUE(create(59));

  EXPECT_EQ(adaptive.write_concurrency_limit(), 4);
  EXPECT_EQ(m_fake->user_count(), 60U);
  const auto logged = [&](std::string_view text) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find(text) != std::string::npos;
    });
  };
  EXPECT_TRUE(logged("JumpCloud write concurrency 4 -> 2 (answered 429 Too Many Requests)"));
  EXPECT_TRUE(logged("JumpCloud write concurrency 2 -> 1 (answered 429 Too Many Requests)"));
  EXPECT_TRUE(logged("JumpCloud write concurrency 3 -> 4 (writes succeed again)"));
}

TEST(JumpCloudPaging, AUserCreatedWhileListingFailsTheListingInsteadOfShiftingIt) {
  testing::StubTransport stub;
  stub.push(200, R"({"totalCount": 4, "results": [{"_id": "a1"}, {"_id": "a3"}]})");
  stub.push(200,
            R"({"totalCount": 5, "results": [{"_id": "a3"}, {"_id": "a4"}]})"); // a2 was created
  ManualClock clock;
  JumpCloudSettings s;
  s.base_url = "https://console.jumpcloud.com/api";
  s.api_key = "stub-key-1";
  s.page_size = 2;
  s.list_concurrency = 1;
  JumpCloudDirectory directory(stub, clock, s);

  auto users = directory.list_users();

  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().kind, ErrorKind::protocol);
  EXPECT_NE(
      users.error().message.find("totalCount changed while listing (4 at skip 0, 5 at skip 2)"),
      std::string::npos)
      << users.error().message;
  EXPECT_EQ(stub.requests()[1].url,
            "https://console.jumpcloud.com/api/systemusers?limit=2&skip=2&sort=_id");
}

TEST(JumpCloudPaging, UsersOutOfOrderFailTheListing) {
  for (const char* second : {R"({"totalCount": 4, "results": [{"_id": "a0"}, {"_id": "a4"}]})",
                             R"({"totalCount": 4, "results": [{"_id": "a5"}, {"_id": "a4"}]})"}) {
    testing::StubTransport stub;
    stub.push(200, R"({"totalCount": 4, "results": [{"_id": "a1"}, {"_id": "a3"}]})");
    stub.push(200, second);
    ManualClock clock;
    JumpCloudSettings s;
    s.base_url = "https://console.jumpcloud.com/api";
    s.api_key = "k";
    s.page_size = 2;
    s.list_concurrency = 1;
    JumpCloudDirectory directory(stub, clock, s);

    auto users = directory.list_users();

    ASSERT_FALSE(users) << second;
    EXPECT_EQ(users.error().kind, ErrorKind::protocol);
    EXPECT_NE(users.error().message.find("not in _id order"), std::string::npos);
  }
}

class JumpCloudWithOrg : public JumpCloudDirectoryTest {
protected:
  JumpCloudWithOrg()
      : JumpCloudDirectoryTest(std::string("5a1b2c3d4e5f60718293a4b5")) {}
};

TEST_F(JumpCloudWithOrg, OrgIdIsSentWhenConfigured) {
  add(R"({"username": "ada", "email": "ada@example.com"})");
  auto with_org = settings();
  with_org.org_id = "5a1b2c3d4e5f60718293a4b5";
  JumpCloudDirectory good(m_transport, m_clock, with_org);

  auto users = good.list_users();
  auto missing = directory().list_users();

  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(users->size(), 1U);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::unauthorized);
}

} // namespace
} // namespace bobsync::controller
