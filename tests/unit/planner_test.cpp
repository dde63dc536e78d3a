#include "state/planner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace bobsync::state {
namespace {

DesiredUser desired(const std::string& id,
                    const std::string& email,
                    const std::string& username,
                    Phase phase = Phase::active,
                    std::initializer_list<std::pair<std::string, std::string>> extra = {}) {
  DesiredUser d;
  d.employee_id = id;
  d.phase = phase;
  d.phase_reason = "test";
  d.fields.set("email", {email, FieldMode::always});
  d.fields.set("username", {username, FieldMode::create_only});
  for (const auto& [k, v] : extra) {
    d.fields.set(k, {v, FieldMode::always});
  }
  return d;
}

DirectoryUser user(const std::string& id,
                   const std::string& email,
                   const std::string& username,
                   UserState state = UserState::activated,
                   std::initializer_list<std::pair<std::string, std::string>> extra = {}) {
  DirectoryUser u;
  u.id = id;
  u.state = state;
  u.fields.set("email", email);
  u.fields.set("username", username);
  for (const auto& [k, v] : extra) {
    u.fields.set(k, v);
  }
  return u;
}

const std::string k_link = "attributes[name=bobEmployeeId]";

PlanOptions no_limits() {
  PlanOptions options;
  options.safety = {};
  return options;
}

const Change* find(const Plan& plan, const std::string& employee) {
  for (const auto& c : plan.changes) {
    if (c.employee_id == employee) {
      return &c;
    }
  }
  return nullptr;
}

TEST(MakePlan, ConvergedStateGivesEmptyPlan) {
  DesiredState ds;
  ds.users = {desired("1", "ada@example.com", "ada", Phase::active, {{"jobTitle", "CTO"}})};
  const std::vector<DirectoryUser> observed = {user(
      "u1", "ada@example.com", "ada", UserState::activated, {{"jobTitle", "CTO"}, {k_link, "1"}})};
  const auto plan = make_plan(ds, observed, {{"1", "u1", false}}, no_limits());
  EXPECT_TRUE(plan.empty());
  EXPECT_TRUE(plan.changes.empty());
  EXPECT_EQ(plan.summary.unchanged, 1);
  EXPECT_EQ(plan.summary.managed, 1);
}

TEST(MakePlan, NewHireIsCreatedWithEveryFieldAndTheLinkAttribute) {
  DesiredState ds;
  ds.users = {desired("1",
                      "ada@example.com",
                      "ada.lovelace",
                      Phase::active,
                      {{"jobTitle", "CTO"}, {"department", ""}})};
  const auto plan = make_plan(ds, {}, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  const auto& c = plan.changes[0];
  EXPECT_EQ(c.action, Action::create);
  EXPECT_EQ(c.target_state, UserState::activated);
  EXPECT_EQ(c.username, "ada.lovelace");
  ASSERT_NE(c.field("jobTitle"), nullptr);
  EXPECT_EQ(c.field("jobTitle")->new_value, "CTO");
  EXPECT_EQ(c.field("department"), nullptr) << "empty values are not sent on create";
  ASSERT_NE(c.field(k_link), nullptr);
  EXPECT_EQ(c.field(k_link)->new_value, "1");
  EXPECT_TRUE(plan.applyable());
}

TEST(MakePlan, AdoptsByEmployeeIdentifierAndByEmailInAnotherCase) {
  DesiredState ds;
  ds.users = {
      desired("1", "ada@example.com", "ada", Phase::active, {{"employeeIdentifier", "E1"}}),
      desired("2", "Bob.Smith@Example.com", "bob", Phase::active, {{"employeeIdentifier", "E2"}})};
  const std::vector<DirectoryUser> observed = {
      user(
          "u1", "ada.old@example.com", "ada", UserState::activated, {{"employeeIdentifier", "E1"}}),
      user("u2", "bob.smith@example.com", "bsmith")};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_EQ(plan.summary.count(Action::create), 0);
  const auto* a = find(plan, "1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->user_id, "u1");
  EXPECT_EQ(a->matched_by, "employeeIdentifier");
  EXPECT_EQ(a->field("email")->new_value, "ada@example.com");
  const auto* b = find(plan, "2");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->user_id, "u2");
  EXPECT_EQ(b->matched_by, "email");
  EXPECT_EQ(b->field("email"), nullptr) << "email differs only in case";
  EXPECT_NE(b->field("employeeIdentifier"), nullptr);
}

TEST(MakePlan, UnmanagedUsersAreNeverTouched) {
  DesiredState ds;
  ds.users = {desired("1", "ada@example.com", "ada")};
  const std::vector<DirectoryUser> observed = {user("admin", "it-admin@example.com", "it.admin")};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  for (const auto& c : plan.changes) {
    EXPECT_NE(c.user_id, "admin");
  }
  EXPECT_EQ(plan.summary.count(Action::suspend), 0);
}

TEST(MakePlan, DuplicateEmailsDifferingInCaseAreConflictsAndNothingIsCreated) {
  DesiredState ds;
  ds.users = {desired("1", "Sam@example.com", "sam"),
              desired("2", "sam@EXAMPLE.com", "sam"),
              desired("3", "other@example.com", "other")};
  const auto plan = make_plan(ds, {}, {}, no_limits());
  EXPECT_EQ(find(plan, "1")->action, Action::conflict);
  EXPECT_EQ(find(plan, "2")->action, Action::conflict);
  EXPECT_NE(find(plan, "1")->reason.find("share email"), std::string::npos);
  EXPECT_EQ(find(plan, "3")->action, Action::create) << "a conflict does not stop the rest";
}

TEST(MakePlan, UserClaimedByTwoEmployeesIsAConflict) {
  DesiredState ds;
  ds.users = {desired("1", "x@example.com", "x", Phase::active, {{"employeeIdentifier", "E9"}}),
              desired("2", "shared@example.com", "y")};
  const std::vector<DirectoryUser> observed = {
      user("u1", "shared@example.com", "s", UserState::activated, {{"employeeIdentifier", "E9"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_EQ(find(plan, "1")->action, Action::conflict);
  EXPECT_EQ(find(plan, "2")->action, Action::conflict);
  EXPECT_EQ(plan.summary.count(Action::create), 0);
}

TEST(MakePlan, EmailHeldByAnotherUserIsAConflict) {
  DesiredState ds;
  ds.users = {
      desired("1", "taken@example.com", "a", Phase::active, {{"employeeIdentifier", "E1"}})};
  const std::vector<DirectoryUser> observed = {
      user("u1", "old@example.com", "a", UserState::activated, {{"employeeIdentifier", "E1"}}),
      user("u2", "taken@example.com", "b")};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, Action::conflict);
  EXPECT_NE(plan.changes[0].reason.find("u2"), std::string::npos);
}

TEST(MakePlan, UserLinkedToAnotherEmployeeIsNotAdopted) {
  DesiredState ds;
  ds.users = {desired("2", "a@example.com", "a")};
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", UserState::activated, {{k_link, "1"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_EQ(find(plan, "2")->action, Action::conflict);
}

TEST(MakePlan, NullEmailCannotBeCreated) {
  DesiredState ds;
  ds.users = {desired("1", "", "ada")};
  const auto plan = make_plan(ds, {}, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, Action::conflict);
  EXPECT_NE(plan.changes[0].reason.find("no email"), std::string::npos);
}

TEST(MakePlan, UsernamesGetADeterministicSuffixLadder) {
  DesiredState ds;
  ds.users = {desired("3", "c@example.com", "john.smith"),
              desired("1", "a@example.com", "john.smith"),
              desired("2", "b@example.com", "john.smith")};
  const std::vector<DirectoryUser> observed = {user("u9", "x@example.com", "John.Smith")};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_EQ(find(plan, "1")->username, "john.smith2");
  EXPECT_EQ(find(plan, "2")->username, "john.smith3");
  EXPECT_EQ(find(plan, "3")->username, "john.smith4");
  EXPECT_EQ(find(plan, "1")->field("username")->new_value, "john.smith2");

  std::reverse(ds.users.begin(), ds.users.end());
  EXPECT_EQ(make_plan(ds, observed, {}, no_limits()), plan) << "input order does not matter";
}

TEST(MakePlan, SuffixesRespectTheMaximumLength) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "abcdefghij")};
  auto options = no_limits();
  options.usernames.max_length = 10;
  const std::vector<DirectoryUser> observed = {user("u1", "x@example.com", "abcdefghij")};
  const auto plan = make_plan(ds, observed, {}, options);
  EXPECT_EQ(find(plan, "1")->username, "abcdefghi2");
}

TEST(MakePlan, ExistingUsernameIsNeverChangedByDefault) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "new.name")};
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "old.name", UserState::activated, {{k_link, "1"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_TRUE(plan.changes.empty());
}

TEST(MakePlan, FieldModes) {
  DesiredState ds;
  auto d = desired("1", "a@example.com", "a");
  d.fields.set("jobTitle", {"Engineer", FieldMode::always});
  d.fields.set("department", {"R&D", FieldMode::create_only});
  d.fields.set("location", {"London", FieldMode::if_empty});
  d.fields.set("costCenter", {"CC1", FieldMode::if_empty});
  d.fields.set("company", {"", FieldMode::always});
  ds.users = {d};
  const std::vector<DirectoryUser> observed = {user("u1",
                                                    "a@example.com",
                                                    "a",
                                                    UserState::activated,
                                                    {{k_link, "1"},
                                                     {"jobTitle", "Intern"},
                                                     {"department", "Sales"},
                                                     {"location", ""},
                                                     {"costCenter", "CC0"},
                                                     {"company", "Acme"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  const auto& c = plan.changes[0];
  EXPECT_EQ(c.action, Action::update);
  EXPECT_EQ(c.field("jobTitle")->old_value, "Intern");
  EXPECT_EQ(c.field("jobTitle")->new_value, "Engineer");
  EXPECT_EQ(c.field("department"), nullptr);
  EXPECT_EQ(c.field("location")->new_value, "London");
  EXPECT_EQ(c.field("costCenter"), nullptr);
  EXPECT_EQ(c.field("company")->new_value, "") << "an empty value in always mode clears";
}

TEST(MakePlan, EmptyEmailNeverClearsJumpCloudsEmail) {
  DesiredState ds;
  ds.users = {desired("1", "", "a")};
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", UserState::activated, {{k_link, "1"}})};
  EXPECT_TRUE(make_plan(ds, observed, {}, no_limits()).changes.empty());
}

struct StateCase {
  const char* name;
  StatusBehavior behavior;
  Phase phase;
  UserState observed;
  bool suspended_as_leaver;
  std::optional<Action> expected; // nullopt: no change
};

class StateDecisions : public ::testing::TestWithParam<StateCase> {};

TEST_P(StateDecisions, Table) {
  const auto& p = GetParam();
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a", p.phase)};
  ds.users[0].start_date = std::chrono::sys_days(std::chrono::December / 1 / 2026);
  ds.users[0].provision_date = ds.users[0].start_date;
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", p.observed, {{k_link, "1"}})};
  auto options = no_limits();
  options.status_behavior = p.behavior;
  const auto plan = make_plan(ds, observed, {{"1", "u1", p.suspended_as_leaver}}, options);
  if (!p.expected) {
    EXPECT_TRUE(plan.changes.empty()) << to_string(plan.changes[0].action);
    return;
  }
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, *p.expected);
}

using SB = StatusBehavior;
using US = UserState;
INSTANTIATE_TEST_SUITE_P(MakePlan,
                         StateDecisions,
                         ::testing::Values(StateCase{"BobActiveActivatesSuspended",
                                                     SB::use_bob_status,
                                                     Phase::active,
                                                     US::suspended,
                                                     false,
                                                     Action::activate},
                                           StateCase{"BobActiveActivatesStaged",
                                                     SB::use_bob_status,
                                                     Phase::active,
                                                     US::staged,
                                                     false,
                                                     Action::activate},
                                           StateCase{"BobActiveKeepsActive",
                                                     SB::use_bob_status,
                                                     Phase::active,
                                                     US::activated,
                                                     false,
                                                     std::nullopt},
                                           StateCase{"BobInactiveSuspends",
                                                     SB::use_bob_status,
                                                     Phase::inactive,
                                                     US::activated,
                                                     false,
                                                     Action::suspend},
                                           StateCase{"LeaverSuspended",
                                                     SB::use_bob_status,
                                                     Phase::leaver,
                                                     US::activated,
                                                     false,
                                                     Action::suspend},
                                           StateCase{"LeaverAlreadySuspended",
                                                     SB::use_bob_status,
                                                     Phase::leaver,
                                                     US::suspended,
                                                     false,
                                                     std::nullopt},
                                           StateCase{"StagedWaitsForStartDate",
                                                     SB::use_bob_status,
                                                     Phase::staged,
                                                     US::staged,
                                                     false,
                                                     Action::defer},
                                           StateCase{"AlwaysActivateKeepsAdminsSuspension",
                                                     SB::always_activate,
                                                     Phase::active,
                                                     US::suspended,
                                                     false,
                                                     std::nullopt},
                                           StateCase{"AlwaysActivateReactivatesRehire",
                                                     SB::always_activate,
                                                     Phase::active,
                                                     US::suspended,
                                                     true,
                                                     Action::activate},
                                           StateCase{"AlwaysActivateActivatesStagedOnStart",
                                                     SB::always_activate,
                                                     Phase::active,
                                                     US::staged,
                                                     false,
                                                     Action::activate},
                                           StateCase{"AlwaysActivateIgnoresBobInactive",
                                                     SB::always_activate,
                                                     Phase::inactive,
                                                     US::activated,
                                                     false,
                                                     std::nullopt},
                                           StateCase{"AlwaysActivateSuspendsLeaver",
                                                     SB::always_activate,
                                                     Phase::leaver,
                                                     US::activated,
                                                     false,
                                                     Action::suspend},
                                           StateCase{"AlwaysSuspendNeverActivates",
                                                     SB::always_suspend,
                                                     Phase::active,
                                                     US::suspended,
                                                     true,
                                                     std::nullopt},
                                           StateCase{"AlwaysSuspendKeepsAdminsActivation",
                                                     SB::always_suspend,
                                                     Phase::active,
                                                     US::activated,
                                                     false,
                                                     std::nullopt},
                                           StateCase{"AlwaysSuspendSuspendsLeaver",
                                                     SB::always_suspend,
                                                     Phase::leaver,
                                                     US::activated,
                                                     false,
                                                     Action::suspend}),
                         [](const ::testing::TestParamInfo<StateCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

TEST(MakePlan, LeaverSuspensionIsMarkedAsLeaver) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a", Phase::leaver)};
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", US::activated, {{k_link, "1"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_TRUE(plan.changes[0].leaver);
  EXPECT_EQ(plan.changes[0].target_state, UserState::suspended);
}

TEST(MakePlan, LeaversAndInactiveEmployeesAreNeverCreated) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a", Phase::leaver),
              desired("2", "b@example.com", "b", Phase::inactive)};
  EXPECT_TRUE(make_plan(ds, {}, {}, no_limits()).changes.empty());
}

TEST(MakePlan, FutureStarterIsDeferredWithItsDate) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a", Phase::pending)};
  ds.users[0].start_date = std::chrono::sys_days(std::chrono::January / 4 / 2027);
  ds.users[0].provision_date = ds.users[0].start_date;
  const auto plan = make_plan(ds, {}, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, Action::defer);
  EXPECT_EQ(plan.changes[0].date, "2027-01-04");
  EXPECT_TRUE(plan.empty()) << "a deferral writes nothing";
}

TEST(MakePlan, EarlyProvisioningCreatesStagedOrSuspended) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a", Phase::staged)};
  auto options = no_limits();
  EXPECT_EQ(make_plan(ds, {}, {}, options).changes[0].target_state, UserState::staged);
  options.early_state = UserState::suspended;
  EXPECT_EQ(make_plan(ds, {}, {}, options).changes[0].target_state, UserState::suspended);
  options.status_behavior = StatusBehavior::always_suspend;
  ds.users[0].phase = Phase::active;
  EXPECT_EQ(make_plan(ds, {}, {}, options).changes[0].target_state, UserState::suspended);
}

TEST(MakePlan, EmployeeGoneFromBobIsSuspendedButOutOfScopeIsLeftAlone) {
  DesiredState ds;
  ds.out_of_scope = {"2"};
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", US::activated, {{k_link, "1"}}),
      user("u2", "b@example.com", "b", US::activated),
      user("u3", "c@example.com", "c")};
  const auto plan = make_plan(ds, observed, {{"2", "u2", false}}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, Action::suspend);
  EXPECT_EQ(plan.changes[0].user_id, "u1");
  EXPECT_TRUE(plan.changes[0].leaver);
}

TEST(MakePlan, LinkToADeletedUserIsVoid) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a")};
  const auto plan = make_plan(ds, {}, {{"1", "gone", false}}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, Action::create);
}

TEST(MakePlan, SafetyLimitsBlockWithReasons) {
  DesiredState ds;
  std::vector<DirectoryUser> observed;
  for (int i = 0; i < 20; ++i) {
    const auto id = std::to_string(i);
    ds.users.push_back(
        desired(id, id + "@example.com", "u" + id, i < 6 ? Phase::leaver : Phase::active));
    observed.push_back(
        user("u" + id, id + "@example.com", "u" + id, US::activated, {{k_link, id}}));
  }
  PlanOptions options;
  options.safety.max_suspensions = 5;
  auto plan = make_plan(ds, observed, {}, options);
  EXPECT_EQ(plan.summary.count(Action::suspend), 6);
  EXPECT_TRUE(plan.blocked);
  EXPECT_FALSE(plan.applyable());
  ASSERT_EQ(plan.block_reasons.size(), 1U);
  EXPECT_NE(plan.block_reasons[0].message.find("safety.maxSuspensions"), std::string::npos);
  EXPECT_EQ(plan.block_reasons[0].kind, BlockKind::safety_limit);
  EXPECT_TRUE(plan.overridable());

  options.safety = {};
  options.safety.max_suspensions_percent = 25.0; // 6 of 20 = 30%
  plan = make_plan(ds, observed, {}, options);
  EXPECT_TRUE(plan.blocked);
  EXPECT_NE(plan.block_reasons[0].message.find("30.0%"), std::string::npos);

  options.safety = {};
  options.safety.max_changes = 5;
  EXPECT_TRUE(make_plan(ds, observed, {}, options).blocked);

  options.safety = {};
  EXPECT_FALSE(make_plan(ds, observed, {}, options).blocked);

  ds.block_reasons = {"Bob returned no employees"};
  plan = make_plan(ds, observed, {}, options);
  EXPECT_TRUE(plan.blocked);
  EXPECT_EQ(plan.block_reasons.back().message, "Bob returned no employees");
  EXPECT_EQ(plan.block_reasons.back().kind, BlockKind::bad_read);
  EXPECT_FALSE(plan.overridable());
}

TEST(MakePlan, OnlyEmployeeRestrictsThePlan) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a"), desired("2", "b@example.com", "b")};
  auto options = no_limits();
  options.only_employees = {"2"};
  const auto plan = make_plan(ds, {}, {}, options);
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].employee_id, "2");
}

TEST(MakePlan, SameInputSamePlanWhateverTheOrder) {
  std::mt19937 rng(42);
  DesiredState ds;
  std::vector<DirectoryUser> observed;
  for (int i = 0; i < 200; ++i) {
    const auto id = std::to_string(1000 + i);
    ds.users.push_back(desired(id,
                               "p" + id + "@example.com",
                               "same.name",
                               i % 7 == 0 ? Phase::leaver : Phase::active,
                               {{"jobTitle", "T" + std::to_string(i % 5)}}));
    if (i % 2 == 0) {
      observed.push_back(user("u" + id,
                              "P" + id + "@example.com",
                              "same.name" + id,
                              US::activated,
                              {{"jobTitle", "T0"}}));
    }
  }
  const auto first = make_plan(ds, observed, {}, no_limits());
  std::shuffle(ds.users.begin(), ds.users.end(), rng);
  std::shuffle(observed.begin(), observed.end(), rng);
  EXPECT_EQ(make_plan(ds, observed, {}, no_limits()), first);
}

} // namespace
} // namespace bobsync::state

namespace bobsync::state {
namespace {

TEST(MakePlanManager, ReferencesResolveToTheManagersUser) {
  DesiredState ds;
  auto manager = desired("1", "boss@example.com", "boss");
  auto existing_report = desired("2", "a@example.com", "a");
  existing_report.fields.set("manager", {"bob:1", FieldMode::always});
  auto new_report = desired("3", "b@example.com", "b");
  new_report.fields.set("manager", {"bob:1", FieldMode::always});
  auto orphan = desired("4", "c@example.com", "c");
  orphan.fields.set("manager", {"bob:99", FieldMode::always});
  ds.users = {manager, existing_report, new_report, orphan};
  const std::vector<DirectoryUser> observed = {
      user("u1", "boss@example.com", "boss", UserState::activated, {{k_link, "1"}}),
      user("u2", "a@example.com", "a", UserState::activated, {{k_link, "2"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  ASSERT_NE(find(plan, "2"), nullptr);
  EXPECT_EQ(find(plan, "2")->field("manager")->new_value, "u1");
  EXPECT_EQ(find(plan, "3")->field("manager")->new_value, "u1");
  EXPECT_EQ(find(plan, "4")->field("manager"), nullptr) << "an unmanaged manager is left alone";
  ASSERT_EQ(plan.diagnostics.size(), 1U);
  EXPECT_NE(plan.diagnostics[0].message.find("99"), std::string::npos);
}

TEST(MakePlanManager, ManagerCreatedInTheSameRunStaysAReferenceForTheApplier) {
  DesiredState ds;
  auto manager = desired("1", "boss@example.com", "boss");
  auto report = desired("2", "a@example.com", "a");
  report.fields.set("manager", {"bob:1", FieldMode::always});
  ds.users = {manager, report};
  const auto plan = make_plan(ds, {}, {}, no_limits());
  EXPECT_EQ(find(plan, "2")->action, Action::create);
  EXPECT_EQ(find(plan, "2")->field("manager")->new_value, "bob:1");
}

} // namespace
} // namespace bobsync::state

namespace bobsync::state {
namespace {

// Safety percentages apply only from a minimum count of suspensions.
TEST(MakePlanTrust, PercentLimitAppliesOnlyFromTheMinimumCount) {
  DesiredState ds;
  std::vector<DirectoryUser> observed;
  for (int i = 0; i < 30; ++i) {
    const auto id = std::to_string(100 + i);
    ds.users.push_back(
        desired(id, id + "@example.com", "u" + id, i < 2 ? Phase::leaver : Phase::active));
    observed.push_back(
        user("u" + id, id + "@example.com", "u" + id, UserState::activated, {{k_link, id}}));
  }
  PlanOptions options;
  options.safety.max_suspensions = 10;
  options.safety.max_suspensions_percent = 5.0;
  options.safety.min_suspensions_for_percent = 5;
  auto plan = make_plan(ds, observed, {}, options);
  EXPECT_EQ(plan.summary.count(Action::suspend), 2); // 6.7% of 30: a normal day
  EXPECT_FALSE(plan.blocked);
  for (int i = 2; i < 6; ++i) {
    ds.users[static_cast<std::size_t>(i)].phase = Phase::leaver;
  }
  plan = make_plan(ds, observed, {}, options);
  EXPECT_EQ(plan.summary.count(Action::suspend), 6); // 20%, from 5 on the percentage counts
  ASSERT_TRUE(plan.blocked);
  EXPECT_NE(plan.block_reasons[0].message.find("safety.minSuspensionsForPercent"),
            std::string::npos);
}

TEST(MakePlanTrust, NullForEveryoneBlocksOnlyWhenItWouldChangeAnExistingUser) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a"), desired("2", "b@example.com", "b")};
  ds.null_fields = {{"work.title", {"jobTitle"}}};
  ds.users[0].fields.set("jobTitle", {"", FieldMode::always});
  ds.users[1].fields.set("jobTitle", {"", FieldMode::always});
  auto a = user("u1", "a@example.com", "a", UserState::activated, {{k_link, "1"}});
  a.fields.set("jobTitle", "Engineer");
  auto plan = make_plan(ds, {a}, {}, no_limits());
  ASSERT_TRUE(plan.blocked);
  EXPECT_EQ(plan.block_reasons[0].kind, BlockKind::bad_read);
  EXPECT_NE(plan.block_reasons[0].message.find("work.title"), std::string::npos);
  EXPECT_NE(plan.block_reasons[0].message.find("jobTitle"), std::string::npos);
  // Nobody has a job title in JumpCloud either (a middle name nobody has):
  // nothing changes, nothing blocks.
  a.fields.erase("jobTitle");
  plan = make_plan(ds, {a}, {}, no_limits());
  EXPECT_FALSE(plan.blocked);
}

TEST(MakePlanTrust, UnknownStatusChangesNoState) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a", Phase::inactive),
              desired("2", "b@example.com", "b", Phase::inactive)};
  ds.users[0].hold_state = true;
  ds.users[1].hold_state = true;
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", UserState::activated, {{k_link, "1"}}),
      user("u2", "b@example.com", "b", UserState::suspended, {{k_link, "2"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_TRUE(plan.changes.empty()) << to_string(plan.changes[0].action);
}

TEST(MakePlanTrust, TargetedPlanIsTheFullPlanRestricted) {
  DesiredState ds;
  // Employees 1 and 2 share an email: a targeted plan of 2 still sees it.
  ds.users = {desired("1", "same@example.com", "same"),
              desired("2", "same@example.com", "same"),
              desired("3", "c@example.com", "john"),
              desired("4", "d@example.com", "john")};
  auto options = no_limits();
  const auto full = make_plan(ds, {}, {}, options);
  for (const auto& id : {"2", "3", "4"}) {
    options.only_employees = {id};
    const auto one = make_plan(ds, {}, {}, options);
    ASSERT_EQ(one.changes.size(), 1U) << id;
    const auto it = std::find_if(full.changes.begin(), full.changes.end(), [&](const Change& c) {
      return c.employee_id == id;
    });
    ASSERT_NE(it, full.changes.end());
    EXPECT_EQ(one.changes[0], *it) << id;
  }
  options.only_employees = {"2"};
  EXPECT_EQ(make_plan(ds, {}, {}, options).changes[0].action, Action::conflict);
}

TEST(MakePlanTrust, RefusedEmployeeIsAConflictWithNoWrite) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a")};
  ds.users[0].refusal = "firstname from Bob is 10485760 bytes long";
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", UserState::suspended, {{k_link, "1"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, Action::conflict);
  EXPECT_TRUE(plan.empty());
}

TEST(MakePlanTrust, SummaryCountsEmployeesLeftAlone) {
  DesiredState ds;
  ds.users = {desired("1", "a@example.com", "a"),
              desired("2", "b@example.com", "b", Phase::leaver)};
  ds.out_of_scope = {"3", "4"};
  const std::vector<DirectoryUser> observed = {
      user("u1", "a@example.com", "a", UserState::activated, {{k_link, "1"}})};
  const auto plan = make_plan(ds, observed, {}, no_limits());
  EXPECT_EQ(plan.summary.unchanged, 1);
  EXPECT_EQ(plan.summary.not_created, 1);
  EXPECT_EQ(plan.summary.out_of_scope, 2);
}

} // namespace
} // namespace bobsync::state
