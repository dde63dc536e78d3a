// End to end: the CLI in-process (cli::run) against the sandbox's fakes over
// loopback HTTP and a temporary SQLite database. Assertions are on what
// JumpCloud ends up holding.

#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace bobsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using e2e::k_admin_id;
using e2e::k_amelia;
using e2e::k_bob_token;
using e2e::k_jc_key;
using e2e::k_webhook_secret;
using e2e::read_all;
using e2e::run_binary;

class CliE2E : public e2e::SandboxE2E {};

TEST_F(CliE2E, GreenfieldCreatesEveryInScopeEmployeeAndASecondRunIsANoOp) {
  const auto planned = cli({"plan", "--json"});
  ASSERT_EQ(planned.code, 2) << planned.err;
  const auto plan = json::parse(planned.out);
  std::vector<json> creates;
  for (const auto& c : plan["changes"]) {
    if (c["action"] == "create") {
      creates.push_back(c);
    }
  }
  ASSERT_GT(creates.size(), 20U);

  const auto applied = cli({"apply"});
  ASSERT_EQ(applied.code, 0) << applied.out << applied.err;
  for (const auto& c : creates) {
    const auto found = users_with_email(c["email"]);
    ASSERT_EQ(found.size(), 1U) << c.dump();
    EXPECT_EQ(found[0]["username"], c["username"]);
    EXPECT_EQ(attribute(found[0], "bobEmployeeId"), c["bobId"]);
    EXPECT_EQ(found[0]["state"], "ACTIVATED");
    EXPECT_EQ(found[0]["jobTitle"], c["fields"]["jobTitle"]["new"]) << "human-readable title";
  }
  expect_no_duplicates();

  const auto writes = jumpcloud().write_count();
  EXPECT_TRUE(nothing_to_apply(cli({"plan"})));
  const auto again = cli({"apply"});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(jumpcloud().write_count(), writes) << "a converged apply writes nothing";
  const auto refreshed = cli({"apply", "--refresh"});
  EXPECT_EQ(refreshed.code, 0);
  EXPECT_EQ(jumpcloud().write_count(), writes) << "not even after a full refresh";
}

TEST_F(CliE2E, AdoptsPreExistingUsersByEmployeeIdAndByEmailInAnotherCase) {
  const auto before = users().size();
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto amelia = jumpcloud().user_json("5f0c1b2c3d4e5f6a7b8c0001");
  ASSERT_TRUE(amelia);
  EXPECT_EQ(attribute(json::parse(*amelia), "bobEmployeeId"), k_amelia) << "by employeeIdentifier";
  const auto priya = json::parse(*jumpcloud().user_json("5f0c1b2c3d4e5f6a7b8c0004"));
  EXPECT_FALSE(attribute(priya, "bobEmployeeId").empty()) << "by email in another case";
  EXPECT_EQ(users_with_email("priya.sharma@example.com").size(), 1U);
  expect_no_duplicates();
  const auto plan = cli({"plan"});
  EXPECT_TRUE(nothing_to_apply(plan));
  EXPECT_GT(users().size(), before);
}

TEST_F(CliE2E, UnmanagedUsersAreUntouched) {
  const auto admin = jumpcloud().user_json(k_admin_id);
  const auto service = jumpcloud().user_json("5f0c1b2c3d4e5f6a7b8c00f1");
  const auto contractor = jumpcloud().user_json("5f0c1b2c3d4e5f6a7b8c000a");
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ(jumpcloud().user_json(k_admin_id), admin);
  EXPECT_EQ(jumpcloud().user_json("5f0c1b2c3d4e5f6a7b8c00f1"), service);
  EXPECT_EQ(jumpcloud().user_json("5f0c1b2c3d4e5f6a7b8c000a"), contractor);
}

TEST_F(CliE2E, LeaverIsSuspendedOnTheTerminationDateAndNotADayBefore) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  ASSERT_TRUE(bob().terminate(k_amelia, "2026-12-10"));
  set_now("2026-12-09T23:30:00Z"); // 23:30 in London: still the 9th
  EXPECT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(k_amelia))["state"], "ACTIVATED");
  set_now("2026-12-10T00:00:00Z");
  const auto r = cli({"apply"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const auto u = *user_of(k_amelia);
  EXPECT_EQ(u["state"], "SUSPENDED");
  EXPECT_EQ(u["suspended"], true);
  const auto history = cli({"history", "--employee", k_amelia});
  EXPECT_NE(history.out.find("suspend"), std::string::npos);
}

TEST_F(CliE2E, FutureStarterIsCreatedOnTheStartDateInItsTimeZone) {
  const auto id = hire("Mia", "Tanaka", "2026-12-07", "Sydney");
  set_now("2026-12-06T12:59:00Z"); // 23:59 on the 6th in Sydney
  const auto before = cli({"plan", "--json"});
  EXPECT_EQ(before.code, 2);
  EXPECT_NE(before.out.find("\"date\": \"2026-12-07\""), std::string::npos);
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_FALSE(user_of(id));
  set_now("2026-12-06T13:00:00Z"); // midnight on the 7th in Sydney, still the 6th in London
  const auto applied = cli({"apply"});
  ASSERT_EQ(applied.code, 0);
  const auto u = user_of(id);
  ASSERT_TRUE(u) << applied.out << cli({"explain", id}).out;
  EXPECT_EQ((*u)["state"], "ACTIVATED");
  EXPECT_EQ((*u)["username"], "mia.tanaka");
}

TEST_F(CliE2E, ProvisionDaysBeforeCreatesStagedThenActivatesOnTheDay) {
  m_policy = write_policy("early.yaml", {{"provisionDaysBefore: 0", "provisionDaysBefore: 3"}});
  const auto id = hire("Leo", "Martin", "2026-12-10");
  set_now("2026-12-06");
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_FALSE(user_of(id));
  set_now("2026-12-07");
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto staged = user_of(id);
  ASSERT_TRUE(staged);
  EXPECT_EQ((*staged)["state"], "STAGED");
  set_now("2026-12-09");
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(id))["state"], "STAGED");
  set_now("2026-12-10");
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto active = user_of(id);
  EXPECT_EQ((*active)["state"], "ACTIVATED");
  EXPECT_EQ((*active)["_id"], (*staged)["_id"]);
}

TEST_F(CliE2E, AlwaysSuspendAndAlwaysActivateSetTheStateOnceAtCreation) {
  m_policy = write_policy("suspend.yaml",
                          {{"statusBehavior: useBobStatus", "statusBehavior: alwaysSuspend"}});
  const auto id = hire("Ava", "Stone", "2026-11-02");
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(id))["state"], "SUSPENDED");
  // An admin activates the user by hand: bobsync leaves it so.
  ASSERT_TRUE(
      jumpcloud().edit_user((*user_of(id))["_id"], R"({"state":"ACTIVATED","suspended":false})"));
  ASSERT_EQ(cli({"apply", "--refresh"}).code, 0);
  EXPECT_EQ((*user_of(id))["state"], "ACTIVATED");

  m_policy = write_policy("activate.yaml",
                          {{"statusBehavior: useBobStatus", "statusBehavior: alwaysActivate"}});
  const auto other = hire("Eli", "Frost", "2026-11-02", "London", 5002);
  ASSERT_TRUE(bob().change(other, {{"internal.status", sandbox::BobValue::string("Inactive")}}));
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(other))["state"], "ACTIVATED");
}

TEST_F(CliE2E, RehireReactivatesTheSameUser) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto id = (*user_of(k_amelia))["_id"];
  ASSERT_TRUE(bob().terminate(k_amelia, "2026-11-27"));
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(k_amelia))["state"], "SUSPENDED");
  // Rehired: a new start date after the termination, and active again.
  ASSERT_TRUE(bob().change(k_amelia,
                           {{"work.startDate", sandbox::BobValue::string("2027-01-04")},
                            {"internal.status", sandbox::BobValue::string("Active")}}));
  set_now("2027-01-04");
  const auto r = cli({"apply"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto u = *user_of(k_amelia);
  EXPECT_EQ(u["_id"], id);
  EXPECT_EQ(u["state"], "ACTIVATED");
  EXPECT_EQ(users_with_email("amelia.clarke@example.com").size(), 1U);
}

TEST_F(CliE2E, RehireUnderAlwaysActivateReactivatesTheSameUser) {
  m_policy = write_policy("activate.yaml",
                          {{"statusBehavior: useBobStatus", "statusBehavior: alwaysActivate"}});
  ASSERT_EQ(cli({"apply"}).code, 0);
  ASSERT_TRUE(bob().terminate(k_amelia, "2026-11-27"));
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(k_amelia))["state"], "SUSPENDED");
  // Rehired: a new start date after the termination, and active again.
  ASSERT_TRUE(bob().change(k_amelia,
                           {{"work.startDate", sandbox::BobValue::string("2027-01-04")},
                            {"internal.status", sandbox::BobValue::string("Active")}}));
  set_now("2027-01-04");
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ((*user_of(k_amelia))["state"], "ACTIVATED");
}

TEST_F(CliE2E, MassSuspensionIsBlockedUnlessAllowed) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  int terminated = 0;
  for (const auto& e : bob().employees()) {
    if (user_of(e.id) && (*user_of(e.id))["state"] == "ACTIVATED" && terminated < 12) {
      ASSERT_TRUE(bob().terminate(e.id, "2026-11-20"));
      ++terminated;
    }
  }
  ASSERT_EQ(terminated, 12);
  const auto writes = jumpcloud().write_count();
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 3);
  EXPECT_NE(plan.out.find("safety.maxSuspensions"), std::string::npos);
  const auto blocked = cli({"apply"});
  EXPECT_EQ(blocked.code, 3);
  EXPECT_EQ(jumpcloud().write_count(), writes);
  const auto allowed = cli({"apply", "--allow-mass-changes"});
  EXPECT_EQ(allowed.code, 0) << allowed.err;
  int suspended = 0;
  for (const auto& u : users()) {
    suspended += u["state"] == "SUSPENDED" ? 1 : 0;
  }
  EXPECT_GE(suspended, 12);
}

TEST_F(CliE2E, BobAnsweringWithNobodyBlocks) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  for (const auto& e : bob().employees()) {
    bob().remove(e.id);
  }
  const auto writes = jumpcloud().write_count();
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 3);
  EXPECT_NE(plan.out.find("Bob returned no employees"), std::string::npos);
  EXPECT_EQ(cli({"apply"}).code, 3);
  EXPECT_EQ(jumpcloud().write_count(), writes);
}

TEST_F(CliE2E, FieldHiddenFromTheServiceUserBlocks) {
  bob().hide_field("work.title");
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 3);
  EXPECT_NE(plan.out.find("work.title"), std::string::npos);
  EXPECT_EQ(cli({"apply"}).code, 3);
  EXPECT_EQ(jumpcloud().write_count(), 0);
}

TEST_F(CliE2E, LostCreateResponseCreatesExactlyOneUser) {
  const auto id = hire("Nia", "Okafor", "2026-11-02");
  sandbox::Fault lost;
  lost.kind = sandbox::FaultKind::lost_response;
  lost.method = "POST";
  lost.path_prefix = "/api/systemusers";
  lost.times = 3;
  jumpcloud().faults().add(lost);
  const auto r = cli({"apply"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(users_with_email("nia.okafor@example.com").size(), 1U);
  EXPECT_TRUE(user_of(id));
  expect_no_duplicates();
  EXPECT_TRUE(nothing_to_apply(cli({"plan"})));
  EXPECT_NE(cli({"history"}).out.find("recovered"), std::string::npos);
}

TEST_F(CliE2E, InjectedServerErrorsAndRateLimitsConvergeWithoutDuplicates) {
  sandbox::Fault errors;
  errors.kind = sandbox::FaultKind::status;
  errors.status = 503;
  errors.times = 1000000;
  errors.probability = 0.2;
  sandbox::Fault limited;
  limited.kind = sandbox::FaultKind::status;
  limited.status = 429;
  limited.times = 1000000;
  limited.probability = 0.1;
  jumpcloud().faults().seed(7);
  jumpcloud().faults().add(errors);
  jumpcloud().faults().add(limited);
  int code = -1;
  for (int attempt = 0; attempt < 6 && code != 0; ++attempt) {
    code = cli({"apply"}).code;
    expect_no_duplicates();
  }
  EXPECT_EQ(code, 0);
  jumpcloud().faults().clear();
  EXPECT_TRUE(nothing_to_apply(cli({"plan", "--refresh"}))) << "converged";
  expect_no_duplicates();
}

TEST_F(CliE2E, JobTitleChangedByHandIsRestoredAfterTheNextFullRefresh) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const std::string id = (*user_of(k_amelia))["_id"];
  const std::string title = (*user_of(k_amelia))["jobTitle"];
  ASSERT_TRUE(jumpcloud().edit_user(id, R"({"jobTitle":"Chief Hacker"})"));
  EXPECT_TRUE(nothing_to_apply(cli({"plan", "--cached"})))
      << "the cache is fresh: drift is not seen yet";
  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 2);
  EXPECT_NE(plan.out.find("Chief Hacker"), std::string::npos);
  ASSERT_EQ(cli({"apply", "--refresh"}).code, 0);
  EXPECT_EQ((*user_of(k_amelia))["jobTitle"], title);
}

TEST_F(CliE2E, SavedPlanIsAppliedExactlyOrRefusedWhenStale) {
  const auto saved = m_dir + "/plan.json";
  ASSERT_EQ(cli({"plan", "--out", saved}).code, 2);
  ASSERT_TRUE(
      bob().change(k_amelia, {{"root.surname", sandbox::BobValue::string("Clarke-Hughes")}}));
  const auto stale = cli({"apply", "--plan", saved});
  EXPECT_EQ(stale.code, 1);
  EXPECT_NE(stale.err.find("stale"), std::string::npos);
  EXPECT_EQ(jumpcloud().write_count(), 0);
  ASSERT_EQ(cli({"plan", "--out", saved}).code, 2);
  const auto applied = cli({"apply", "--plan", saved});
  EXPECT_EQ(applied.code, 0) << applied.err;
  EXPECT_EQ((*user_of(k_amelia))["lastname"], "Clarke-Hughes");
}

TEST_F(CliE2E, OnDemandSyncOfOneEmployee) {
  const auto r = cli({"apply", "--employee", k_amelia});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(user_of(k_amelia));
  // The seed has one user already carrying a link attribute; nobody else
  // gained one.
  const auto before = users().size();
  int linked = 0;
  for (const auto& u : users()) {
    linked += attribute(u, "bobEmployeeId").empty() ? 0 : 1;
  }
  EXPECT_EQ(linked, 2) << "nobody else was touched";
  EXPECT_EQ(users().size(), before);
}

TEST_F(CliE2E, ExplainShowsDerivationAndMatching) {
  const auto r = cli({"explain", k_amelia});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("jobTitle <- work.title"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("found by employeeIdentifier"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lifecycle: active"), std::string::npos) << r.out;
}

TEST_F(CliE2E, ExitCodesOfPlan) {
  EXPECT_EQ(cli({"plan"}).code, 2);
  const auto bad = write_policy("bad.yaml", {{"version: 1", "version: 1\nmapings: []"}});
  const auto invalid = cli({"plan", "-f", bad});
  EXPECT_EQ(invalid.code, 1);
  EXPECT_NE(invalid.err.find("bad.yaml:"), std::string::npos);
  setenv("JUMPCLOUD_API_KEY", "wrong-key-S3CR3T", 1);
  const auto refused = cli({"plan"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("JumpCloud"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.err.find("wrong-key-S3CR3T"), std::string::npos) << refused.err;
}

TEST_F(CliE2E, SecretsAppearInNoOutputPlanFileOrDatabase) {
  const auto saved = m_dir + "/plan.json";
  cli({"plan", "--json", "--out", saved});
  sandbox::Fault errors;
  errors.kind = sandbox::FaultKind::status;
  errors.status = 500;
  errors.times = 3;
  jumpcloud().faults().add(errors);
  cli({"apply"});
  cli({"apply"});
  cli({"status"});
  cli({"history"});
  cli({"explain", k_amelia});
  std::string everything = m_transcript + read_all(saved);
  for (const auto& entry : fs::directory_iterator(m_dir)) {
    everything += read_all(entry.path().string());
  }
  for (const auto& secret : {k_bob_token, k_jc_key, k_webhook_secret}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(everything.find("amelia"), std::string::npos) << "the search is not vacuous";
}

TEST_F(CliE2E, LinksAreRebuiltFromJumpCloudWhenTheDatabaseIsLost) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto writes = jumpcloud().write_count();
  for (const auto* suffix : {"", "-wal", "-shm"}) {
    fs::remove(m_db + suffix);
  }
  const auto plan = cli({"plan"});
  EXPECT_TRUE(nothing_to_apply(plan)) << plan.out;
  ASSERT_EQ(cli({"apply"}).code, 0);
  EXPECT_EQ(jumpcloud().write_count(), writes);
  expect_no_duplicates();
  EXPECT_EQ(cli({"status"}).out.find("linked employees: 0"), std::string::npos);
}

TEST_F(CliE2E, DatabaseFileIsPrivateAndOneWriterAtATime) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto perms = fs::status(m_db).permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

// The real binary, killed mid-apply by BOBSYNC_CRASH_AT, then run again.
class CrashE2E : public CliE2E, public ::testing::WithParamInterface<const char*> {};

TEST_P(CrashE2E, KilledMidApplyResumesWithoutDuplicatesOrLostAudit) {
  const int crashed = run_binary({"apply", "-f", m_policy, "--db", m_db, "--now", m_now},
                                 {std::string("BOBSYNC_CRASH_AT=") + GetParam() + ":7"});
  ASSERT_EQ(crashed, 137);
  const auto status = cli({"status"});
  EXPECT_EQ(status.out.find("pending journal entries: 0"), std::string::npos) << status.out;
  const auto resumed = cli({"apply"});
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("settled"), std::string::npos) << resumed.out;
  expect_no_duplicates();
  EXPECT_TRUE(nothing_to_apply(cli({"plan", "--refresh"})));
  EXPECT_NE(cli({"status"}).out.find("pending journal entries: 0"), std::string::npos);
  // Every user bobsync created or adopted has an audit record.
  const auto history = cli({"history", "--limit", "0"}).out;
  for (const auto& u : users()) {
    const auto owner = attribute(u, "bobEmployeeId");
    if (!owner.empty()) {
      EXPECT_NE(history.find("bob:" + owner), std::string::npos) << owner;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CliE2E, CrashE2E, ::testing::Values("after_intent", "after_call"));

} // namespace
} // namespace bobsync
