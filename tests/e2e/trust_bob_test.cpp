// End to end, issue 9: bobsync never acts on a bad read of Bob, a targeted
// run plans what the full run would, and its messages say what they mean.
// The CLI in-process (cli::run) against the sandbox's fakes over loopback
// HTTP and a temporary SQLite database (e2e::SandboxE2E, as in cli_test.cpp).

#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bobsync {
namespace {

using nlohmann::json;

using e2e::k_amelia;
using e2e::read_all;

class TrustBobE2E : public e2e::SandboxE2E {};

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
