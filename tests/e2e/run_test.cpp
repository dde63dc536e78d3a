// End to end: `bobsync run` (the Controller wiring, on a thread, and the real
// binary for signals and the database lock) against the sandbox's fakes over
// loopback, with Bob's webhooks sent to the real listener. Assertions are on
// what JumpCloud and the store end up holding. Waits are on conditions (a
// pass finished, the fake's state) with bounded deadlines.

#include "controller/cli/run_command.hpp"
#include "controller/cli/wiring.hpp"
#include "controller/run/reconcile_runner.hpp"
#include "controller/server/webhook.hpp"
#include "policies/policy_parser.hpp"
#include "sandbox/sandbox.hpp"
#include "state/memory_store.hpp"
#include "state/timestamp.hpp"
#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>

namespace bobsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

const std::string k_bob_user = "svc-run-user";
const std::string k_bob_token = "bob-token-S3CR3T-run-5521";
const std::string k_jc_key = "jc-key-S3CR3T-run-8812";
const std::string k_webhook_secret = "webhook-S3CR3T-run-3390";

using e2e::k_amelia;
using e2e::read_all;

e2e::SandboxOptions run_options() {
  e2e::SandboxOptions options;
  options.temp_prefix = "bobsync-run";
  options.secrets = {k_bob_user, k_bob_token, k_jc_key, k_webhook_secret};
  options.now = "2026-11-27T10:00:00Z";
  return options;
}

// Waits (bounded) for `condition`, looking again every 20 ms.
template<typename F> bool eventually(F condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string webhook_body(const std::string& type, const std::string& employee_id) {
  return json{{"type", type},
              {"companyId", 636192},
              {"triggeredBy", "1"},
              {"triggeredAt", "2026-11-27T10:00:00.000Z"},
              {"version", "v2"},
              {"data", {{"employeeId", employee_id}}}}
      .dump();
}

// The controller's log: written by its threads while a test reads it.
class LockedLog final : public std::streambuf {
public:
  std::string text() const {
    const std::lock_guard lock(m_mutex);
    return m_text;
  }

protected:
  int overflow(int c) override {
    if (c != traits_type::eof()) {
      const std::lock_guard lock(m_mutex);
      m_text.push_back(static_cast<char>(c));
    }
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const std::lock_guard lock(m_mutex);
    m_text.append(s, static_cast<std::size_t>(n));
    return n;
  }

private:
  mutable std::mutex m_mutex;
  std::string m_text;
};

class RunE2E : public e2e::SandboxE2E {
protected:
  RunE2E()
      : SandboxE2E(run_options()) {}

  std::string logs() const { return m_log_buffer.text(); }

  void TearDown() override {
    stop();
    SandboxE2E::TearDown();
  }

  // The example policy, interval an hour, with some lines replaced.
  std::string write_policy(const std::string& name,
                           const e2e::Replacements& replacements) override {
    auto all = replacements;
    all.emplace_back("interval: 5m", "interval: 1h");
    const auto text = e2e::example_policy_text(all);
    const auto path = m_dir + "/" + name;
    const auto temporary = path + ".tmp";
    std::ofstream(temporary) << text;
    fs::rename(temporary, path); // whole, as a ConfigMap update is
    return path;
  }

  cli::RunSettings settings(const std::string& start_at = "2026-11-27T10:00:00Z") {
    cli::RunSettings s;
    s.policy_path = m_policy;
    s.db_path = m_db;
    s.listen = "127.0.0.1:0";
    s.start_at = state::parse_timestamp(start_at).value();
    s.webhook_secret = k_webhook_secret;
    s.log_out = &m_log;
    s.log_format = "json";
    s.http_clock = std::make_shared<controller::ManualClock>();
    s.loop.policy_check_every = 200ms;
    return s;
  }

  // Starts the controller on a thread and waits for its first pass.
  void start(cli::RunSettings s) {
    m_controller = std::make_unique<cli::Controller>(std::move(s));
    m_thread = std::thread([this] { m_code = m_controller->run(); });
    ASSERT_TRUE(m_controller->wait_until_serving(10s));
    m_port = m_controller->port();
    m_sandbox->bob().set_webhook("http://127.0.0.1:" + std::to_string(m_port) + "/webhooks/bob",
                                 k_webhook_secret);
    ASSERT_TRUE(loop().wait_for_passes(1, 60s));
    ASSERT_EQ(loop().status().failed_passes, 0U) << logs();
  }

  void stop() {
    if (m_controller) {
      m_controller->stop();
      if (m_thread.joinable()) {
        m_thread.join();
      }
      m_controller.reset();
    }
  }

  controller::run::Loop& loop() { return m_controller->loop(); }

  httplib::Result get(const std::string& path) {
    httplib::Client client("127.0.0.1", m_port);
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client.Get(path.c_str());
  }

  int post_webhook(const std::string& body,
                   const std::optional<std::string>& signature,
                   httplib::Client* reuse = nullptr) {
    httplib::Client own("127.0.0.1", m_port);
    auto& client = reuse != nullptr ? *reuse : own;
    client.set_read_timeout(5);
    client.set_tcp_nodelay(true);
    httplib::Headers headers;
    if (signature) {
      headers.emplace("Bob-Signature", *signature);
    }
    auto r = client.Post("/webhooks/bob", headers, body, "application/json");
    return r ? r->status : -1;
  }

  // Emails only (SandboxE2E's also checks employeeIdentifier).
  void expect_no_duplicates() const { expect_unique_emails(); }

  // Changes a Bob field without Bob sending a webhook.
  void change_quietly(const std::string& id, const std::string& field, const std::string& value) {
    m_sandbox->bob().set_webhook("", k_webhook_secret);
    ASSERT_TRUE(m_sandbox->bob().change(id, {{field, sandbox::BobValue::string(value)}}));
    m_sandbox->bob().set_webhook("http://127.0.0.1:" + std::to_string(m_port) + "/webhooks/bob",
                                 k_webhook_secret);
  }

  void change_quietly_before_start(const std::string& id,
                                   const std::string& field,
                                   const std::string& value) {
    ASSERT_TRUE(m_sandbox->bob().change(id, {{field, sandbox::BobValue::string(value)}}));
  }

  // `plan` (JumpCloud read fresh) has nothing to write: exit 0, or 2 for the
  // seed's standing conflict alone.
  ::testing::AssertionResult converged() {
    const auto plan =
        cli({"plan", "--json", "-f", m_policy, "--db", m_db, "--now", "2026-11-27T10:00:00Z"});
    if (plan.code != 0 && plan.code != 2) {
      return ::testing::AssertionFailure() << "plan exit " << plan.code << ": " << plan.err;
    }
    const auto document = json::parse(plan.out); // outlives the loop over its changes
    for (const auto& change : document["changes"]) {
      const auto action = change.value("action", "");
      if (action != "conflict" && action != "defer") {
        return ::testing::AssertionFailure() << "still to do: " << change.dump();
      }
    }
    return ::testing::AssertionSuccess();
  }

  // Runs exactly `args` (no options added).
  static e2e::CliResult cli(const std::vector<std::string>& args) { return e2e::run_cli(args); }

  LockedLog m_log_buffer;
  std::ostream m_log{&m_log_buffer};
  std::unique_ptr<cli::Controller> m_controller;
  std::thread m_thread;
  std::atomic<int> m_code{-1};
  int m_port = 0;
};

TEST_F(RunE2E, ASignedEmployeeUpdatedConvergesThatEmployeeWithinTwoSeconds) {
  start(settings());
  const auto before = user_of(k_amelia);
  ASSERT_TRUE(before) << logs();
  const auto passes = loop().status().passes;
  const auto sent_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      m_sandbox->bob().change(k_amelia, {{"root.firstName", sandbox::BobValue::string("Amy")}}));
  const auto webhooks = m_sandbox->bob().webhooks();
  ASSERT_FALSE(webhooks.empty());
  EXPECT_EQ(webhooks.back().status, 202) << webhooks.back().error;
  ASSERT_TRUE(loop().wait_for_passes(passes + 1, 2s));
  EXPECT_LT(std::chrono::steady_clock::now() - sent_at, 2s);
  EXPECT_EQ((*user_of(k_amelia))["firstname"], "Amy");
  const auto status = loop().status();
  EXPECT_EQ(status.targeted_passes, 1U);
  EXPECT_EQ(status.full_passes, 1U) << "the interval is an hour: no full pass did it";
}

TEST_F(RunE2E, BadSignaturesOversizedAndMalformedBodiesChangeNothing) {
  start(settings());
  change_quietly(k_amelia, "root.firstName", "Mallory");
  const auto body = webhook_body("employee.updated", k_amelia);
  const auto good = controller::server::bob_signature(k_webhook_secret, body);
  EXPECT_EQ(post_webhook(body, std::nullopt), 401);
  EXPECT_EQ(post_webhook(body, controller::server::bob_signature("not-the-secret", body)), 401);
  EXPECT_EQ(post_webhook(body + " ", good), 401) << "the signature covers the exact bytes";
  const std::string big(1024 * 1024 + 1, ' ');
  EXPECT_EQ(post_webhook(big, controller::server::bob_signature(k_webhook_secret, big)), 413);
  const std::string broken = "{\"type\": \"employee.updated\", \"data\": {";
  EXPECT_EQ(post_webhook(broken, controller::server::bob_signature(k_webhook_secret, broken)), 400);
  // The handler enqueues before it answers: nothing is queued, nothing ran.
  const auto status = loop().status();
  EXPECT_EQ(status.queue_depth, 0U);
  EXPECT_EQ(status.passes, 1U);
  EXPECT_NE((*user_of(k_amelia))["firstname"], "Mallory");
  // The same body, signed, is taken.
  EXPECT_EQ(post_webhook(body, good), 202);
  ASSERT_TRUE(loop().wait_for_passes(2, 5s));
  EXPECT_EQ((*user_of(k_amelia))["firstname"], "Mallory");
  const auto metrics = get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("bobsync_webhook_requests_total{result=\"unauthorized\"} 3"),
            std::string::npos)
      << metrics->body;
}

TEST_F(RunE2E, AHundredWebhooksForOneEmployeeWithinASecondCauseOneTargetedPass) {
  start(settings());
  change_quietly(k_amelia, "root.firstName", "Burst");
  const auto body = webhook_body("employee.updated", k_amelia);
  const auto signature = controller::server::bob_signature(k_webhook_secret, body);
  httplib::Client client("127.0.0.1", m_port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(post_webhook(body, signature, &client), 202);
  }
  ASSERT_LT(std::chrono::steady_clock::now() - started, 1s);
  ASSERT_TRUE(loop().wait_for_passes(2, 5s));
  const auto status = loop().status();
  EXPECT_EQ(status.targeted_passes, 1U);
  EXPECT_EQ(status.queue_depth, 0U) << "nothing left for a second pass";
  EXPECT_EQ((*user_of(k_amelia))["firstname"], "Burst");
}

TEST_F(RunE2E, APolicyEditTakesEffectWithoutRestartAndABrokenEditKeepsTheOldPolicy) {
  start(settings());
  const auto first = loop().status().policy;
  ASSERT_TRUE(first);
  const auto title = (*user_of(k_amelia))["jobTitle"].get<std::string>();
  ASSERT_NE(title, "");

  // A valid edit: picked up by content, applied by the next pass.
  write_policy("policy.yaml",
               {{"source: work.title # a list field: bobsync reads Bob's human-readable value\n"
                 "    transforms: [trim]",
                 "source: work.title\n    transforms: [trim, upper]"}});
  ASSERT_TRUE(eventually([&] {
    const auto s = loop().status();
    return s.policy->generation == 2 && s.passes >= 2 && !loop().status().queue_depth;
  }));
  ASSERT_TRUE(eventually([&] {
    std::string upper = title;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) {
      return static_cast<char>(std::toupper(c));
    });
    return (*user_of(k_amelia))["jobTitle"] == upper;
  }));
  const auto second = loop().status().policy;
  EXPECT_NE(second->hash, first->hash);
  const auto history = cli({"history", "--employee", k_amelia, "--db", m_db});
  EXPECT_NE(history.out.find("policy " + second->hash.substr(0, 12)), std::string::npos)
      << history.out;

  // A broken edit: rejected, the last good policy keeps running.
  { std::ofstream(m_policy) << "version: 1\nschedule: {interval: soon}\n"; }
  ASSERT_TRUE(eventually([&] { return !loop().status().policy_rejected.empty(); }));
  EXPECT_EQ(loop().status().policy, second);
  const auto ready = get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("schedule.interval"), std::string::npos) << ready->body;
  EXPECT_NE(ready->body.find(second->hash.substr(0, 12)), std::string::npos) << ready->body;
  const auto health = get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << "liveness stays healthy";
  const auto metrics = get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("bobsync_policy_valid 0"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("bobsync_policy_generation 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("bobsync_policy_reload_failures_total 1"), std::string::npos);
  // Webhooks still work under the last good policy.
  const auto passes = loop().status().passes;
  ASSERT_TRUE(
      m_sandbox->bob().change(k_amelia, {{"root.firstName", sandbox::BobValue::string("Still")}}));
  ASSERT_TRUE(loop().wait_for_passes(passes + 1, 5s));
  EXPECT_EQ((*user_of(k_amelia))["firstname"], "Still");
  EXPECT_NE(logs().find("policy rejected"), std::string::npos);

  // Fixed with SIGHUP's path: ready again.
  write_policy("policy.yaml", {});
  m_controller->reload();
  ASSERT_TRUE(eventually([&] { return loop().status().policy_rejected.empty(); }));
  EXPECT_EQ(loop().status().policy->generation, 3U);
  EXPECT_EQ(get("/readyz")->status, 200);
}

TEST_F(RunE2E, AMassChangeFromANewPolicyIsHeldBySafetyLimits) {
  start(settings());
  std::size_t active = 0;
  for (const auto& u : users()) {
    active += u.value("state", "") == "ACTIVATED" ? 1 : 0;
  }
  write_policy("policy.yaml",
               {{"emailDomains: [example.com]", "emailDomains: [nobody.invalid]"},
                {"outOfScope: ignore", "outOfScope: suspend"}});
  ASSERT_TRUE(eventually([&] {
    const auto s = loop().status();
    return s.policy->generation == 2 && s.passes >= 2;
  }));
  EXPECT_TRUE(loop().status().last_blocked);
  std::size_t still_active = 0;
  for (const auto& u : users()) {
    still_active += u.value("state", "") == "ACTIVATED" ? 1 : 0;
  }
  EXPECT_EQ(still_active, active) << "nothing suspended";
  const auto metrics = get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("bobsync_last_plan_blocked 1"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("bobsync_passes_total{kind=\"full\",result=\"blocked\"} 1"),
            std::string::npos);
  EXPECT_NE(logs().find("plan held by the safety limits"), std::string::npos) << logs();
  EXPECT_EQ(get("/readyz")->status, 200) << "a held plan is not a failing controller";
}

TEST_F(RunE2E, AStartDatePassingCreatesTheStarterWithNoWebhook) {
  const auto e = e2e::new_employee("Mia", "Tanaka", "2026-12-07", "Sydney");
  m_fake_now.store(state::parse_timestamp("2026-12-06T12:59:58Z").value());
  const auto id = m_sandbox->bob().hire(e); // no webhook URL yet: Bob announces nothing
  ASSERT_TRUE(m_sandbox->bob().webhooks().empty()
              || m_sandbox->bob().webhooks().back().status == 0);

  // 23:59:58 in Sydney on the day before the start date.
  start(settings("2026-12-06T12:59:58Z"));
  EXPECT_FALSE(user_of(id)) << "not before the start date";
  const auto boundary = loop().status().next_boundary;
  ASSERT_TRUE(boundary);
  EXPECT_EQ(*boundary, state::parse_timestamp("2026-12-06T13:00:00Z").value());
  ASSERT_TRUE(loop().wait_for_passes(2, 10s));
  const auto u = user_of(id);
  ASSERT_TRUE(u) << logs();
  EXPECT_EQ((*u)["state"], "ACTIVATED");
  EXPECT_EQ(loop().status().targeted_passes, 0U);
}

TEST_F(RunE2E, PlanStatusHistoryAndExplainWorkWhileRunRunsAndApplyIsRefused) {
  start(settings());
  EXPECT_TRUE(converged());
  const auto status = cli({"status", "--db", m_db});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find(" run "), std::string::npos) << status.out;
  EXPECT_EQ(cli({"history", "--db", m_db}).code, 0);
  const auto explain =
      cli({"explain", k_amelia, "-f", m_policy, "--db", m_db, "--now", "2026-11-27T10:00:00Z"});
  EXPECT_EQ(explain.code, 0) << explain.err;
  const auto apply = cli({"apply", "-f", m_policy, "--db", m_db, "--now", "2026-11-27T10:00:00Z"});
  EXPECT_EQ(apply.code, 1);
  EXPECT_NE(apply.err.find(std::to_string(::getpid())), std::string::npos) << apply.err;
}

TEST_F(RunE2E, ASecondControllerOnTheSameDatabaseRefusesNamingTheFirst) {
  start(settings());
  const auto second = cli({"run", "-f", m_policy, "--db", m_db, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(second.code, 1);
  EXPECT_NE(second.err.find(std::to_string(::getpid())), std::string::npos) << second.err;
  EXPECT_NO_THROW(get("/healthz")) << "the first one runs on";
  EXPECT_EQ(get("/healthz")->status, 200);
}

TEST_F(RunE2E, APassThatKeepsFailingIsVisibleAndTheLoopGoesOn) {
  auto s = settings();
  s.loop.backoff = {50ms, 200ms, 10ms};
  start(std::move(s));
  sandbox::Fault outage;
  outage.kind = sandbox::FaultKind::status;
  outage.status = 503;
  outage.times = 100000;
  m_sandbox->bob().faults().add(outage);
  change_quietly(k_amelia, "root.firstName", "Later");
  const auto body = webhook_body("employee.updated", k_amelia);
  EXPECT_EQ(post_webhook(body, controller::server::bob_signature(k_webhook_secret, body)), 202);
  ASSERT_TRUE(eventually([&] { return loop().status().failing; }));
  const auto ready = get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("passes failed"), std::string::npos) << ready->body;
  EXPECT_NE(get("/metrics")->body.find("bobsync_consecutive_failed_passes"), std::string::npos);
  EXPECT_EQ(get("/healthz")->status, 200);

  // Bob is back: the retry converges the employee and the controller is ready.
  m_sandbox->bob().faults().clear();
  ASSERT_TRUE(eventually([&] { return (*user_of(k_amelia))["firstname"] == "Later"; }));
  ASSERT_TRUE(eventually([&] { return !loop().status().failing; }));
  EXPECT_EQ(get("/readyz")->status, 200);
  EXPECT_NE(logs().find("\"msg\":\"pass failed\""), std::string::npos);
}

// Prometheus text format 0.0.4, line by line.
TEST_F(RunE2E, MetricsParseAsPrometheusText) {
  start(settings());
  ASSERT_TRUE(
      m_sandbox->bob().change(k_amelia, {{"root.firstName", sandbox::BobValue::string("Ann")}}));
  ASSERT_TRUE(loop().wait_for_passes(2, 5s));
  const auto r = get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  const std::regex help(R"(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)");
  const std::regex type(
      R"(# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))");
  const std::regex sample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+]?([0-9.eE+-]+|NaN|\+Inf|-Inf)( [0-9]+)?)");
  std::istringstream lines(r->body);
  std::string line;
  std::set<std::string> names;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    if (line.rfind("# HELP", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, help)) << line;
    } else if (line.rfind("# TYPE", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, type)) << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, sample)) << line;
      names.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  for (const char* name : {"bobsync_passes_total",
                           "bobsync_pass_duration_seconds_bucket",
                           "bobsync_changes_total",
                           "bobsync_queue_depth",
                           "bobsync_webhook_requests_total",
                           "bobsync_last_successful_pass_timestamp_seconds",
                           "bobsync_policy_generation",
                           "bobsync_policy_valid"}) {
    EXPECT_TRUE(names.contains(name)) << name << "\n" << r->body;
  }
  EXPECT_NE(r->body.find("bobsync_passes_total{kind=\"targeted\",result=\"ok\"} 1"),
            std::string::npos)
      << r->body;
  // Every HTTP attempt of both clients is counted by api, method and status.
  EXPECT_NE(r->body.find("bobsync_api_requests_total{api=\"bob\",method=\"POST\",status=\"200\"}"),
            std::string::npos)
      << r->body;
  EXPECT_NE(
      r->body.find("bobsync_api_requests_total{api=\"jumpcloud\",method=\"GET\",status=\"200\"}"),
      std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find("bobsync_api_request_duration_seconds_bucket{api=\"jumpcloud\""),
            std::string::npos)
      << r->body;
}

TEST_F(RunE2E, LogsAreJsonLinesWithoutSecrets) {
  start(settings());
  stop();
  std::istringstream lines(logs());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    const auto parsed = json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << line;
    EXPECT_TRUE(parsed.contains("time") && parsed.contains("level") && parsed.contains("msg"));
  }
  EXPECT_GE(count, 2);
  for (const auto& secret : {k_bob_token, k_jc_key, k_webhook_secret}) {
    EXPECT_EQ(logs().find(secret), std::string::npos);
  }
  EXPECT_NE(logs().find("\"msg\":\"pass finished\""), std::string::npos) << logs();
}

TEST_F(RunE2E, StartUpErrorsAreClear) {
  unsetenv("BOB_WEBHOOK_SECRET");
  auto r = cli({"run", "-f", m_policy, "--db", m_db, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("BOB_WEBHOOK_SECRET"), std::string::npos) << r.err;
  setenv("BOB_WEBHOOK_SECRET", k_webhook_secret.c_str(), 1);
  const auto broken = m_dir + "/broken.yaml";
  std::ofstream(broken) << "version: 1\nschedule: {interval: soon}\n";
  r = cli({"run", "-f", broken, "--db", m_db, "--listen", "127.0.0.1:0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("schedule.interval"), std::string::npos) << r.err;
  r = cli({"run", "-f", m_policy, "--db", m_db, "--listen", "nowhere"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--listen"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(m_db)) << "nothing opened before the settings were checked";
}

// The runner over the real pass: a reload that changes a URL or
// writeConcurrency gets new clients; other changes keep them.
TEST_F(RunE2E, TheRunnerRebuildsTheClientsOnlyWhenTheirSettingsChange) {
  std::ifstream in(m_policy);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = policies::parse_policy(text.str(), "policy.yaml");
  ASSERT_TRUE(parsed.policy);
  parsed.policy->bob_url = m_sandbox->bob().base_url();
  parsed.policy->jumpcloud_url = m_sandbox->jumpcloud().base_url();
  int built = 0;
  controller::run::SourcesFactory factory = [&built](const policies::Policy& p) {
    ++built;
    auto live = cli::make_live_sources(p, std::make_shared<controller::ManualClock>());
    return controller::run::RunnerSources{
        live.keep_alive, std::move(live.hr), std::move(live.directory)};
  };
  state::MemoryStore store;
  controller::ManualClock clock(state::parse_timestamp("2026-11-27T10:00:00Z").value());
  int runs = 0;
  controller::run::ReconcileRunner runner(
      store, clock, factory, {[&runs] { return "test-run-" + std::to_string(++runs); }, {}});
  auto snapshot = [](const policies::Policy& p, std::uint64_t generation) {
    auto s = std::make_shared<controller::run::PolicySnapshot>();
    s->policy = std::make_shared<const policies::Policy>(p);
    s->hash = "h" + std::to_string(generation);
    s->generation = generation;
    return s;
  };
  controller::run::PassSpec spec;
  spec.now = clock.wall_now();
  spec.policy = snapshot(*parsed.policy, 1);
  auto report = runner.run(spec);
  EXPECT_FALSE(report.failed) << report.error;
  EXPECT_GT(report.applied, 20);
  EXPECT_TRUE(user_of(k_amelia));
  EXPECT_EQ(built, 1);

  auto changed = *parsed.policy;
  changed.safety.max_changes = 1000; // not a client setting
  spec.policy = snapshot(changed, 2);
  report = runner.run(spec);
  EXPECT_FALSE(report.failed) << report.error;
  EXPECT_EQ(report.applied, 0);
  EXPECT_EQ(built, 1);

  changed.write_concurrency = 2;
  spec.policy = snapshot(changed, 3);
  report = runner.run(spec);
  EXPECT_FALSE(report.failed) << report.error;
  EXPECT_EQ(built, 2);

  // A targeted pass of one employee.
  change_quietly_before_start(k_amelia, "root.firstName", "Targeted");
  spec.kind = controller::run::PassKind::targeted;
  spec.employee_ids = {k_amelia};
  report = runner.run(spec);
  EXPECT_FALSE(report.failed) << report.error;
  EXPECT_EQ(report.applied, 1);
  EXPECT_EQ((*user_of(k_amelia))["firstname"], "Targeted");
  ASSERT_TRUE(report.next_transition);
  EXPECT_GT(*report.next_transition, spec.now);
}

// --- the real binary ------------------------------------------------------

struct Child {
  pid_t pid = -1;
  std::string err_path;
};

// stdout to /dev/null, stderr to err_path.
Child spawn_binary(const std::vector<std::string>& args, const std::string& err_path) {
  return {e2e::spawn_binary(args, {}, "/dev/null", err_path), err_path};
}

// The exit code, or -1 when the child is still running after `timeout`.
int wait_exit(const Child& child, std::chrono::milliseconds timeout) {
  int status = 0;
  int code = -1;
  eventually(
      [&] {
        const pid_t done = waitpid(child.pid, &status, WNOHANG);
        if (done == child.pid) {
          code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        }
        return false;
      },
      timeout);
  return code;
}

TEST_F(RunE2E, SigtermDuringAPassExitsZeroWithNothingLost) {
  // Slow JumpCloud writes, so that the first (greenfield) pass is in flight.
  m_sandbox->jumpcloud().faults().set_latency(150ms);
  const auto before = users().size();
  auto child = spawn_binary({"run",
                             "-f",
                             m_policy,
                             "--db",
                             m_db,
                             "--listen",
                             "127.0.0.1:0",
                             "--now",
                             "2026-11-27T10:00:00Z",
                             "--log-format",
                             "json"},
                            m_dir + "/run.err");
  ASSERT_GT(child.pid, 0);
  ASSERT_TRUE(eventually([&] { return m_sandbox->jumpcloud().write_count() >= 2; }, 30s))
      << read_all(child.err_path);
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  const int code = wait_exit(child, 15s);
  if (code == -1) {
    ::kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  EXPECT_EQ(code, 0) << read_all(child.err_path);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 10s);
  EXPECT_NE(read_all(child.err_path).find("controller stopped"), std::string::npos)
      << read_all(child.err_path);
  EXPECT_GT(users().size(), before);

  // Nothing lost: a second controller settles and converges, no duplicates,
  // every created user has its audit record.
  m_sandbox->jumpcloud().faults().set_latency(0ms);
  const auto again =
      cli({"run", "--once", "-f", m_policy, "--db", m_db, "--now", "2026-11-27T10:00:00Z"});
  EXPECT_EQ(again.code, 0) << again.err;
  expect_no_duplicates();
  EXPECT_TRUE(converged());
  EXPECT_NE(cli({"status", "--db", m_db}).out.find("pending journal entries: 0"),
            std::string::npos);
  const auto history = cli({"history", "--limit", "0", "--db", m_db}).out;
  for (const auto& u : users()) {
    const auto owner = attribute(u, "bobEmployeeId");
    if (!owner.empty()) {
      EXPECT_NE(history.find("bob:" + owner), std::string::npos) << owner;
    }
  }
}

// A pass stuck in JumpCloud calls outlives the stop grace: the process exits
// 0 anyway, the calls in flight are in the journal, and the next start
// settles them without duplicates.
TEST_F(RunE2E, SigtermWithCallsStuckInFlightExitsZeroAndTheJournalSettlesThem) {
  sandbox::Fault slow;
  slow.kind = sandbox::FaultKind::delay;
  slow.method = "POST";
  slow.path_prefix = "/api/systemusers";
  slow.times = 1000;
  slow.delay = 10s;
  m_sandbox->jumpcloud().faults().add(slow);
  auto child = spawn_binary({"run",
                             "-f",
                             m_policy,
                             "--db",
                             m_db,
                             "--listen",
                             "127.0.0.1:0",
                             "--now",
                             "2026-11-27T10:00:00Z"},
                            m_dir + "/stuck.err");
  ASSERT_GT(child.pid, 0);
  auto& stats = m_sandbox->jumpcloud().stats();
  ASSERT_TRUE(eventually([&] { return stats.count("POST", "/api/systemusers") >= 1; }, 30s))
      << read_all(child.err_path);
  const auto signalled = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(child.pid, SIGTERM), 0);
  const int code = wait_exit(child, 20s);
  if (code == -1) {
    ::kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  EXPECT_EQ(code, 0) << read_all(child.err_path);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 12s);
  EXPECT_NE(read_all(child.err_path).find("still in flight"), std::string::npos)
      << read_all(child.err_path);
  EXPECT_EQ(cli({"status", "--db", m_db}).out.find("pending journal entries: 0"), std::string::npos)
      << "the calls in flight are journaled";

  // The stuck calls land at JumpCloud after the process is gone.
  m_sandbox->jumpcloud().faults().clear();
  const int received = stats.count("POST", "/api/systemusers");
  ASSERT_TRUE(eventually([&] { return m_sandbox->jumpcloud().write_count() >= received; }, 15s));
  const auto again =
      cli({"run", "--once", "-f", m_policy, "--db", m_db, "--now", "2026-11-27T10:00:00Z"});
  EXPECT_EQ(again.code, 0) << again.err;
  expect_no_duplicates();
  EXPECT_NE(cli({"status", "--db", m_db}).out.find("pending journal entries: 0"),
            std::string::npos);
  EXPECT_NE(cli({"history", "--limit", "0", "--db", m_db}).out.find("recovered"),
            std::string::npos);
  EXPECT_TRUE(converged());
}

TEST_F(RunE2E, ASecondRunBinaryRefusesNamingTheFirst) {
  start(settings());
  auto child = spawn_binary({"run", "-f", m_policy, "--db", m_db, "--listen", "127.0.0.1:0"},
                            m_dir + "/second.err");
  const int code = wait_exit(child, 15s);
  if (code == -1) {
    ::kill(child.pid, SIGKILL);
    waitpid(child.pid, nullptr, 0);
  }
  EXPECT_EQ(code, 1);
  EXPECT_NE(read_all(child.err_path).find(std::to_string(::getpid())), std::string::npos)
      << read_all(child.err_path);
}

} // namespace
} // namespace bobsync
