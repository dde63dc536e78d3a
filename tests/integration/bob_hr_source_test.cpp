// BobHrSource against FakeBob over real HTTP on loopback, and against the
// real Bob payloads in tests/testdata/bob/ (served by a stub transport).

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/fake_bob.hpp"
#include "tests/integration/support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace bobsync::controller {
namespace {

using namespace std::chrono_literals;
using sandbox::BobValue;
using sandbox::Fault;
using sandbox::FaultKind;

constexpr const char* k_user = "SERVICE-USER-42";
constexpr const char* k_token = "bob-t0ken-s3cret";

const std::vector<std::string> k_fields = {"root.email",
                                           "root.firstName",
                                           "root.surname",
                                           "root.secondName",
                                           "root.displayName",
                                           "work.title",
                                           "work.department",
                                           "work.site",
                                           "work.startDate",
                                           "work.employeeIdInCompany",
                                           "work.workPhone",
                                           "work.workMobile",
                                           "payroll.employment.type",
                                           "internal.status",
                                           "internal.lifecycleStatus",
                                           "internal.terminationDate",
                                           "employee.lastDayOfWork"};

const state::Employee* by_email(const std::vector<state::Employee>& employees,
                                std::string_view email) {
  const auto it = std::find_if(employees.begin(), employees.end(), [&](const auto& e) {
    return e.get("root.email") == email;
  });
  return it == employees.end() ? nullptr : &*it;
}

class BobHrSourceTest : public ::testing::Test {
protected:
  BobHrSourceTest() {
    sandbox::FakeBobOptions options;
    options.service_user_id = k_user;
    options.service_user_token = k_token;
    options.clock = [this] { return m_clock.wall_now(); };
    m_fake = std::make_unique<sandbox::FakeBob>(options);
    m_fake->load_seed(testing::source_file("examples/sandbox/employees.json"));
  }

  BobSettings settings(std::string token = k_token) const {
    BobSettings s;
    s.base_url = m_fake->base_url();
    s.service_user_id = k_user;
    s.service_user_token = std::move(token);
    s.search_timeout = 10s;
    s.read_timeout = 5s;
    s.retry.jitter_seed = 3;
    return s;
  }

  BobHrSource& source() {
    if (!m_source) {
      m_source = std::make_unique<BobHrSource>(m_transport, m_clock, settings());
    }
    return *m_source;
  }

  ManualClock m_clock;
  std::unique_ptr<sandbox::FakeBob> m_fake;
  http::CurlTransport m_transport;
  std::unique_ptr<BobHrSource> m_source;
};

TEST_F(BobHrSourceTest, OneSearchReadsEveryEmployeeWithHumanReadableValues) {
  auto employees = source().list_employees(k_fields);

  ASSERT_TRUE(employees) << employees.error().message;
  EXPECT_EQ(employees->size(), 55U);
  EXPECT_EQ(m_fake->search_count(), 1);
  const auto* jose = by_email(*employees, "jose.nunez@example.com");
  ASSERT_NE(jose, nullptr);
  EXPECT_EQ(jose->id.size(), 19U); // a 19-digit id, kept as a string
  EXPECT_EQ(jose->get("root.displayName"), "José Núñez");
  EXPECT_EQ(jose->get("work.title"), "Account Executive"); // list item 253271803
  EXPECT_EQ(jose->get("work.department"), "Sales");        // list item 110
  EXPECT_EQ(jose->get("payroll.employment.type"), "Full-time");
  EXPECT_EQ(jose->get("work.employeeIdInCompany"), "1003");
  EXPECT_EQ(jose->get("work.site"), "New York");
  EXPECT_EQ(jose->get("internal.status"), "Active");
}

TEST_F(BobHrSourceTest, InactiveEmployeesAndFutureStartersAreIncluded) {
  auto employees = source().list_employees(k_fields);

  ASSERT_TRUE(employees) << employees.error().message;
  const auto* leaver = by_email(*employees, "peter.novak@example.com");
  const auto* starter = by_email(*employees, "bjorn.andersson@example.com");
  ASSERT_NE(leaver, nullptr);
  ASSERT_NE(starter, nullptr);
  EXPECT_EQ(leaver->get("internal.status"), "Inactive");
  EXPECT_EQ(starter->get("internal.status"), "Inactive");
}

TEST_F(BobHrSourceTest, NullFieldsArePresentAndEmpty) {
  auto employees = source().list_employees(k_fields);

  ASSERT_TRUE(employees);
  const auto* ivan = by_email(*employees, "ivan.petrov@example.com");
  ASSERT_NE(ivan, nullptr);
  EXPECT_TRUE(ivan->fields.contains("work.workPhone"));
  EXPECT_EQ(ivan->get("work.workPhone"), "");
  EXPECT_TRUE(source().last_absent_fields().empty());
}

TEST_F(BobHrSourceTest, FieldsTheServiceUserCannotSeeAreReportedAbsent) {
  m_fake->hide_field("work.workMobile");
  m_fake->hide_field("payroll.employment.type");

  auto employees = source().list_employees(k_fields);

  ASSERT_TRUE(employees) << employees.error().message;
  EXPECT_FALSE(employees->front().fields.contains("work.workMobile"));
  EXPECT_EQ(source().last_absent_fields(),
            (std::vector<std::string>{"work.workMobile", "payroll.employment.type"}));
}

TEST_F(BobHrSourceTest, FieldsAbsentForAllIsEmptyWithoutEmployees) {
  EXPECT_TRUE(fields_absent_for_all({}, k_fields).empty());
  state::Employee e;
  e.id = "1";
  e.fields.set("root.email", "a@example.com");
  EXPECT_EQ(fields_absent_for_all({e}, {"root.id", "root.email", "work.title"}),
            (std::vector<std::string>{"work.title"}));
}

TEST_F(BobHrSourceTest, OneEmployeeByIdAndUnknownIdIsNullopt) {
  const auto all = m_fake->employees();
  const auto id = all.front().id;

  auto one = source().get_employee(id, k_fields);
  auto none = source().get_employee("1234567890123456789", k_fields);

  ASSERT_TRUE(one) << one.error().message;
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->id, id);
  EXPECT_EQ((*one)->get("root.email"), "amelia.clarke@example.com");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->has_value());
}

TEST_F(BobHrSourceTest, WrongCredentialsAreNotRetried) {
  BobHrSource wrong(m_transport, m_clock, settings("not-the-token"));

  auto employees = wrong.list_employees(k_fields);

  ASSERT_FALSE(employees);
  EXPECT_EQ(employees.error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(m_fake->stats().count("POST", "/v1/people/search"), 1);
  EXPECT_NE(employees.error().message.find("Bob people search: HTTP 401 Unauthorized"),
            std::string::npos);
  EXPECT_EQ(employees.error().message.find("not-the-token"), std::string::npos);
}

TEST_F(BobHrSourceTest, TheClientLimiterKeepsUnderBobsSearchLimit) {
  for (int i = 0; i < 51; ++i) {
    auto employees = source().list_employees({"root.email"});
    ASSERT_TRUE(employees) << i << ": " << employees.error().message;
  }

  EXPECT_EQ(m_fake->search_count(), 51); // none answered 429
  ASSERT_EQ(m_clock.sleeps().size(), 1U);
  EXPECT_EQ(m_clock.sleeps()[0], 60s); // the 51st waited for the first to leave the window
}

TEST_F(BobHrSourceTest, ServerRateLimitIsHonouredThroughXRateLimitReset) {
  // Another process used the budget: the fake answers 429 until the window moves.
  auto s = settings();
  s.search_requests_per_minute = 1000;
  BobHrSource eager(m_transport, m_clock, s);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(eager.list_employees({"root.email"}));
  }
  m_clock.clear_sleeps();

  auto employees = eager.list_employees({"root.email"});

  ASSERT_TRUE(employees) << employees.error().message;
  EXPECT_EQ(m_fake->search_count(), 52);
  ASSERT_EQ(m_clock.sleeps().size(), 1U);
  EXPECT_GE(m_clock.sleeps()[0], 59s);
  EXPECT_LE(m_clock.sleeps()[0], 61s);
}

TEST_F(BobHrSourceTest, LargeAnswersStreamAndKeepBobsOrder) {
  sandbox::FakeBob big;
  for (int i = 0; i < 3000; ++i) {
    sandbox::BobEmployee e;
    e.id = std::to_string(4000000000000000000LL + i);
    e.set("root.email", BobValue::string("p" + std::to_string(i) + "@example.com"));
    e.set("root.displayName", BobValue::string("Person Number " + std::to_string(i) + " Ünïcödé"));
    big.put_employee(e);
  }
  auto s = settings();
  s.base_url = big.base_url();
  s.service_user_id = "sandbox-user";
  s.service_user_token = "sandbox-token";
  s.parse_threads = 3;
  http::CurlTransport transport; // closes its connection before `big` stops
  BobHrSource source(transport, m_clock, s);

  auto employees = source.list_employees({"root.email", "root.displayName"});

  ASSERT_TRUE(employees) << employees.error().message;
  ASSERT_EQ(employees->size(), 3000U);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ((*employees)[static_cast<std::size_t>(i)].id,
              std::to_string(4000000000000000000LL + i));
  }
  EXPECT_EQ(employees->back().get("root.displayName"), "Person Number 2999 Ünïcödé");
}

TEST_F(BobHrSourceTest, HtmlPageIsAProtocolError) {
  Fault fault;
  fault.kind = FaultKind::html_200;
  m_fake->faults().add(fault);

  auto employees = source().list_employees(k_fields);

  ASSERT_FALSE(employees);
  EXPECT_EQ(employees.error().kind, ErrorKind::protocol);
  EXPECT_EQ(employees.error().message,
            "Bob people search: response is not JSON (content-type text/html)");
}

TEST_F(BobHrSourceTest, TruncatedOrMalformedJsonIsAProtocolError) {
  for (const auto kind : {FaultKind::truncated_json, FaultKind::malformed_json}) {
    Fault fault;
    fault.kind = kind;
    m_fake->faults().add(fault);

    auto employees = source().list_employees(k_fields);

    ASSERT_FALSE(employees);
    EXPECT_EQ(employees.error().kind, ErrorKind::protocol);
    EXPECT_NE(
        employees.error().message.find("Bob people search: response is not a valid people list"),
        std::string::npos)
        << employees.error().message;
  }
}

TEST_F(BobHrSourceTest, ACutOffTransferIsRetried) {
  Fault fault;
  fault.kind = FaultKind::lost_response;
  m_fake->faults().add(fault);

  auto employees = source().list_employees(k_fields);

  ASSERT_TRUE(employees) << employees.error().message;
  EXPECT_EQ(employees->size(), 55U);
  EXPECT_EQ(m_fake->search_count(), 2);
}

TEST_F(BobHrSourceTest, TimeoutIsTransientAndNamesTheOperation) {
  m_fake->faults().set_latency(5s);
  auto s = settings();
  s.read_timeout = 150ms;
  s.retry.max_attempts = 1;
  BobHrSource slow(m_transport, m_clock, s);

  auto employee = slow.get_employee("3332883854254931000", k_fields);

  ASSERT_FALSE(employee);
  EXPECT_EQ(employee.error().kind, ErrorKind::transient);
  EXPECT_NE(employee.error().message.find("Bob read employee: timed out"), std::string::npos)
      << employee.error().message;
}

TEST_F(BobHrSourceTest, ABobThatNeverAnswersFailsWithinTheConfiguredBounds) {
  m_fake->faults().set_latency(3600s); // accepts, reads, never answers (until destroyed)
  auto s = settings();
  s.search_timeout = 600s;
  s.stall_timeout = 1s;
  s.retry.max_attempts = 2;
  s.url_origin = "BOB_API_URL / source.bob.url";
  BobHrSource silent(m_transport, m_clock, s);
  const auto started = std::chrono::steady_clock::now();

  auto employees = silent.list_employees(k_fields);

  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(employees);
  EXPECT_EQ(employees.error().kind, ErrorKind::transient);
  EXPECT_NE(employees.error().message.find("Bob people search: no answer from " + m_fake->base_url()
                                           + " (BOB_API_URL / source.bob.url): no data for 1 s"),
            std::string::npos)
      << employees.error().message;
  EXPECT_EQ(m_fake->stats().count("POST", "/v1/people/search"), 2);
  // libcurl averages speed over about five seconds, and the request body
  // went out at once: a POST is seen stalled some 6 s after its last byte.
  EXPECT_LT(took, 20s);
}

TEST(BobSettingsDefaults, ANeverAnsweringBobFailsWellWithinTwoMinutes) {
  // The first try ends after stall_timeout without a byte; later tries are
  // cut to what is left of the retry budget, and none starts past it.
  const BobSettings bob;
  EXPECT_LE(bob.stall_timeout, 30s);
  EXPECT_LE(std::max<std::chrono::milliseconds>(bob.retry.budget, bob.stall_timeout), 90s);
  EXPECT_LE(bob.search_timeout, 120s);
  EXPECT_GT(bob.retry.budget, 60s) << "room for one wait of Bob's per-minute search limit";
}

TEST_F(BobHrSourceTest, TheTokenNeverAppearsInErrors) {
  Fault echo;
  echo.status = 500;
  echo.body = std::string(R"({"error": "cannot use token )") + k_token + " or "
              + base64_encode(std::string(k_user) + ":" + k_token) + "\"}";
  echo.times = 10;
  m_fake->faults().add(echo);

  auto employees = source().list_employees(k_fields);

  ASSERT_FALSE(employees);
  EXPECT_EQ(employees.error().message.find(k_token), std::string::npos)
      << employees.error().message;
  EXPECT_EQ(employees.error().message.find(base64_encode(std::string(k_user) + ":" + k_token)),
            std::string::npos);
  EXPECT_NE(employees.error().message.find("cannot use token *** or ***"), std::string::npos)
      << employees.error().message;
}

// ---- the real payloads ------------------------------------------------------

class BobPayloadTest : public ::testing::Test {
protected:
  BobSettings settings() const {
    BobSettings s;
    s.base_url = "https://api.hibob.com/v1/";
    s.service_user_id = k_user;
    s.service_user_token = k_token;
    return s;
  }

  ManualClock m_clock;
  testing::StubTransport m_stub;
};

TEST_F(BobPayloadTest, RealSearchResponseIsParsed) {
  m_stub.push(200,
              testing::testdata("bob/people-search.APPEND.scrubbed.json"),
              "application/json; charset=utf-8");
  BobHrSource source(m_stub, m_clock, settings());

  auto employees =
      source.list_employees({"root.id", "root.displayName", "root.email", "work.title"});

  ASSERT_TRUE(employees) << employees.error().message;
  ASSERT_EQ(employees->size(), 3U);
  EXPECT_EQ((*employees)[0].id, "3987598587553907167");
  EXPECT_EQ((*employees)[2].id, "3991677493793784607");
  EXPECT_EQ((*employees)[0].get("root.email"), "person@example.com");
  EXPECT_EQ((*employees)[0].get("work.title"), "<text>");
  const auto requests = m_stub.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "https://api.hibob.com/v1/people/search");
  const auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["showInactive"], true);
  EXPECT_EQ(body["humanReadable"], "APPEND");
  EXPECT_EQ(body["fields"],
            nlohmann::json({"root.id", "root.displayName", "root.email", "work.title"}));
  const auto auth = std::find_if(requests[0].headers.begin(),
                                 requests[0].headers.end(),
                                 [](const auto& h) { return h.first == "Authorization"; });
  ASSERT_NE(auth, requests[0].headers.end());
  EXPECT_EQ(auth->second, basic_authorization(k_user, k_token));
}

TEST_F(BobPayloadTest, ABadEmployeeObjectIsNamed) {
  m_stub.push(200, R"({"employees": [{"id": "1", "email": "a@example.com"}, {"email": "no id"}]})");
  BobHrSource source(m_stub, m_clock, settings());

  auto employees = source.list_employees({"root.email"});

  ASSERT_FALSE(employees);
  EXPECT_EQ(employees.error().kind, ErrorKind::protocol);
  EXPECT_NE(employees.error().message.find("Bob people search: employee 2: "), std::string::npos)
      << employees.error().message;
}

TEST_F(BobPayloadTest, RealReadOneResponsesAreParsed) {
  m_stub.push(200, testing::testdata("bob/people-read-one.APPEND.scrubbed.json"));
  m_stub.push(200, testing::testdata("bob/people-read-one.machine.scrubbed.json"));
  BobHrSource source(m_stub, m_clock, settings());
  const std::vector<std::string> fields = {
      "root.email", "work.startDate", "work.department", "home.mobilePhone", "work.salary"};

  auto appended = source.get_employee("3980342332732998349", fields);
  auto machine = source.get_employee("3980342332732998349", fields);

  ASSERT_TRUE(appended && machine);
  ASSERT_TRUE(appended->has_value() && machine->has_value());
  EXPECT_EQ((*appended)->id, "3980342332732998349");
  EXPECT_EQ((*machine)->get("work.startDate"), "2026-09-06");
  EXPECT_TRUE((*machine)->fields.contains("work.department")); // null: present, empty
  EXPECT_EQ((*machine)->get("work.department"), "");
  EXPECT_FALSE((*machine)->fields.contains("work.salary")); // not sent at all
  EXPECT_EQ(m_stub.requests()[0].url, "https://api.hibob.com/v1/people/3980342332732998349");
  EXPECT_EQ(nlohmann::json::parse(m_stub.requests()[0].body)["humanReadable"], "APPEND");
}

TEST(SplitSearchResponse, FindsEachEmployeeObject) {
  const auto text = testing::testdata("bob/people-search.APPEND.scrubbed.json");
  std::vector<std::string> employees;
  std::string error;

  ASSERT_TRUE(split_search_response(text, employees, error)) << error;
  ASSERT_EQ(employees.size(), 3U);
  EXPECT_EQ(employees[0].front(), '{');
  EXPECT_EQ(employees[0].back(), '}');
  EXPECT_NE(employees[1].find("3980342572051595995"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(employees[2]));
}

TEST(SearchSplitter, GivesTheSameObjectsWhateverTheChunkSize) {
  const auto text =
      std::string(R"( {"meta": {"a": [1, {"b": "]}"}], "c": -1.5e3, "d": [true, null]},)")
      + R"( "employees": [{"id": "1", "x": "a \" } ] { [", "p": "c:\\"}, {"id": "2", "y": [[{}]]}],)"
      + R"( "z": "\u00e9"} )";
  // Every cut of the answer into chunks of one size: a chunk can end inside
  // an escape, a string or an employee, anywhere.
  for (std::size_t chunk = 1; chunk <= text.size(); ++chunk) {
    std::vector<std::string> employees;
    SearchSplitter splitter([&](std::string&& e) {
      employees.push_back(std::move(e));
      return true;
    });
    bool ok = true;
    for (std::size_t i = 0; i < text.size() && ok; i += chunk) {
      ok = splitter.feed(std::string_view(text).substr(i, chunk));
    }
    ASSERT_TRUE(ok && splitter.finish()) << chunk << ": " << splitter.error();
    ASSERT_EQ(employees.size(), 2U) << chunk;
    EXPECT_EQ(employees[0], R"({"id": "1", "x": "a \" } ] { [", "p": "c:\\"})");
    EXPECT_EQ(employees[1], R"({"id": "2", "y": [[{}]]})");
  }
}

TEST(SearchSplitter, RejectsMalformedBodies) {
  const auto real = testing::testdata("bob/people-search.APPEND.scrubbed.json");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated", real.substr(0, real.size() / 2)},
      {"no employees", R"({"people": []})"},
      {"employees not an array", R"({"employees": {}})"},
      {"element not an object", R"({"employees": [1]})"},
      {"trailing comma", R"({"employees": [{},]})"},
      {"trailing garbage", R"({"employees": []} x)"},
      {"bad literal", R"({"employees": [], "a": tru})"},
      {"bad number", R"({"employees": [], "a": 01})"},
      {"mismatched brackets", R"({"employees": [], "a": [}]})"},
      {"missing comma", R"({"employees": [] "a": 1})"},
      {"unterminated string", R"({"employees": [{"a": "b}]})"},
      {"empty", ""},
      {"html", "<html></html>"},
  };
  for (const auto& [name, text] : cases) {
    std::vector<std::string> employees;
    std::string error;
    EXPECT_FALSE(split_search_response(text, employees, error)) << name;
    EXPECT_FALSE(error.empty()) << name;
    EXPECT_TRUE(employees.empty()) << name;
  }
}

TEST(SearchSplitter, StopsWhenTheReceiverRefuses) {
  int seen = 0;
  SearchSplitter splitter([&](std::string&&) { return ++seen < 2; });

  EXPECT_FALSE(splitter.feed(R"({"employees": [{}, {}, {}]})"));
  EXPECT_EQ(seen, 2);
}

TEST(Base64, MatchesKnownVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

} // namespace
} // namespace bobsync::controller
