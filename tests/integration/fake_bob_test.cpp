// FakeBob's own behaviour: the response shapes, showInactive, the rate limit,
// errors, and the admin operations with their signed webhooks.

#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/fake_bob.hpp"
#include "sandbox/server_support.hpp"
#include "tests/integration/support.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <mutex>
#include <thread>

namespace bobsync::sandbox {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = controller::http;

// A webhook receiver on loopback that records what it gets.
class Receiver {
public:
  Receiver() {
    m_server.Post("/webhooks/bob",
                  [this](const httplib::Request& request, httplib::Response& response) {
                    const std::lock_guard lock(m_mutex);
                    m_received.push_back({request.body, request.get_header_value("Bob-Signature")});
                    response.status = 202;
                  });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~Receiver() {
    m_server.stop();
    m_thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/webhooks/bob"; }
  std::vector<std::pair<std::string, std::string>> received() const {
    const std::lock_guard lock(m_mutex);
    return m_received;
  }

private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::vector<std::pair<std::string, std::string>> m_received;
};

std::string expected_signature(const std::string& secret, const std::string& body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha512(),
       secret.data(),
       static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()),
       body.size(),
       mac.data(),
       &length);
  return controller::base64_encode(std::string(reinterpret_cast<const char*>(mac.data()), length));
}

class FakeBobTest : public ::testing::Test {
protected:
  FakeBobTest() {
    FakeBobOptions options;
    options.clock = [this] { return m_clock.wall_now(); }; // 2026-11-18
    options.webhook_url = m_receiver.url();
    options.webhook_secret = "whsec-123";
    m_fake = std::make_unique<FakeBob>(options);
    m_fake->define_list("work.title", {{"253271839", "CEO"}});
    BobEmployee ada;
    ada.id = "3332883854254932743";
    ada.set("root.email", BobValue::string("ada@example.com"));
    ada.set("root.firstName", BobValue::string("Ada"));
    ada.set("work.title", BobValue::string("253271839"));
    ada.set("work.startDate", BobValue::string("2020-05-09"));
    ada.set("work.employeeIdInCompany", BobValue::number("17"));
    ada.set("work.workPhone", BobValue::null());
    m_fake->put_employee(ada);
    BobEmployee later;
    later.id = "3332883854254932744";
    later.set("root.email", BobValue::string("later@example.com"));
    later.set("work.startDate", BobValue::string("2027-01-04"));
    m_fake->put_employee(later);
  }

  http::Response post(const std::string& path, const std::string& body, bool auth = true) {
    http::Request request;
    request.method = "POST";
    request.url = m_fake->base_url() + path;
    request.body = body;
    if (auth) {
      request.headers.emplace_back(
          "Authorization", controller::basic_authorization("sandbox-user", "sandbox-token"));
    }
    auto response = m_transport.send(request);
    EXPECT_TRUE(response) << response.error().detail;
    return response ? *response : http::Response{};
  }

  json search(const json& body) {
    const auto response = post("/people/search", body.dump());
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body);
  }

  controller::ManualClock m_clock{
      std::chrono::system_clock::time_point(std::chrono::seconds(1795000000))};
  Receiver m_receiver;
  std::unique_ptr<FakeBob> m_fake;
  http::CurlTransport m_transport;
};

TEST_F(FakeBobTest, SearchAnswersNestedFlatAndHumanReadableShapes) {
  const auto body = search({{"fields",
                             {"root.id",
                              "root.email",
                              "work.title",
                              "work.startDate",
                              "work.employeeIdInCompany",
                              "work.workPhone"}},
                            {"showInactive", true},
                            {"humanReadable", "APPEND"}});

  ASSERT_EQ(body["employees"].size(), 2U);
  const auto& ada = body["employees"][0];
  EXPECT_EQ(ada["id"], "3332883854254932743");
  EXPECT_EQ(ada["email"], "ada@example.com"); // root fields at the top
  EXPECT_EQ(ada["/root/email"]["value"], "ada@example.com");
  EXPECT_EQ(ada["work"]["title"], "253271839"); // machine: the list item id
  EXPECT_EQ(ada["/work/title"]["value"], "253271839");
  EXPECT_EQ(ada["humanReadable"]["work"]["title"], "CEO"); // human: its name
  EXPECT_EQ(ada["work"]["startDate"], "2020-05-09");
  EXPECT_EQ(ada["humanReadable"]["work"]["startDate"], "09/05/2020");
  EXPECT_EQ(ada["work"]["employeeIdInCompany"], 17); // a JSON number
  EXPECT_TRUE(ada["work"]["workPhone"].is_null());   // null nested...
  EXPECT_FALSE(ada.contains("/work/workPhone"));     // ...no flat key
  EXPECT_FALSE(ada["humanReadable"]["work"].contains("workPhone"));
  EXPECT_FALSE(ada.contains("firstName")); // not requested
}

TEST_F(FakeBobTest, ShowInactiveFalseHidesInactiveEmployees) {
  const auto active = search({{"fields", {"root.email", "internal.status"}}});
  const auto all = search({{"fields", {"root.email", "internal.status"}}, {"showInactive", true}});

  ASSERT_EQ(active["employees"].size(), 1U);
  EXPECT_EQ(active["employees"][0]["email"], "ada@example.com");
  ASSERT_EQ(all["employees"].size(), 2U);
  EXPECT_EQ(all["employees"][1]["internal"]["status"], "Inactive"); // hired, starts in 2027
}

TEST_F(FakeBobTest, SearchIsLimitedToFiftyRequestsPerMinute) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(post("/people/search", "{}").status, 200) << i;
  }
  const auto limited = post("/people/search", "{}");
  m_clock.advance(60s);
  const auto again = post("/people/search", "{}");

  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("x-ratelimit-reset"), "1795000060");
  EXPECT_EQ(again.status, 200);
}

TEST_F(FakeBobTest, ErrorsLookLikeBobs) {
  const auto unauthorized = post("/people/search", "{}", false);
  const auto malformed = post("/people/search", "{\"fields\": ");
  const auto bad_field = post("/people/search", R"({"fields": ["work title"]})");
  const auto unknown = post("/people/1234", "{}");
  const auto by_email = post("/people/ada@example.com", R"({"fields": ["root.email"]})");

  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_TRUE(json::parse(malformed.body).contains("error"));
  EXPECT_EQ(bad_field.status, 400);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(by_email.status, 200);
  EXPECT_EQ(json::parse(by_email.body)["id"], "3332883854254932743");
}

TEST_F(FakeBobTest, HireSendsSignedV2Webhooks) {
  BobEmployee grace;
  grace.set("root.email", BobValue::string("grace@example.com"));
  grace.set("work.startDate", BobValue::string("2026-11-02"));

  const auto id = m_fake->hire(grace);

  const auto received = m_receiver.received();
  ASSERT_EQ(received.size(), 2U);
  const auto created = json::parse(received[0].first);
  EXPECT_EQ(created["type"], "employee.created");
  EXPECT_EQ(created["version"], "v2");
  EXPECT_EQ(created["companyId"], 636192);
  EXPECT_EQ(created["data"]["employeeId"], id);
  EXPECT_EQ(received[0].second, expected_signature("whsec-123", received[0].first));
  EXPECT_EQ(json::parse(received[1].first)["type"], "employee.joined"); // start date passed
  EXPECT_EQ(m_fake->webhooks()[0].status, 202);
  EXPECT_EQ(m_fake->employee(id)->find("internal.status")->text, "Active");
}

TEST_F(FakeBobTest, ChangeTerminateAndDeleteAreAnnounced) {
  ASSERT_TRUE(
      m_fake->change("3332883854254932743", {{"work.title", BobValue::string("253271839")}}));
  ASSERT_TRUE(m_fake->terminate("3332883854254932743", "2026-11-10"));
  ASSERT_TRUE(m_fake->remove("3332883854254932744"));
  EXPECT_FALSE(m_fake->remove("3332883854254932744"));

  std::vector<std::string> types;
  for (const auto& [body, signature] : m_receiver.received()) {
    types.push_back(json::parse(body)["type"]);
    EXPECT_EQ(signature, expected_signature("whsec-123", body));
  }
  EXPECT_EQ(types,
            (std::vector<std::string>{"employee.updated",
                                      "table.entry.created",
                                      "employee.left",
                                      "employee.inactivated",
                                      "employee.deleted"}));
  EXPECT_EQ(json::parse(m_receiver.received()[0].first)["data"]["fieldUpdates"],
            json({"work.title"}));
  EXPECT_EQ(json::parse(m_receiver.received()[1].first)["data"]["effectiveDate"], "2026-11-10");
  const auto ada = m_fake->employee("3332883854254932743");
  EXPECT_EQ(ada->find("internal.status")->text, "Inactive");
  EXPECT_EQ(ada->find("internal.lifecycleStatus")->text, "terminated");
  EXPECT_EQ(m_fake->employee_count(), 1U);
}

TEST_F(FakeBobTest, AFutureTerminationIsScheduledNotEffective) {
  ASSERT_TRUE(m_fake->terminate("3332883854254932743", "2026-12-31", std::string("2026-12-20")));

  const auto ada = m_fake->employee("3332883854254932743");
  EXPECT_EQ(ada->find("internal.status")->text, "Active");
  EXPECT_EQ(ada->find("employee.lastDayOfWork")->text, "2026-12-20");
  EXPECT_EQ(m_receiver.received().size(), 1U); // table.entry.created only
  m_clock.advance(std::chrono::hours(24 * 50));
  EXPECT_EQ(m_fake->employee("3332883854254932743")->find("internal.status")->text, "Inactive");
}

TEST_F(FakeBobTest, AdminEndpointsWorkOverHttp) {
  http::Request hire;
  hire.method = "POST";
  hire.url = "http://127.0.0.1:" + std::to_string(m_fake->port()) + "/_admin/employees";
  hire.body = R"({"root.email": "new@example.com", "work.startDate": "2027-02-01"})";
  auto hired = m_transport.send(hire);
  ASSERT_TRUE(hired);
  ASSERT_EQ(hired->status, 201) << hired->body;
  const std::string id = json::parse(hired->body)["id"];

  http::Request change;
  change.method = "PATCH";
  change.url = hire.url + "/" + id;
  change.body = R"({"work.title": "253271839"})";
  auto changed = m_transport.send(change);
  http::Request terminate;
  terminate.method = "POST";
  terminate.url = hire.url + "/" + id + "/terminate";
  terminate.body = R"({"terminationDate": "2026-11-01"})";
  auto terminated = m_transport.send(terminate);

  ASSERT_TRUE(changed && terminated);
  EXPECT_EQ(changed->status, 200);
  EXPECT_EQ(terminated->status, 200);
  EXPECT_EQ(m_fake->employee(id)->find("work.title")->text, "253271839");
  EXPECT_EQ(m_fake->employee(id)->find("internal.terminationDate")->text, "2026-11-01");
  EXPECT_EQ(m_fake->stats().total(), 0); // admin calls are not API requests
}

TEST(FakeBobSeed, TheExampleSeedLoadsWithItsEdgeCases) {
  FakeBob fake;
  fake.load_seed(testing::source_file("examples/sandbox/employees.json"));

  const auto employees = fake.employees();
  ASSERT_GE(employees.size(), 50U);
  std::map<std::string, int> emails;
  std::map<std::string, int> names;
  for (const auto& e : employees) {
    ++emails[e.find("root.email")->text];
    ++names[e.find("root.displayName")->text];
  }
  EXPECT_EQ(emails["alex.morgan@example.com"], 2);
  EXPECT_EQ(names["John Smith"], 2);
  EXPECT_EQ(names["王小明"], 1);
  EXPECT_THROW(fake.load_seed(R"({"employees": [{"root.email": "x"}]})"), std::runtime_error);
  EXPECT_THROW(fake.load_seed("[1,2]"), std::runtime_error);
}

// The fakes write every string through one escaper: whatever the bytes
// (every control character, quotes, backslashes, UTF-8, runs of each at the
// start, middle and end), what it writes reads back as the same string.
TEST(FakeJson, AnyStringIsWrittenAsJsonThatReadsBackTheSame) {
  std::vector<std::string> texts = {
      "", "plain", "\"", "\\", "a\"b\\c", "Zoë Ångström 日本", std::string("nul\0inside", 10)};
  std::string every;
  for (int c = 0; c < 0x80; ++c) {
    every += static_cast<char>(c);
    texts.push_back(std::string(1, static_cast<char>(c)));
    texts.push_back("x" + std::string(3, static_cast<char>(c)) + "y");
  }
  texts.push_back(every);
  for (const auto& text : texts) {
    const auto quoted = detail::json_quote(text);
    ASSERT_TRUE(json::accept(quoted)) << quoted;
    EXPECT_EQ(json::parse(quoted).get<std::string>(), text) << quoted;
  }
  std::string out = "[";
  detail::append_json_string(out, "a\tb");
  EXPECT_EQ(out, "[\"a\\tb\"");
}

} // namespace
} // namespace bobsync::sandbox
