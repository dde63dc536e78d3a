// The status page in a real headless browser (Debian 12 `chromium`, from
// tools/install-deps.sh): the page loads without console errors, shows the
// rows of the scenario, the employee filter works, a display name full of
// HTML is shown as text, and the page is refused without the token.
//
// A browser cannot be told to send a header from the command line, so the
// authorised loads go through a small reverse proxy on loopback that adds
// `Authorization: Bearer <token>` (as a team would put the page behind its
// SSO proxy); the refusal is loaded from the listener directly.

#include "controller/observability/metrics.hpp"
#include "controller/server/listener.hpp"
#include "controller/status/status_page.hpp"
#include "state/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

namespace bobsync::controller::status {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* k_token = "browser-test-token";
constexpr const char* k_evil_name = "<script>alert(1)</script><img src=x onerror=alert(2)>";

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(p)) {
      return p;
    }
  }
  return "";
}

struct BrowserResult {
  int exit_code = -1;
  std::string dom;
  std::string log;
};

BrowserResult load(const std::string& url) {
  const auto dir =
      fs::temp_directory_path()
      / ("bobsync-chromium-" + std::to_string(::getpid()) + "-"
         + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir / "profile");
  const auto dom_file = dir / "dom.html";
  const auto log_file = dir / "stderr.log";
  const std::string command =
      "timeout 60 " + chromium_path()
      + " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
        " --disable-background-networking --disable-component-update --disable-sync"
        " --enable-logging=stderr --v=0 --user-data-dir="
      + (dir / "profile").string() + " --dump-dom '" + url + "' >" + dom_file.string() + " 2>"
      + log_file.string();
  BrowserResult r;
  r.exit_code = std::system(command.c_str());
  std::ifstream dom(dom_file);
  r.dom.assign(std::istreambuf_iterator<char>(dom), {});
  std::ifstream log(log_file);
  r.log.assign(std::istreambuf_iterator<char>(log), {});
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return r;
}

// Console messages chromium logged (with --enable-logging=stderr, --v=0).
bool has_console_error(const std::string& log) {
  return log.find("CONSOLE") != std::string::npos || log.find("Uncaught") != std::string::npos
         || log.find("Refused to") != std::string::npos;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

state::AuditRecord row(const std::string& employee, const std::string& name, state::Action action) {
  state::AuditRecord a;
  a.time = "2026-11-30T10:00:00Z";
  a.run_id = "run-1";
  a.action = action;
  a.employee_id = employee;
  a.user_id = "u" + employee;
  a.fields = {{"displayname", std::nullopt, name}};
  a.policy_hash = "abc";
  a.outcome = "ok";
  return a;
}

class StatusPageBrowser : public ::testing::Test {
protected:
  void SetUp() override {
    if (chromium_path().empty()) {
      GTEST_SKIP() << "chromium is not installed (tools/install-deps.sh installs it)";
    }
    m_store->append_audit(row("1001", "Ada Lovelace", state::Action::create));
    m_store->append_audit(row("1002", k_evil_name, state::Action::update));
    m_store->append_audit(row("1001", "Ada King", state::Action::update));
    state::RunRecord run{"r1",
                         "2026-12-01T08:00:00Z",
                         "2026-12-01T08:00:02Z",
                         "run",
                         "abc",
                         "blocked",
                         "create=1 update=2 suspend=3"};
    m_store->start_run(run);
    m_store->finish_run(run);

    m_page = std::make_unique<StatusPage>(k_token, [this](const std::string& employee) {
      StatusSnapshot s;
      s.now = "2026-12-01T09:00:00Z";
      s.policy_path = "policy.yaml";
      s.policy_hash = "0123456789abcdef";
      s.blocked = true;
      s.blocked_by = {{false, "3 suspensions exceed safety.maxSuspensions (1)"}};
      s.runs = m_store->recent_runs(k_max_runs);
      s.employee_filter = employee;
      s.audit = m_store->audit(employee, k_max_audit_rows);
      s.audit_limit = k_max_audit_rows;
      s.plan_known = true;
      s.upcoming = {{"1003", "Grace Hopper", "grace@example.com", "create", "2027-01-04 00:00"}};
      return s;
    });
    server::ListenerOptions options;
    options.port = 0;
    server::ListenerCallbacks callbacks;
    callbacks.status_page = [this](const server::PageRequest& r) {
      auto reply = m_page->serve({r.authorization, r.employee});
      return server::PageReply{reply.status, reply.body};
    };
    m_listener = std::make_unique<server::Listener>(options, callbacks, m_metrics);
    m_listener->start();

    // The authenticating proxy.
    m_proxy.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
      httplib::Client c("127.0.0.1", m_listener->bound_port());
      c.set_read_timeout(10s);
      std::string target = request.path;
      if (!request.params.empty()) {
        target += "?";
        bool first = true;
        for (const auto& [key, value] : request.params) {
          target += (first ? "" : "&") + key + "=" + url_encode(value);
          first = false;
        }
      }
      auto upstream = c.Get(target.c_str(), {{"Authorization", std::string("Bearer ") + k_token}});
      if (!upstream) {
        response.status = 502;
        return;
      }
      response.status = upstream->status;
      response.set_content(upstream->body, "text/html; charset=utf-8");
    });
    m_proxy_port = m_proxy.bind_to_any_port("127.0.0.1");
    m_proxy_thread = std::thread([this] { m_proxy.listen_after_bind(); });
  }

  void TearDown() override {
    m_proxy.stop();
    if (m_proxy_thread.joinable()) {
      m_proxy_thread.join();
    }
  }

  std::string proxied(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_proxy_port) + path;
  }

  std::unique_ptr<state::SqliteStore> m_store =
      state::SqliteStore::open(":memory:", state::OpenMode::writer);
  observability::Metrics m_metrics{"test"};
  std::unique_ptr<StatusPage> m_page;
  std::unique_ptr<server::Listener> m_listener;
  httplib::Server m_proxy;
  int m_proxy_port = 0;
  std::thread m_proxy_thread;
};

TEST_F(StatusPageBrowser, LoadsWithoutConsoleErrorsAndShowsTheScenario) {
  const auto r = load(proxied("/"));
  ASSERT_EQ(r.exit_code, 0) << r.log;
  EXPECT_FALSE(has_console_error(r.log)) << r.log;
  EXPECT_NE(r.dom.find("bobsync status"), std::string::npos) << r.dom;
  EXPECT_EQ(count(r.dom, "<tr class=\"audit\">"), 3u) << r.dom;
  EXPECT_EQ(count(r.dom, "<tr class=\"run\">"), 1u);
  EXPECT_NE(r.dom.find("create=1 update=2 suspend=3"), std::string::npos);
  EXPECT_NE(r.dom.find("bobsync apply -f policy.yaml --allow-mass-changes"), std::string::npos);
  EXPECT_NE(r.dom.find("Grace Hopper"), std::string::npos);
  // The name full of HTML is text: no script or img element was created.
  EXPECT_NE(r.dom.find("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x"), std::string::npos)
      << r.dom;
  EXPECT_EQ(r.dom.find("<script"), std::string::npos);
  EXPECT_EQ(r.dom.find("<img"), std::string::npos);
}

TEST_F(StatusPageBrowser, TheEmployeeFilterShowsOnlyThatEmployee) {
  const auto r = load(proxied("/?employee=1001"));
  ASSERT_EQ(r.exit_code, 0) << r.log;
  EXPECT_FALSE(has_console_error(r.log)) << r.log;
  EXPECT_EQ(count(r.dom, "<tr class=\"audit\">"), 2u) << r.dom;
  EXPECT_NE(r.dom.find("Ada King"), std::string::npos);
  EXPECT_EQ(r.dom.find("alert(1)"), std::string::npos);
  EXPECT_NE(r.dom.find("value=\"1001\""), std::string::npos);
}

TEST_F(StatusPageBrowser, RefusedWithoutTheToken) {
  const auto r = load("http://127.0.0.1:" + std::to_string(m_listener->bound_port()) + "/");
  ASSERT_EQ(r.exit_code, 0) << r.log;
  EXPECT_NE(r.dom.find("401"), std::string::npos) << r.dom;
  EXPECT_EQ(r.dom.find("bobsync status"), std::string::npos);
  EXPECT_EQ(r.dom.find("Ada"), std::string::npos);
}

} // namespace
} // namespace bobsync::controller::status
