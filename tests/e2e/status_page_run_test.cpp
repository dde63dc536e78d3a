// End to end: the status page of a real `bobsync run` (the Controller wiring)
// over the fakes: refused without BOBSYNC_STATUS_TOKEN's bearer, then the
// pass, the deferred starters, the conflicts and the audit log of the seed,
// with a Bob first name full of HTML shown as text.

#include "controller/cli/run_command.hpp"
#include "controller/ports/clock.hpp"
#include "controller/run/loop.hpp"
#include "sandbox/sandbox.hpp"
#include "state/timestamp.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

namespace bobsync {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string k_token = "status-S3CR3T-token-77";

class StatusPageRunE2E : public ::testing::Test {
protected:
  void SetUp() override {
    char dir[] = "/tmp/bobsync-status-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    m_dir = dir;
    sandbox::SandboxConfig config;
    config.seed_dir = std::string(BOBSYNC_SOURCE_DIR) + "/examples/sandbox";
    config.bob_user = "svc";
    config.bob_token = "bob-token";
    config.jumpcloud_key = "jc-key";
    config.webhook_secret = "hook";
    config.clock = [] { return state::parse_timestamp("2026-11-27T10:00:00Z").value(); };
    m_sandbox = std::make_unique<sandbox::Sandbox>(config);
    setenv("BOB_API_URL", m_sandbox->bob().base_url().c_str(), 1);
    setenv("JUMPCLOUD_API_URL", m_sandbox->jumpcloud().base_url().c_str(), 1);
    setenv("BOB_SERVICE_USER_ID", "svc", 1);
    setenv("BOB_SERVICE_USER_TOKEN", "bob-token", 1);
    setenv("JUMPCLOUD_API_KEY", "jc-key", 1);
    setenv("BOBSYNC_STATUS_TOKEN", k_token.c_str(), 1);
    unsetenv("BOBSYNC_STATUS_TOKEN_FILE");
    unsetenv("BOBSYNC_NOW");
    unsetenv("BOBSYNC_DB");
  }

  void TearDown() override {
    if (m_controller) {
      m_controller->stop();
      if (m_thread.joinable()) {
        m_thread.join();
      }
      m_controller.reset();
    }
    unsetenv("BOBSYNC_STATUS_TOKEN");
    m_sandbox.reset();
    fs::remove_all(m_dir);
  }

  void start() {
    cli::RunSettings s;
    s.policy_path = std::string(BOBSYNC_SOURCE_DIR) + "/examples/desired-state.yaml";
    s.db_path = m_dir + "/state.db";
    s.listen = "127.0.0.1:0";
    s.start_at = state::parse_timestamp("2026-11-27T10:00:00Z").value();
    s.no_webhooks = true;
    s.log_out = &m_log;
    s.http_clock = std::make_shared<controller::ManualClock>();
    m_controller = std::make_unique<cli::Controller>(std::move(s));
    m_thread = std::thread([this] { m_controller->run(); });
    ASSERT_TRUE(m_controller->wait_until_serving(10s));
    ASSERT_TRUE(m_controller->loop().wait_for_passes(1, 60s));
  }

  httplib::Result get(const std::string& path, const std::string& token) {
    httplib::Client c("127.0.0.1", m_controller->port());
    c.set_read_timeout(5s);
    httplib::Headers headers;
    if (!token.empty()) {
      headers.emplace("Authorization", "Bearer " + token);
    }
    return c.Get(path.c_str(), headers);
  }

  std::string m_dir;
  std::unique_ptr<sandbox::Sandbox> m_sandbox;
  std::ostringstream m_log;
  std::unique_ptr<cli::Controller> m_controller;
  std::thread m_thread;
};

TEST_F(StatusPageRunE2E, ShowsThePassWhatIsComingConflictsAndTheAuditBehindTheToken) {
  const auto employees = m_sandbox->bob().employees();
  ASSERT_FALSE(employees.empty());
  const auto evil = employees.front().id;
  ASSERT_TRUE(m_sandbox->bob().change(
      evil, {{"root.firstName", sandbox::BobValue::string("<script>alert(1)</script>")}}));
  start();

  auto refused = get("/", "");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->body.find("@example.com"), std::string::npos);
  auto wrong = get("/", "not-the-token");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);

  auto page = get("/", k_token);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200);
  const auto& html = page->body;
  EXPECT_NE(html.find("<tr class=\"run\">"), std::string::npos) << html;
  EXPECT_NE(html.find("<tr class=\"upcoming\">"), std::string::npos)
      << html; // seed: future starters
  EXPECT_NE(html.find("<tr class=\"conflict\">"), std::string::npos) << html; // seed: shared email
  EXPECT_NE(html.find("<tr class=\"audit\">"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << html;
  EXPECT_EQ(html.find("<script"), std::string::npos);

  auto one = get("/?employee=" + evil, k_token);
  ASSERT_TRUE(one);
  EXPECT_NE(one->body.find("value=\"" + evil + "\""), std::string::npos);
  std::size_t rows = 0;
  for (auto at = one->body.find("<tr class=\"audit\">"); at != std::string::npos;
       at = one->body.find("<tr class=\"audit\">", at + 1)) {
    ++rows;
  }
  EXPECT_GE(rows, 1u);
  EXPECT_EQ(one->body.find("?employee=" + employees.back().id + "\""), std::string::npos);
}

} // namespace
} // namespace bobsync
