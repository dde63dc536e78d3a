// End to end, issue 9: bobsync never acts on a bad read of Bob, a targeted
// run plans what the full run would, and its messages say what they mean.
// The CLI in-process (cli::run) against the sandbox's fakes over loopback
// HTTP and a temporary SQLite database (set up as in cli_test.cpp).

#include "controller/cli/cli.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/sandbox.hpp"
#include "state/timestamp.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>

extern char** environ;

namespace bobsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string k_bob_user = "svc-e2e-user";
const std::string k_bob_token = "bob-token-S3CR3T-e2e-7731";
const std::string k_jc_key = "jc-key-S3CR3T-e2e-9920";
const std::string k_webhook_secret = "webhook-S3CR3T-e2e-4410";

// Seeded people (examples/sandbox).
const std::string k_amelia = "3332883854254931000"; // employeeIdentifier 1001, London
const std::string k_admin_id = "5f0c1b2c3d4e5f6a7b8c00f0";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

std::chrono::system_clock::time_point parse_time(const std::string& text) {
  return state::parse_timestamp(text).value();
}

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

class TrustBobE2E : public ::testing::Test {
protected:
  void SetUp() override {
    char dir[] = "/tmp/bobsync-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    m_dir = dir;
    m_db = m_dir + "/state.db";
    set_now("2026-11-27");
    sandbox::SandboxConfig config;
    config.seed_dir = std::string(BOBSYNC_SOURCE_DIR) + "/examples/sandbox";
    config.bob_user = k_bob_user;
    config.bob_token = k_bob_token;
    config.jumpcloud_key = k_jc_key;
    config.webhook_secret = k_webhook_secret;
    config.clock = [this] { return m_fake_now.load(); };
    m_sandbox = std::make_unique<sandbox::Sandbox>(config);
    setenv("BOB_API_URL", m_sandbox->bob().base_url().c_str(), 1);
    setenv("JUMPCLOUD_API_URL", m_sandbox->jumpcloud().base_url().c_str(), 1);
    setenv("BOB_SERVICE_USER_ID", k_bob_user.c_str(), 1);
    setenv("BOB_SERVICE_USER_TOKEN", k_bob_token.c_str(), 1);
    setenv("JUMPCLOUD_API_KEY", k_jc_key.c_str(), 1);
    setenv("BOB_WEBHOOK_SECRET", k_webhook_secret.c_str(), 1);
    unsetenv("BOBSYNC_NOW");
    unsetenv("BOBSYNC_DB");
    m_policy = write_policy("policy.yaml", {});
  }

  void TearDown() override {
    m_sandbox.reset();
    fs::remove_all(m_dir);
  }

  void set_now(const std::string& now) {
    m_now = now;
    m_fake_now.store(parse_time(now));
  }

  // The example policy with some lines replaced.
  std::string write_policy(const std::string& name,
                           const std::vector<std::pair<std::string, std::string>>& replacements) {
    std::ifstream in(std::string(BOBSYNC_SOURCE_DIR) + "/examples/desired-state.yaml");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    for (const auto& [from, to] : replacements) {
      const auto at = text.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      if (at != std::string::npos) {
        text.replace(at, from.size(), to);
      }
    }
    const auto path = m_dir + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  CliResult cli(std::vector<std::string> args) {
    const auto& command = args.front();
    if (command == "plan" || command == "apply" || command == "explain") {
      if (std::find(args.begin(), args.end(), "-f") == args.end()) {
        args.insert(args.end(), {"-f", m_policy});
      }
      args.insert(args.end(), {"--now", m_now});
    }
    args.insert(args.end(), {"--db", m_db});
    cli::Hooks hooks;
    hooks.clock = std::make_shared<controller::ManualClock>();
    hooks.fault_point = m_fault_point;
    std::ostringstream out;
    std::ostringstream err;
    CliResult r;
    r.code = cli::run(args, out, err, hooks);
    r.out = out.str();
    r.err = err.str();
    m_transcript += r.out + r.err;
    return r;
  }

  std::vector<json> users() const {
    std::vector<json> out;
    for (const auto& text : m_sandbox->jumpcloud().users_json()) {
      out.push_back(json::parse(text));
    }
    return out;
  }

  std::vector<json> users_with_email(const std::string& email) const {
    std::vector<json> out;
    for (auto& u : users()) {
      if (lower(u.value("email", "")) == lower(email)) {
        out.push_back(u);
      }
    }
    return out;
  }

  static std::string attribute(const json& user, const std::string& name) {
    for (const auto& a : user.value("attributes", json::array())) {
      if (a.value("name", "") == name) {
        return a.value("value", "");
      }
    }
    return {};
  }

  std::optional<json> user_of(const std::string& employee_id) const {
    for (auto& u : users()) {
      if (attribute(u, "bobEmployeeId") == employee_id) {
        return u;
      }
    }
    return std::nullopt;
  }

  void expect_no_duplicates() const {
    std::set<std::string> emails;
    std::set<std::string> eids;
    for (const auto& u : users()) {
      EXPECT_TRUE(emails.insert(lower(u.value("email", ""))).second) << u.dump();
      const auto eid = u.value("employeeIdentifier", "");
      if (!eid.empty()) {
        EXPECT_TRUE(eids.insert(eid).second) << u.dump();
      }
    }
  }

  std::string hire(const std::string& first,
                   const std::string& last,
                   const std::string& start,
                   const std::string& site = "London",
                   int eid = 5001) {
    sandbox::BobEmployee e;
    e.set("root.firstName", sandbox::BobValue::string(first));
    e.set("root.surname", sandbox::BobValue::string(last));
    e.set("root.displayName", sandbox::BobValue::string(first + " " + last));
    e.set("root.email", sandbox::BobValue::string(lower(first + "." + last) + "@example.com"));
    e.set("work.startDate", sandbox::BobValue::string(start));
    e.set("work.site", sandbox::BobValue::string(site));
    e.set("work.title", sandbox::BobValue::string("253271805"));
    e.set("work.department", sandbox::BobValue::string("100"));
    e.set("work.employeeIdInCompany", sandbox::BobValue::number(std::to_string(eid)));
    e.set("payroll.employment.type", sandbox::BobValue::string("4501"));
    return m_sandbox->bob().hire(e);
  }

  // A converged plan: the seed's two Alex Morgans share an email, so it still
  // reports that conflict, and `plan` exits 2 for conflicts (issue 9 §8).
  static bool nothing_to_apply(const CliResult& r) {
    return r.code == 2
           && r.out.find("Nothing to apply, but 2 conflicts need attention") != std::string::npos;
  }

  sandbox::FakeBob& bob() { return m_sandbox->bob(); }
  sandbox::FakeJumpCloud& jumpcloud() { return m_sandbox->jumpcloud(); }

  std::string m_dir;
  std::string m_db;
  std::string m_policy;
  std::string m_now;
  std::string m_transcript; // everything the CLI printed
  std::atomic<std::chrono::system_clock::time_point> m_fake_now{};
  std::function<void(std::string_view)> m_fault_point;
  std::unique_ptr<sandbox::Sandbox> m_sandbox;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST_F(TrustBobE2E, LifecycleFieldHiddenForEveryoneBlocksAndNoFlagOverrides) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  bob().hide_field("internal.terminationDate");
  const auto writes = jumpcloud().write_count();
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 3) << plan.out;
  EXPECT_NE(plan.out.find("internal.terminationDate"), std::string::npos) << plan.out;
  EXPECT_EQ(plan.out.find("in line"), std::string::npos) << plan.out;
  const auto apply = cli({"apply", "--allow-mass-changes"});
  EXPECT_EQ(apply.code, 3);
  // The advice fits the block: the flag does not lift a bad read.
  EXPECT_NE(apply.err.find("does not lift"), std::string::npos) << apply.err;
  EXPECT_EQ(apply.err.find("if it is right"), std::string::npos) << apply.err;
  EXPECT_EQ(jumpcloud().write_count(), writes);
}

TEST_F(TrustBobE2E, NullTerminationDatesForEveryoneDoNotBlock) {
  for (const auto& e : bob().employees()) {
    ASSERT_TRUE(bob().change(e.id, {{"internal.terminationDate", sandbox::BobValue::null()}}));
  }
  const auto r = cli({"plan"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
}

TEST_F(TrustBobE2E, MappedFieldNullForEveryoneBlocksWhenItWouldClearUsers) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  for (const auto& e : bob().employees()) {
    ASSERT_TRUE(bob().change(e.id, {{"work.title", sandbox::BobValue::null()}}));
  }
  const auto writes = jumpcloud().write_count();
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 3) << plan.out;
  EXPECT_NE(plan.out.find("'work.title' is null for every employee"), std::string::npos)
      << plan.out;
  const auto json_plan = cli({"plan", "--json"});
  const auto doc = json::parse(json_plan.out);
  EXPECT_NE(std::find(doc["blocked"]["kinds"].begin(), doc["blocked"]["kinds"].end(), "badRead"),
            doc["blocked"]["kinds"].end())
      << json_plan.out;
  EXPECT_EQ(cli({"apply", "--allow-mass-changes"}).code, 3);
  EXPECT_EQ(jumpcloud().write_count(), writes);
  for (const auto& u : users()) {
    if (!attribute(u, "bobEmployeeId").empty()) {
      EXPECT_FALSE(u.value("jobTitle", "").empty()) << u.dump();
    }
  }
}

TEST_F(TrustBobE2E, UnknownStatusIsAWarningAndChangesNoState) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  ASSERT_TRUE(user_of(k_amelia));
  ASSERT_EQ((*user_of(k_amelia))["state"], "ACTIVATED");
  ASSERT_TRUE(bob().change(k_amelia, {{"internal.status", sandbox::BobValue::string("Garden")}}));
  const auto plan = cli({"plan"});
  EXPECT_NE(plan.out.find("'Garden' is unknown"), std::string::npos) << plan.out;
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(k_amelia))["state"], "ACTIVATED");
}

TEST_F(TrustBobE2E, EmployeeOptionWithAnUnknownIdIsAnErrorNamingIt) {
  const auto r = cli({"plan", "--employee", "4242424242424242424"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("4242424242424242424"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("no employees"), std::string::npos) << r.out;
  EXPECT_EQ(cli({"apply", "--employee", "4242424242424242424"}).code, 1);
  EXPECT_EQ(jumpcloud().write_count(), 0);
}

TEST_F(TrustBobE2E, EmployeeOptionDoesNotSkipConflictDetection) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto first = hire("Dana", "Twin", "2026-11-01", "London", 5001);
  const auto second = hire("Dana", "Twin", "2026-11-01", "London", 5002);
  const auto r = cli({"apply", "--employee", second});
  EXPECT_NE(r.out.find("share email"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(users_with_email("dana.twin@example.com").empty());
  EXPECT_FALSE(user_of(first));
  EXPECT_FALSE(user_of(second));
}

TEST_F(TrustBobE2E, UsernamesDoNotDependOnWhoWasSyncedFirst) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto first = hire("Sam", "Lee", "2026-11-01", "London", 5001);
  const auto second = hire("Sam", "Lee", "2026-11-01", "London", 5002);
  ASSERT_NE(first, second);
  ASSERT_TRUE(
      bob().change(second, {{"root.email", sandbox::BobValue::string("sam.lee.two@example.com")}}));
  // The second is synced first; it still gets the suffix a full run gives it.
  ASSERT_EQ(cli({"apply", "--employee", second}).code, 0);
  ASSERT_EQ(cli({"apply", "--employee", first}).code, 0);
  ASSERT_TRUE(user_of(first));
  ASSERT_TRUE(user_of(second));
  // As a full run would: the lower employee id gets the name, the other the
  // suffix, whichever was synced first.
  const auto& low = std::min(first, second);
  const auto& high = std::max(first, second);
  const auto a = (*user_of(low))["username"].get<std::string>();
  const auto b = (*user_of(high))["username"].get<std::string>();
  EXPECT_EQ(b, a + "2") << low << " " << high;
}

TEST_F(TrustBobE2E, PlanWithOnlyConflictsIsNotInLineAndExits2) {
  // The seed's two Alex Morgans share an email: after a converging apply
  // only their conflict is left.
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto r = cli({"plan"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_EQ(r.out.find("in line"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Nothing to apply, but 2 conflicts need attention"), std::string::npos)
      << r.out;
  // Without the conflict, JumpCloud is in line and plan exits 0.
  for (const auto& e : bob().employees()) {
    if (e.find("root.email") != nullptr && e.find("root.email")->text == "alex.morgan@example.com"
        && e.id != "3332883854254932233") {
      ASSERT_TRUE(bob().change(
          e.id, {{"root.email", sandbox::BobValue::string("alexandra.morgan@example.com")}}));
    }
  }
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto clean = cli({"plan"});
  EXPECT_EQ(clean.code, 0) << clean.out;
  EXPECT_NE(clean.out.find("No changes: JumpCloud is in line with Bob."), std::string::npos)
      << clean.out;
}

TEST_F(TrustBobE2E, BlockedPlanDoesNotSayInLine) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  for (const auto& e : bob().employees()) {
    bob().remove(e.id);
  }
  const auto r = cli({"plan"});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.out.find("in line"), std::string::npos) << r.out;
  EXPECT_EQ(cli({"apply", "--allow-mass-changes"}).code, 3) << "a bad read is not overridden";
}

TEST_F(TrustBobE2E, FutureStarterReasonReadsWell) {
  hire("Fay", "Later", "2026-12-03");
  const auto r = cli({"plan"});
  EXPECT_EQ(r.out.find("created on 2026-12-03: starts on 2026-12-03"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("future starter, not created yet: starts on 2026-12-03"), std::string::npos)
      << r.out;
}

TEST_F(TrustBobE2E, SummaryCountsEmployeesItDoesNothingFor) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto r = cli({"plan"});
  EXPECT_EQ(r.code, 2) << r.out; // the seed's conflict
  EXPECT_NE(r.out.find(" out of scope, "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 0 unchanged"), std::string::npos) << r.out;
}

TEST_F(TrustBobE2E, ControlCharactersInNamesArePrintedEscaped) {
  auto id = hire("Mallory", "Evil", "2026-11-01");
  ASSERT_TRUE(bob().change(
      id, {{"root.firstName", sandbox::BobValue::string("Mal\xE2\x80\xAE\x1b[2Jfdp.exe\r")}}));
  const auto r = cli({"plan"});
  EXPECT_EQ(r.out.find("\xE2\x80\xAE"), std::string::npos);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_NE(r.out.find("\\u202E"), std::string::npos) << r.out;
  // explain and history print Bob's values too.
  const auto x = cli({"explain", id});
  EXPECT_EQ(x.out.find("\xE2\x80\xAE"), std::string::npos) << x.out;
  EXPECT_EQ(x.out.find('\x1b'), std::string::npos);
  EXPECT_NE(x.out.find("\\u202E"), std::string::npos) << x.out;
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto h = cli({"history", "--employee", id});
  EXPECT_EQ(h.out.find('\x1b'), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("\\u202E"), std::string::npos) << h.out;
}

TEST_F(TrustBobE2E, OverlongValueIsRefusedForThatEmployeeOnly) {
  const auto id = hire("Huge", "Name", "2026-11-01", "London", 5001);
  ASSERT_TRUE(bob().change(
      id, {{"root.firstName", sandbox::BobValue::string(std::string(1024 * 1024, 'x'))}}));
  const auto plan = cli({"plan"});
  EXPECT_LT(plan.out.size(), 64U * 1024U) << "the value is not printed";
  EXPECT_NE(plan.out.find("bytes long"), std::string::npos);
  const auto r = cli({"apply"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(user_of(id));
  EXPECT_TRUE(user_of(k_amelia)) << "everybody else is synced";
  for (const auto& file : {m_db, m_db + "-wal"}) {
    EXPECT_EQ(read_all(file).find(std::string(5000, 'x')), std::string::npos) << file;
  }
}

TEST_F(TrustBobE2E, NullEmailIsReportedAsAConflictNotDroppedFromScope) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  ASSERT_TRUE(user_of(k_amelia));
  const auto before = *user_of(k_amelia);
  ASSERT_TRUE(bob().change(k_amelia, {{"root.email", sandbox::BobValue::null()}}));
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 2);
  EXPECT_NE(plan.out.find("[bob:" + k_amelia), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("no email in Bob"), std::string::npos) << plan.out;
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ(*user_of(k_amelia), before) << "nothing is written for that employee";
}

} // namespace
} // namespace bobsync
