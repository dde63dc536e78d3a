// The HTTP layer (CurlTransport + ApiClient) against FakeJumpCloud over real
// HTTP on loopback: retries, server-chosen delays, faults, refusals, redaction.

#include "controller/adapters/http/api_client.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/http/rate_limiter.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/fake_jumpcloud.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

namespace bobsync::controller::http {
namespace {

using namespace std::chrono_literals;
using sandbox::Fault;
using sandbox::FaultKind;

constexpr const char* k_key = "jc-key-5e3cr3t-value";

class HttpClientTest : public ::testing::Test {
protected:
  HttpClientTest() {
    sandbox::FakeJumpCloudOptions options;
    options.api_key = k_key;
    m_fake = std::make_unique<sandbox::FakeJumpCloud>(options);
    m_fake->add_user(R"({"username": "ada", "email": "ada@example.com"})");
  }

  ApiClient client(RetryPolicy retry = fast_retry()) {
    ApiClientOptions options;
    options.api_name = "JumpCloud";
    options.retry = retry;
    options.log = [this](std::string_view line) { m_log.emplace_back(line); };
    return ApiClient(m_transport, m_clock, Redactor({k_key}), options);
  }

  static RetryPolicy fast_retry() {
    RetryPolicy retry;
    retry.max_attempts = 4;
    retry.jitter_seed = 42;
    return retry;
  }

  Request list_request(std::string key = k_key) const {
    Request request;
    request.url = m_fake->base_url() + "/systemusers?limit=100&skip=0&sort=_id";
    request.headers = {{"x-api-key", std::move(key)}, {"Accept", "application/json"}};
    request.timeout = 5s;
    return request;
  }

  Request create_request(const std::string& username) const {
    Request request;
    request.method = "POST";
    request.url = m_fake->base_url() + "/systemusers";
    request.headers = {{"x-api-key", k_key}, {"Content-Type", "application/json"}};
    request.body =
        R"({"username": ")" + username + R"(", "email": ")" + username + R"(@example.com"})";
    request.timeout = 5s;
    return request;
  }

  int list_requests() const { return m_fake->stats().count("GET", "/api/systemusers"); }

  // Declared before the transport: the transport closes its connections first.
  std::unique_ptr<sandbox::FakeJumpCloud> m_fake;
  ManualClock m_clock;
  CurlTransport m_transport;
  std::vector<std::string> m_log;
};

TEST_F(HttpClientTest, ServerErrorsAreRetriedThenSucceed) {
  m_fake->faults().fail_next("/api/systemusers", 503, 2);
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(list_requests(), 3);
  const auto sleeps = m_clock.sleeps();
  ASSERT_EQ(sleeps.size(), 2U);
  EXPECT_LE(sleeps[0], 500ms);  // full jitter: [0, base]
  EXPECT_LE(sleeps[1], 1000ms); // [0, 2 * base]
}

TEST_F(HttpClientTest, RetryAfterSecondsIsHonoured) {
  m_fake->faults().fail_next("/api/systemusers", 429, 1, "7");
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(m_clock.sleeps(), (std::vector<std::chrono::milliseconds>{7000ms}));
}

TEST_F(HttpClientTest, RetryAfterHttpDateIsHonoured) {
  const auto when = std::chrono::system_clock::to_time_t(m_clock.wall_now() + 30s);
  std::tm tm{};
  gmtime_r(&when, &tm);
  std::array<char, 64> date{};
  std::strftime(date.data(), date.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  m_fake->faults().fail_next("/api/systemusers", 503, 1, std::string(date.data()));
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(m_clock.sleeps(), (std::vector<std::chrono::milliseconds>{30000ms}));
}

TEST_F(HttpClientTest, RateLimitResetIsHonoured) {
  Fault fault;
  fault.status = 429;
  fault.rate_limit_reset = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              (m_clock.wall_now() + 12s).time_since_epoch())
                                              .count());
  m_fake->faults().add(fault);
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(m_clock.sleeps(), (std::vector<std::chrono::milliseconds>{12000ms}));
}

TEST_F(HttpClientTest, TooManyRequestsWithoutRetryAfterBacksOffWithJitter) {
  m_fake->faults().fail_next("/api/systemusers", 429, 1);
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(m_clock.sleeps().size(), 1U);
  EXPECT_LE(m_clock.sleeps()[0], 500ms);
  EXPECT_EQ(list_requests(), 2);
}

TEST_F(HttpClientTest, GivesUpAfterMaxAttempts) {
  m_fake->faults().fail_next("/api/systemusers", 502, 10);
  RetryPolicy retry = fast_retry();
  retry.max_attempts = 3;
  auto c = client(retry);

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::transient);
  EXPECT_EQ(result.error().http_status, 502);
  EXPECT_EQ(list_requests(), 3);
  EXPECT_NE(result.error().message.find("JumpCloud list users: HTTP 502 Bad Gateway"),
            std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("gave up after 3 attempts"), std::string::npos);
}

TEST_F(HttpClientTest, RetryAfterLongerThanTheCapIsReportedNotSlept) {
  m_fake->faults().fail_next("/api/systemusers", 429, 1, "3600");
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::transient);
  ASSERT_TRUE(result.error().retry_after.has_value());
  EXPECT_EQ(*result.error().retry_after, 3600000ms);
  EXPECT_TRUE(m_clock.sleeps().empty());
  EXPECT_EQ(list_requests(), 1);
}

TEST_F(HttpClientTest, TheWholeRetrySequenceHasABudget) {
  m_fake->faults().fail_next("/api/systemusers", 503, 10, "20");
  RetryPolicy retry = fast_retry();
  retry.max_attempts = 10;
  retry.budget = 45s;
  auto c = client(retry);

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::transient);
  EXPECT_EQ(m_clock.sleeps(), (std::vector<std::chrono::milliseconds>{20000ms, 20000ms}));
  EXPECT_EQ(list_requests(), 3);
  EXPECT_NE(result.error().message.find(
                "gave up after 3 attempts: the server asked to wait 20 s, beyond the retry "
                "budget of 45 s"),
            std::string::npos)
      << result.error().message;
}

TEST_F(HttpClientTest, RetryAfterBeyondTheRemainingBudgetEndsTheRetriesAtOnce) {
  m_fake->faults().fail_next("/api/systemusers", 429, 1, "100");
  RetryPolicy retry = fast_retry();
  retry.budget = 60s; // the cap on one server delay (120 s) would allow it
  auto c = client(retry);

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_FALSE(result);
  ASSERT_TRUE(result.error().retry_after.has_value());
  EXPECT_EQ(*result.error().retry_after, 100000ms);
  EXPECT_TRUE(m_clock.sleeps().empty());
  EXPECT_NE(result.error().message.find("server asked to wait 100 s"), std::string::npos)
      << result.error().message;
}

TEST_F(HttpClientTest, AServerThatNeverAnswersIsCutOffByTheStallLimit) {
  m_fake->faults().set_latency(3600s); // accepts, reads, never answers (until destroyed)
  RetryPolicy retry = fast_retry();
  retry.max_attempts = 2;
  auto c = client(retry);
  Request request = list_request();
  request.timeout = 600s;
  request.stall_timeout = 1s;
  const auto started = std::chrono::steady_clock::now();

  auto result = c.send("list users", request, Idempotency::read);

  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::transient);
  EXPECT_NE(result.error().message.find("no data for 1 s"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(list_requests(), 2);
  EXPECT_LT(took, 10s);
}

TEST_F(HttpClientTest, ConnectionErrorsNameTheApiAndWhereItsUrlComesFrom) {
  RetryPolicy retry = fast_retry();
  retry.max_attempts = 1;
  ApiClientOptions options;
  options.api_name = "JumpCloud";
  options.retry = retry;
  options.endpoint = "http://127.0.0.1:1/api (JUMPCLOUD_API_URL / target.jumpcloud.url)";
  ApiClient c(m_transport, m_clock, Redactor({k_key}), options);
  Request request = list_request();
  request.url = "http://127.0.0.1:1/api/systemusers";

  auto result = c.send("list users", request, Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find(
                "JumpCloud list users: cannot reach JumpCloud at http://127.0.0.1:1/api "
                "(JUMPCLOUD_API_URL / target.jumpcloud.url): "),
            std::string::npos)
      << result.error().message;
}

TEST_F(HttpClientTest, EveryAttemptIsReportedToTheObserver) {
  m_fake->faults().fail_next("/api/systemusers", 503, 1);
  std::vector<AttemptInfo> seen;
  std::vector<std::string> apis;
  std::vector<std::string> methods;
  ApiClientOptions options;
  options.api_name = "JumpCloud";
  options.retry = fast_retry();
  options.on_attempt = [&](const AttemptInfo& a) {
    seen.push_back(a); // the views are only read in here
    apis.emplace_back(a.api);
    methods.emplace_back(a.method);
  };
  ApiClient c(m_transport, m_clock, Redactor({k_key}), options);

  ASSERT_TRUE(c.send("list users", list_request(), Idempotency::read));
  Request refused = list_request();
  refused.url = "http://127.0.0.1:1/api/systemusers";
  RetryPolicy once = fast_retry();
  once.max_attempts = 1;
  options.retry = once;
  ApiClient d(m_transport, m_clock, Redactor({k_key}), options);
  ASSERT_FALSE(d.send(
      "create user",
      [&] {
        auto r = create_request("zoe");
        r.url = refused.url;
        return r;
      }(),
      Idempotency::once));

  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(apis, (std::vector<std::string>{"jumpcloud", "jumpcloud", "jumpcloud"}));
  EXPECT_EQ(methods, (std::vector<std::string>{"GET", "GET", "POST"}));
  EXPECT_EQ(seen[0].status, 503);
  EXPECT_FALSE(seen[0].is_retry);
  EXPECT_EQ(seen[1].status, 200);
  EXPECT_TRUE(seen[1].is_retry);
  EXPECT_EQ(seen[2].status, 0);
  EXPECT_FALSE(seen[2].is_retry);
  EXPECT_GE(seen[1].latency.count(), 0);
}

TEST_F(HttpClientTest, UnauthorizedIsNeverRetried) {
  auto c = client();

  auto result = c.send("list users", list_request("wrong-key"), Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(list_requests(), 1);
  EXPECT_TRUE(m_clock.sleeps().empty());
  EXPECT_EQ(result.error().message, "JumpCloud list users: HTTP 401 Unauthorized: Unauthorized");
}

TEST_F(HttpClientTest, ForbiddenIsNeverRetried) {
  m_fake->faults().fail_next("/api/systemusers", 403, 5);
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::unauthorized);
  EXPECT_EQ(list_requests(), 1);
}

TEST_F(HttpClientTest, PlainHttpToANonLoopbackHostIsRefusedBeforeConnecting) {
  auto c = client();
  Request request = list_request();
  request.url = "http://console.jumpcloud.com/api/systemusers";

  auto result = c.send("list users", request, Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::rejected);
  EXPECT_NE(result.error().message.find("only allowed to a loopback host"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(m_clock.sleeps().empty());
}

TEST_F(HttpClientTest, LoopbackHostsMayUsePlainHttp) {
  EXPECT_EQ(check_url_allowed("http://127.0.0.1:8080/v1"), std::nullopt);
  EXPECT_EQ(check_url_allowed("http://127.10.0.3/v1"), std::nullopt);
  EXPECT_EQ(check_url_allowed("http://localhost:9/api"), std::nullopt);
  EXPECT_EQ(check_url_allowed("http://[::1]:9/api"), std::nullopt);
  EXPECT_EQ(check_url_allowed("https://api.hibob.com/v1"), std::nullopt);
  EXPECT_NE(check_url_allowed("http://10.0.0.1/api"), std::nullopt);
  EXPECT_NE(check_url_allowed("http://127.0.0.1.example.com/api"), std::nullopt);
  EXPECT_NE(check_url_allowed("ftp://127.0.0.1/api"), std::nullopt);
  EXPECT_NE(check_url_allowed("https://user:pw@api.hibob.com/v1"), std::nullopt);
  EXPECT_NE(check_url_allowed("not a url"), std::nullopt);
}

TEST_F(HttpClientTest, TlsFailureIsAClearNonRetriedError) {
  auto c = client();
  Request request = list_request();
  request.url = "https://127.0.0.1:" + std::to_string(m_fake->port()) + "/api/systemusers";

  auto result = c.send("list users", request, Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::protocol);
  EXPECT_NE(result.error().message.find("JumpCloud list users: TLS failure"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(m_clock.sleeps().empty());
}

// TLS verification is always on, loopback included (so a fortiori for any
// other host): CurlOptions has no switch to turn it off, only an extra CA.
TEST(TlsVerification, AServerWithAnUntrustedCertificateGetsNoRequest) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  httplib::SSLServer server(cert, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  ASSERT_TRUE(server.is_valid());
  std::atomic<int> served{0};
  server.Get("/api/systemusers", [&](const httplib::Request&, httplib::Response& response) {
    ++served;
    response.set_content(R"({"totalCount": 0, "results": []})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) {
    std::this_thread::yield();
  }
  CurlTransport transport;
  ManualClock clock;
  ApiClientOptions options;
  options.api_name = "JumpCloud";
  ApiClient c(transport, clock, Redactor(), options);
  Request request;
  request.url = "https://127.0.0.1:" + std::to_string(port) + "/api/systemusers";
  request.timeout = 5s;

  auto result = c.send("list users", request, Idempotency::read);

  server.stop();
  serving.join();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::protocol);
  EXPECT_NE(result.error().message.find("TLS failure"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(served.load(), 0);
  EXPECT_TRUE(clock.sleeps().empty()) << "not retried";
}

TEST_F(HttpClientTest, ConnectionRefusedIsTransient) {
  RetryPolicy retry = fast_retry();
  retry.max_attempts = 2;
  auto c = client(retry);
  Request request = list_request();
  request.url = "http://127.0.0.1:1/api/systemusers";

  auto result = c.send("list users", request, Idempotency::once);

  ASSERT_FALSE(result);
  // Nothing was sent, so even a create may be retried.
  EXPECT_EQ(result.error().kind, ErrorKind::transient);
  EXPECT_EQ(m_clock.sleeps().size(), 1U);
  EXPECT_NE(result.error().message.find("cannot reach JumpCloud at http://127.0.0.1:1"),
            std::string::npos)
      << result.error().message;
}

TEST_F(HttpClientTest, TimeoutOfAReadIsTransient) {
  m_fake->faults().set_latency(5s); // the fake stops waiting when it is destroyed
  RetryPolicy retry = fast_retry();
  retry.max_attempts = 1;
  auto c = client(retry);
  Request request = list_request();
  request.timeout = 150ms;

  auto result = c.send("list users", request, Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::transient);
  EXPECT_NE(result.error().message.find("JumpCloud list users: timed out after 0.1 s"),
            std::string::npos)
      << result.error().message;
}

TEST_F(HttpClientTest, TimeoutOfACreateIsUnknownOutcomeAndNotRetried) {
  Fault slow;
  slow.kind = FaultKind::delay;
  slow.method = "POST";
  slow.delay = 5s;
  m_fake->faults().add(slow);
  auto c = client();
  Request request = create_request("grace");
  request.timeout = 150ms;

  auto result = c.send("create user", request, Idempotency::once);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::unknown_outcome);
  // Sent once, never again. (The fake counts a request when its handler
  // runs: on a loaded machine, under ThreadSanitizer, the 150 ms can end
  // before it does, and the count is 0; the outcome is unknown all the same.)
  EXPECT_LE(m_fake->stats().count("POST", "/api/systemusers"), 1);
  EXPECT_NE(result.error().message.find("may or may not have been applied"), std::string::npos);
}

TEST_F(HttpClientTest, ConnectionResetOfAReadIsRetried) {
  Fault reset;
  reset.kind = FaultKind::reset;
  m_fake->faults().add(reset);
  auto c = client();

  auto result = c.send("list users", list_request(), Idempotency::read);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(list_requests(), 2);
}

TEST_F(HttpClientTest, ConnectionResetOfACreateIsUnknownOutcome) {
  Fault reset;
  reset.kind = FaultKind::reset;
  reset.method = "POST";
  m_fake->faults().add(reset);
  auto c = client();

  auto result = c.send("create user", create_request("grace"), Idempotency::once);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::unknown_outcome);
  EXPECT_EQ(m_fake->user_count(), 1U); // not applied, but the client cannot know
}

TEST_F(HttpClientTest, LostResponseOfACreateIsUnknownOutcomeAndTheUserExists) {
  Fault lost;
  lost.kind = FaultKind::lost_response;
  lost.method = "POST";
  m_fake->faults().add(lost);
  auto c = client();

  auto result = c.send("create user", create_request("grace"), Idempotency::once);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::unknown_outcome);
  EXPECT_EQ(m_fake->user_count(), 2U);
  EXPECT_EQ(m_fake->write_count(), 1);
  EXPECT_EQ(m_fake->stats().count("POST", "/api/systemusers"), 1);
}

TEST_F(HttpClientTest, ACreateIsNeverResentWhenItsReusedConnectionDiesAfterTheWrite) {
  // libcurl re-sends a request on a reused keep-alive connection that dies
  // before a byte of the answer ("Connection died, retrying a fresh
  // connect"). For a create that would be a second POST with no lookup in
  // between. Several rounds: the race the fault opens is not always lost.
  auto c = client();
  for (int round = 0; round < 5; ++round) {
    // Warms a keep-alive connection, so the create could go out on it.
    ASSERT_TRUE(c.send("list users", list_request(), Idempotency::read));
    Fault dropped;
    dropped.kind = FaultKind::applied_then_reset;
    dropped.method = "POST";
    m_fake->faults().add(dropped);
    m_fake->stats().reset();

    auto result =
        c.send("create user", create_request("grace" + std::to_string(round)), Idempotency::once);

    EXPECT_EQ(m_fake->stats().count("POST", "/api/systemusers"), 1) << "round " << round;
    EXPECT_EQ(m_fake->user_count(), 2U + static_cast<std::size_t>(round)); // applied once
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::unknown_outcome) << result.error().message;
  }
  // Reads still reuse connections and work after the drops.
  EXPECT_TRUE(c.send("list users", list_request(), Idempotency::read));
}

TEST_F(HttpClientTest, ServerErrorOnACreateIsUnknownOutcomeAndNotRetried) {
  m_fake->faults().fail_next("/api/systemusers", 500, 1);
  auto c = client();

  auto result = c.send("create user", create_request("grace"), Idempotency::once);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::unknown_outcome);
  EXPECT_EQ(m_fake->stats().count("POST", "/api/systemusers"), 1);
}

TEST_F(HttpClientTest, TooManyRequestsOnACreateIsRetried) {
  m_fake->faults().fail_next("/api/systemusers", 429, 1, "1");
  auto c = client();

  auto result = c.send("create user", create_request("grace"), Idempotency::once);

  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(m_fake->user_count(), 2U);
  EXPECT_EQ(m_fake->stats().count("POST", "/api/systemusers"), 2);
}

struct BadBodyCase {
  const char* name;
  FaultKind kind;
  const char* expected;
};

class BadBodyTest : public HttpClientTest, public ::testing::WithParamInterface<BadBodyCase> {};

TEST_P(BadBodyTest, IsAProtocolErrorNamingApiAndOperation) {
  Fault fault;
  fault.kind = GetParam().kind;
  m_fake->faults().add(fault);
  auto c = client();

  auto result = c.send_json("list users", list_request(), Idempotency::read);

  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::protocol);
  EXPECT_NE(result.error().message.find(GetParam().expected), std::string::npos)
      << result.error().message;
  EXPECT_EQ(list_requests(), 1); // never retried
}

INSTANTIATE_TEST_SUITE_P(
    Faults,
    BadBodyTest,
    ::testing::Values(
        BadBodyCase{"html",
                    FaultKind::html_200,
                    "JumpCloud list users: response is not JSON (content-type text/html)"},
        BadBodyCase{"text",
                    FaultKind::wrong_content_type,
                    "JumpCloud list users: response is not JSON (content-type text/plain)"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST_F(HttpClientTest, SecretsNeverAppearInErrorsOrLogs) {
  // A server that echoes the key back, a 401, a TLS failure, a refusal.
  Fault echo;
  echo.status = 400;
  echo.body = std::string(R"({"message": "invalid key )") + k_key + "\"}";
  m_fake->faults().add(echo);
  auto c = client();
  std::vector<std::string> messages;
  auto collect = [&](const ApiResult<Response>& r) {
    ASSERT_FALSE(r);
    messages.push_back(r.error().message);
  };
  collect(c.send("list users", list_request(), Idempotency::read));
  collect(c.send("list users", list_request(std::string(k_key) + "x"), Idempotency::read));
  Request tls = list_request();
  tls.url = "https://127.0.0.1:" + std::to_string(m_fake->port()) + "/api/" + k_key;
  collect(c.send("list users", tls, Idempotency::read));
  Request refused = list_request();
  refused.url = std::string("http://example.com/") + k_key;
  collect(c.send("list users", refused, Idempotency::read));

  ASSERT_EQ(messages.size(), 4U);
  EXPECT_NE(messages[0].find("invalid key ***"), std::string::npos) << messages[0];
  for (const auto& m : messages) {
    EXPECT_EQ(m.find(k_key), std::string::npos) << m;
  }
  for (const auto& line : m_log) {
    EXPECT_EQ(line.find(k_key), std::string::npos) << line;
  }
}

TEST_F(HttpClientTest, GzipResponsesAreDecoded) {
  sandbox::FakeJumpCloudOptions options;
  options.api_key = k_key;
  options.compress = true;
  sandbox::FakeJumpCloud gzip_fake(options);
  for (int i = 0; i < 50; ++i) {
    gzip_fake.add_user(R"({"username": "u)" + std::to_string(i) + R"(", "email": "u)"
                       + std::to_string(i) + R"(@example.com", "department": "Engineering"})");
  }
  CurlTransport transport; // closes its connection before gzip_fake stops
  Request request = list_request();
  request.url = gzip_fake.base_url() + "/systemusers?limit=100";

  auto result = transport.send(request);

  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(result->header("content-encoding"), "gzip");
  EXPECT_EQ(result->body.rfind("{\"totalCount\":50,", 0), 0U) << result->body.substr(0, 40);
}

TEST(RateLimiter, AllowsTheLimitPerWindowThenWaits) {
  ManualClock clock;
  RateLimiter limiter(clock, 3, 60s);

  for (int i = 0; i < 3; ++i) {
    limiter.acquire();
  }
  EXPECT_TRUE(clock.sleeps().empty());
  clock.advance(10s);
  limiter.acquire(); // must wait until the first slot is 60 s old

  ASSERT_EQ(clock.sleeps().size(), 1U);
  EXPECT_EQ(clock.sleeps()[0], 50s);
}

TEST(WriteGate, A429HalvesTheLimitOncePerRoundAndSuccessesRaiseItSlowly) {
  std::vector<std::pair<int, int>> changes;
  WriteGate gate(
      8, 3, [&](int old_limit, int new_limit) { changes.emplace_back(old_limit, new_limit); });
  for (int i = 0; i < 4; ++i) {
    gate.acquire(); // four writes in flight
  }

  gate.rate_limited(); // 8 -> 4; the other three answers are the same round
  gate.rate_limited();
  gate.rate_limited();
  gate.rate_limited();
  EXPECT_EQ(gate.limit(), 4);
  gate.rate_limited(); // a new round: 4 -> 2
  EXPECT_EQ(gate.limit(), 2);

  for (int i = 0; i < 4; ++i) {
    gate.release();
  }
  for (int i = 0; i < 5; ++i) {
    gate.succeeded(); // the grace of the last cut, then three in a row: 2 -> 3
  }
  EXPECT_EQ(gate.limit(), 3);
  gate.rate_limited(); // resets the run of successes and cuts: 3 -> 1
  EXPECT_EQ(gate.limit(), 1);
  gate.rate_limited(); // never below 1
  EXPECT_EQ(gate.limit(), 1);
  for (int i = 0; i < 100; ++i) {
    gate.succeeded();
  }
  EXPECT_EQ(gate.limit(), 8); // never above the configured maximum
  EXPECT_EQ(changes.front(), std::make_pair(8, 4));
  EXPECT_EQ(changes.back(), std::make_pair(7, 8));
}

TEST(WriteGate, ALoweredLimitHoldsBackNewWritesUntilItIsRaisedConcurrently) {
  WriteGate gate(2, 1);
  gate.acquire();
  gate.acquire();
  gate.rate_limited(); // 2 -> 1 with two in flight
  gate.release();

  std::atomic<bool> entered{false};
  std::thread waiter([&] {
    gate.acquire(); // one in flight, limit 1: waits
    entered = true;
    gate.release();
  });
  EXPECT_EQ(gate.in_flight(), 1);
  gate.succeeded(); // raise_after 1: 1 -> 2, which lets the waiter in
  waiter.join();
  EXPECT_TRUE(entered.load());
  EXPECT_EQ(gate.limit(), 2);
  gate.release();
  EXPECT_EQ(gate.in_flight(), 0);
}

TEST(Redactor, ReplacesEverySecretAndSensitiveHeaders) {
  const Redactor redactor({"tok3n", "", "longer-tok3n-value"});

  EXPECT_EQ(redactor.redact("a tok3n and longer-tok3n-value"), "a *** and ***");
  EXPECT_EQ(
      redactor.describe({{"Authorization", "Basic abc"}, {"X-Api-Key", "k"}, {"Accept", "tok3n"}}),
      "Authorization: ***\nX-Api-Key: ***\nAccept: ***\n");
}

TEST(ServerDelay, ParsesSecondsDatesAndResets) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  auto with = [](std::string name, std::string value) {
    Response r;
    r.headers.emplace_back(std::move(name), std::move(value));
    return r;
  };

  EXPECT_EQ(server_delay(with("retry-after", "5"), now), 5000ms);
  EXPECT_EQ(server_delay(with("retry-after", "Fri, 15 Jan 2027 08:00:10 GMT"), now), 10000ms);
  EXPECT_EQ(server_delay(with("x-ratelimit-reset", "1800000020"), now), 20000ms);
  EXPECT_EQ(server_delay(with("x-ratelimit-reset", "3"), now), 3000ms);
  EXPECT_EQ(server_delay(with("retry-after", "soon"), now), std::nullopt);
  EXPECT_EQ(server_delay(Response{}, now), std::nullopt);
}

struct StatusCase {
  int status;
  const char* message;
  Idempotency idempotency;
  ErrorKind kind;
};

TEST(ErrorKindForStatus, MapsEveryClassOfAnswer) {
  const std::vector<StatusCase> cases = {
      {401, "", Idempotency::read, ErrorKind::unauthorized},
      {403, "", Idempotency::once, ErrorKind::unauthorized},
      {404, "", Idempotency::read, ErrorKind::not_found},
      {409, "", Idempotency::replayable, ErrorKind::conflict},
      {400, "User already exists", Idempotency::once, ErrorKind::conflict},
      {400, "User already exists", Idempotency::replayable, ErrorKind::rejected},
      {400, "bad field", Idempotency::once, ErrorKind::rejected},
      {422, "", Idempotency::read, ErrorKind::rejected},
      {429, "", Idempotency::once, ErrorKind::transient},
      {503, "", Idempotency::read, ErrorKind::transient},
      {503, "", Idempotency::replayable, ErrorKind::transient},
      {502, "", Idempotency::once, ErrorKind::unknown_outcome},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_kind_for_status(c.status, c.message, c.idempotency), c.kind)
        << c.status << " " << c.message;
  }
}

} // namespace
} // namespace bobsync::controller::http
