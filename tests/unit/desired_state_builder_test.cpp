#include "policies/desired_state_builder.hpp"
#include "state/timestamp.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace bobsync::policies {
namespace {

using state::Employee;
using state::Phase;

std::chrono::system_clock::time_point at(const std::string& iso) {
  const auto tp = state::parse_timestamp(iso);
  EXPECT_TRUE(tp) << iso;
  return tp.value_or(std::chrono::system_clock::time_point{});
}

Employee employee(const std::string& id,
                  std::initializer_list<std::pair<std::string, std::string>> fields) {
  Employee e;
  e.id = id;
  e.fields.set("root.email", id + "@example.com");
  e.fields.set("root.displayName", "Person " + id);
  e.fields.set("internal.status", "Active");
  // Lifecycle dates visible to the service user, null unless given.
  e.fields.set("work.startDate", "");
  e.fields.set("internal.terminationDate", "");
  e.fields.set("employee.lastDayOfWork", "");
  for (const auto& [k, v] : fields) {
    e.fields.set(k, v);
  }
  return e;
}

std::chrono::sys_days day(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days(std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d});
}

Policy base_policy() {
  Policy p;
  p.lifecycle.time_zone = "Europe/London";
  Mapping email;
  email.target = "email";
  email.sources = {"root.email"};
  Mapping title;
  title.target = "jobTitle";
  title.sources = {"work.title"};
  title.transforms = {Transform{Transform::Kind::trim, "", "", {}, false, {}}};
  p.mapping = {email, title};
  return p;
}

Phase phase_of(const Employee& e, const Policy& p, const std::string& now) {
  const auto desired = build_desired_state({e}, p, at(now));
  EXPECT_EQ(desired.users.size(), 1U);
  return desired.users.empty() ? Phase::active : desired.users[0].phase;
}

struct DateCase {
  const char* name;
  const char* time_zone;
  const char* start;
  const char* now;
  Phase expected;
};

class StartDateGating : public ::testing::TestWithParam<DateCase> {};

TEST_P(StartDateGating, Table) {
  const auto& c = GetParam();
  auto p = base_policy();
  p.lifecycle.time_zone = c.time_zone;
  EXPECT_EQ(phase_of(employee("1", {{"work.startDate", c.start}}), p, c.now), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Builder,
    StartDateGating,
    ::testing::Values(
        DateCase{"DayBeforeInLondon",
                 "Europe/London",
                 "2026-12-01",
                 "2026-11-30T23:59:59Z",
                 Phase::pending},
        DateCase{"StartDayInLondon",
                 "Europe/London",
                 "2026-12-01",
                 "2026-12-01T00:00:00Z",
                 Phase::active},
        DateCase{"SydneyIsAheadOfUtc",
                 "Australia/Sydney",
                 "2026-12-01",
                 "2026-11-30T13:30:00Z",
                 Phase::active},
        DateCase{"SydneyNotYet",
                 "Australia/Sydney",
                 "2026-12-01",
                 "2026-11-30T12:30:00Z",
                 Phase::pending},
        DateCase{"KiritimatiUtcPlus14",
                 "Pacific/Kiritimati",
                 "2026-12-01",
                 "2026-11-30T10:00:00Z",
                 Phase::active},
        DateCase{"PagoPagoUtcMinus11",
                 "Pacific/Pago_Pago",
                 "2026-12-01",
                 "2026-12-01T10:59:00Z",
                 Phase::pending},
        DateCase{"PagoPagoStartDay",
                 "Pacific/Pago_Pago",
                 "2026-12-01",
                 "2026-12-01T11:00:00Z",
                 Phase::active},
        // Europe/London springs forward at 01:00 UTC on 2026-03-29.
        DateCase{"DstChangeDayBeforeShift",
                 "Europe/London",
                 "2026-03-29",
                 "2026-03-29T00:30:00Z",
                 Phase::active},
        DateCase{"DstChangeEveBeforeMidnight",
                 "Europe/London",
                 "2026-03-29",
                 "2026-03-28T23:59:00Z",
                 Phase::pending},
        // New York falls back on 2026-11-01 at 06:00 UTC; midnight local is 04:00 UTC (EDT).
        DateCase{"DstFallBackNewYork",
                 "America/New_York",
                 "2026-11-01",
                 "2026-11-01T04:00:00Z",
                 Phase::active},
        DateCase{"DstFallBackNewYorkEve",
                 "America/New_York",
                 "2026-11-01",
                 "2026-11-01T03:59:00Z",
                 Phase::pending},
        DateCase{"NoStartDateIsActive", "UTC", "", "2026-11-27T12:00:00Z", Phase::active}),
    [](const ::testing::TestParamInfo<DateCase>& info_) { return std::string(info_.param.name); });

TEST(Builder, SiteTimeZoneOverridesTheDefault) {
  auto p = base_policy();
  p.lifecycle.site_time_zones = {{"Sydney", "Australia/Sydney"}};
  const auto e = employee("1", {{"work.startDate", "2026-12-01"}, {"work.site", "Sydney"}});
  EXPECT_EQ(phase_of(e, p, "2026-11-30T14:00:00Z"), Phase::active);
  const auto london = employee("2", {{"work.startDate", "2026-12-01"}, {"work.site", "London"}});
  EXPECT_EQ(phase_of(london, p, "2026-11-30T14:00:00Z"), Phase::pending);
}

TEST(Builder, ProvisionDaysBeforeStagesEarly) {
  auto p = base_policy();
  p.lifecycle.provision_days_before = 3;
  const auto e = employee("1", {{"work.startDate", "2026-12-10"}});
  auto desired = build_desired_state({e}, p, at("2026-12-06T12:00:00Z"));
  EXPECT_EQ(desired.users[0].phase, Phase::pending);
  EXPECT_EQ(desired.users[0].provision_date, day(2026, 12, 7));
  desired = build_desired_state({e}, p, at("2026-12-07T12:00:00Z"));
  EXPECT_EQ(desired.users[0].phase, Phase::staged);
  EXPECT_EQ(desired.users[0].start_date, day(2026, 12, 10));
  EXPECT_EQ(phase_of(e, p, "2026-12-10T12:00:00Z"), Phase::active);
}

struct LeaveCase {
  const char* name;
  const char* termination;
  const char* last_day;
  LeaverDate rule;
  Phase expected;
};

class Terminations : public ::testing::TestWithParam<LeaveCase> {};

TEST_P(Terminations, Table) {
  const auto& c = GetParam();
  auto p = base_policy();
  p.lifecycle.leaver_date = c.rule;
  const auto e = employee("1",
                          {{"work.startDate", "2020-01-06"},
                           {"internal.terminationDate", c.termination},
                           {"employee.lastDayOfWork", c.last_day}});
  // 2026-11-27 in London.
  EXPECT_EQ(phase_of(e, p, "2026-11-27T10:00:00Z"), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Builder,
    Terminations,
    ::testing::Values(
        LeaveCase{"Yesterday", "2026-11-26", "", LeaverDate::earliest, Phase::leaver},
        LeaveCase{"Today", "2026-11-27", "", LeaverDate::earliest, Phase::leaver},
        LeaveCase{"Tomorrow", "2026-11-28", "", LeaverDate::earliest, Phase::active},
        LeaveCase{
            "LastDayEarlierWins", "2026-12-31", "2026-11-27", LeaverDate::earliest, Phase::leaver},
        LeaveCase{"TerminationDateOnlyIgnoresLastDay",
                  "2026-12-31",
                  "2026-11-27",
                  LeaverDate::termination_date,
                  Phase::active},
        LeaveCase{
            "LastDayOnly", "2026-11-01", "2026-12-31", LeaverDate::last_day_of_work, Phase::active},
        LeaveCase{"NoDates", "", "", LeaverDate::earliest, Phase::active}),
    [](const ::testing::TestParamInfo<LeaveCase>& info_) { return std::string(info_.param.name); });

TEST(Builder, FutureTerminationSaysWhen) {
  const auto e = employee("1", {{"internal.terminationDate", "2026-12-15"}});
  const auto desired = build_desired_state({e}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_EQ(desired.users[0].phase, Phase::active);
  EXPECT_NE(desired.users[0].phase_reason.find("leaves on 2026-12-15"), std::string::npos);
}

TEST(Builder, RehireAfterTerminationIsActive) {
  const auto e = employee("1",
                          {{"internal.terminationDate", "2025-06-30"},
                           {"work.startDate", "2026-11-02"},
                           {"internal.status", "Active"}});
  EXPECT_EQ(phase_of(e, base_policy(), "2026-11-27T10:00:00Z"), Phase::active);
  const auto before = employee("1",
                               {{"internal.terminationDate", "2025-06-30"},
                                {"work.startDate", "2026-12-07"},
                                {"internal.status", "Inactive"}});
  EXPECT_EQ(phase_of(before, base_policy(), "2026-11-27T10:00:00Z"), Phase::pending);
}

TEST(Builder, BobStatusDrivesUseBobStatusOnly) {
  auto p = base_policy();
  const auto e = employee("1", {{"internal.status", "Inactive"}});
  EXPECT_EQ(phase_of(e, p, "2026-11-27T10:00:00Z"), Phase::inactive);
  p.lifecycle.status_behavior = state::StatusBehavior::always_activate;
  EXPECT_EQ(phase_of(e, p, "2026-11-27T10:00:00Z"), Phase::active);
}

TEST(Builder, MachineDatesArePreferredOverDisplayDates) {
  auto e =
      employee("1", {{"work.startDate", "01/12/2026"}, {"work.startDate@machine", "2026-12-01"}});
  EXPECT_EQ(phase_of(e, base_policy(), "2026-11-30T12:00:00Z"), Phase::pending);
  e = employee("1", {{"work.startDate", "01/12/2026"}});
  EXPECT_EQ(phase_of(e, base_policy(), "2026-11-30T12:00:00Z"), Phase::pending)
      << "DD/MM/YYYY display dates are understood too";
}

TEST(Builder, UnparseableDateIsAWarningNotAFailure) {
  const auto e = employee("1", {{"work.startDate", "next tuesday"}});
  const auto desired = build_desired_state({e}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.users.size(), 1U);
  ASSERT_EQ(desired.diagnostics.size(), 1U);
  EXPECT_NE(desired.diagnostics[0].message.find("next tuesday"), std::string::npos);
}

TEST(Builder, ScopeIncludeAndExclude) {
  auto p = base_policy();
  p.scope.include.email_domains = {"Example.com"};
  ScopeFilter contractors;
  contractors.employment_types = {"Contractor"};
  p.scope.exclude = {contractors};
  auto in = employee("1", {{"payroll.employment.type", "Full-time"}});
  auto contractor = employee("2", {{"payroll.employment.type", "Contractor"}});
  auto other = employee("3", {});
  other.fields.set("root.email", "x@other.org");
  const auto desired = build_desired_state({in, contractor, other}, p, at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.users.size(), 1U);
  EXPECT_EQ(desired.users[0].employee_id, "1");
  EXPECT_EQ(desired.out_of_scope, (std::vector<std::string>{"2", "3"}));

  p.scope.out_of_scope = OutOfScopeAction::suspend;
  const auto suspend = build_desired_state({in, contractor}, p, at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(suspend.users.size(), 2U);
  EXPECT_EQ(suspend.users[1].phase, Phase::leaver);
}

TEST(Builder, MappingAppliesTransforms) {
  const auto e = employee("1", {{"work.title", "  Engineer "}});
  const auto desired = build_desired_state({e}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_EQ(desired.users[0].value("jobTitle"), "Engineer");
  EXPECT_EQ(desired.users[0].value("email"), "1@example.com");
}

TEST(Builder, EmptyBobBlocks) {
  const auto desired = build_desired_state({}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.block_reasons.size(), 1U);
  EXPECT_NE(desired.block_reasons[0].find("no employees"), std::string::npos);
  auto p = base_policy();
  p.safety.block_on_empty_source = false;
  EXPECT_TRUE(build_desired_state({}, p, at("2026-11-27T10:00:00Z")).block_reasons.empty());
}

TEST(Builder, FieldAbsentForEveryEmployeeBlocksButNullDoesNot) {
  const auto a = employee("1", {});
  const auto b = employee("2", {});
  auto desired = build_desired_state({a, b}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.block_reasons.size(), 1U);
  EXPECT_NE(desired.block_reasons[0].find("work.title"), std::string::npos);
  const auto c = employee("3", {{"work.title", ""}}); // null for this one: visible, just empty
  desired = build_desired_state({a, b, c}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_TRUE(desired.block_reasons.empty());
  // Null for everyone who has it: the planner decides (it blocks if the plan
  // would change jobTitle on an existing user).
  ASSERT_EQ(desired.null_fields.size(), 1U);
  EXPECT_EQ(desired.null_fields[0].bob_field, "work.title");
  EXPECT_EQ(desired.null_fields[0].targets, std::vector<std::string>{"jobTitle"});
  const auto d = employee("4", {{"work.title", "CTO"}});
  desired = build_desired_state({c, d}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_TRUE(desired.null_fields.empty());
}

TEST(Builder, ExplainShowsSourcesTransformsAndPhase) {
  const auto e = employee("1", {{"work.title", " CTO "}, {"work.startDate", "2027-01-04"}});
  const auto x = explain_employee(e, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_TRUE(x.in_scope);
  EXPECT_EQ(x.phase, Phase::pending);
  EXPECT_EQ(x.time_zone, "Europe/London");
  EXPECT_EQ(x.local_date, "2026-11-27");
  ASSERT_EQ(x.fields.size(), 2U);
  EXPECT_EQ(x.fields[1].target, "jobTitle");
  EXPECT_EQ(x.fields[1].raw, "\" CTO \"");
  EXPECT_EQ(x.fields[1].transforms, "trim");
  EXPECT_EQ(x.fields[1].result, "CTO");
}

} // namespace
} // namespace bobsync::policies

namespace bobsync::policies {
namespace {

TEST(Builder, HiredStatusIsNoLeaveSignalOnTheStartDate) {
  auto e = employee("1",
                    {{"work.startDate", "2026-12-01"},
                     {"internal.status", "Inactive"},
                     {"internal.lifecycleStatus", "hired"}});
  EXPECT_EQ(phase_of(e, base_policy(), "2026-12-01T09:00:00Z"), Phase::active);
  e.fields.set("internal.lifecycleStatus", "terminated");
  EXPECT_EQ(phase_of(e, base_policy(), "2026-12-01T09:00:00Z"), Phase::inactive);
}

// Large populations are built in slices at once: the result must be the one
// a single pass gives (same users in the same order, same out-of-scope list,
// diagnostics in employee order).
TEST(DesiredStateBuilder, ASlicedBuildEqualsOnePass) {
  auto p = base_policy();
  p.lifecycle.site_time_zones = {{"Nowhere", "Mars/Olympus_Mons"}}; // unknown: a warning each
  ScopeFilter contractors;
  contractors.employment_types = {"Contractor"};
  p.scope.exclude = {contractors};
  std::vector<Employee> all;
  for (int i = 0; i < 12000; ++i) {
    const auto id = std::to_string(100000 + i);
    all.push_back(employee(id,
                           {{"work.title", " Engineer " + std::to_string(i % 7)},
                            {"work.site", i % 1000 == 0 ? "Nowhere" : "London"},
                            {"payroll.employment.type", i % 11 == 0 ? "Contractor" : "Permanent"},
                            {"work.startDate", i % 3 == 0 ? "2027-01-04" : "2020-01-06"}}));
  }
  const auto now = at("2026-11-27T09:00:00Z");
  const auto whole = build_desired_state(all, p, now);

  // The same employees in pieces small enough to be built in one pass each.
  state::DesiredState pieces;
  for (std::size_t first = 0; first < all.size(); first += 3000) {
    const std::vector<Employee> piece(all.begin() + static_cast<std::ptrdiff_t>(first),
                                      all.begin() + static_cast<std::ptrdiff_t>(first + 3000));
    auto part = build_desired_state(piece, p, now);
    pieces.users.insert(pieces.users.end(), part.users.begin(), part.users.end());
    pieces.out_of_scope.insert(
        pieces.out_of_scope.end(), part.out_of_scope.begin(), part.out_of_scope.end());
    pieces.diagnostics.insert(
        pieces.diagnostics.end(), part.diagnostics.begin(), part.diagnostics.end());
  }
  ASSERT_EQ(whole.users.size(), pieces.users.size());
  EXPECT_TRUE(whole.users == pieces.users);
  EXPECT_EQ(whole.out_of_scope, pieces.out_of_scope);
  EXPECT_EQ(whole.out_of_scope.size(), 1091U);
  ASSERT_EQ(whole.diagnostics.size(), pieces.diagnostics.size());
  EXPECT_EQ(whole.diagnostics.size(), 10U); // i % 1000 == 0 and not a contractor (0, 11000)
  for (std::size_t i = 0; i < whole.diagnostics.size(); ++i) {
    EXPECT_EQ(whole.diagnostics[i].message, pieces.diagnostics[i].message);
  }
  EXPECT_EQ(whole.users.front().employee_id, "100001");
  EXPECT_EQ(whole.users.back().employee_id, "111999");
}

} // namespace
} // namespace bobsync::policies

namespace bobsync::policies {
namespace {

TEST(BuilderDates, DatesAreCarriedAsData) {
  auto p = base_policy();
  p.lifecycle.provision_days_before = 3;
  p.lifecycle.site_time_zones = {{"Sydney", "Australia/Sydney"}};
  const auto e = employee("1",
                          {{"work.startDate", "2026-12-10"},
                           {"internal.terminationDate", "2027-03-31"},
                           {"work.site", "Sydney"}});
  const auto desired = build_desired_state({e}, p, at("2026-12-01T12:00:00Z"));
  ASSERT_EQ(desired.users.size(), 1U);
  const auto& u = desired.users[0];
  EXPECT_EQ(u.start_date, day(2026, 12, 10));
  EXPECT_EQ(u.provision_date, day(2026, 12, 7));
  EXPECT_EQ(u.leave_date, day(2027, 3, 31));
  EXPECT_EQ(u.time_zone, "Australia/Sydney");
}

TEST(BuilderDates, NextTransitionIsTheNextLocalMidnightThatChangesThePhase) {
  auto p = base_policy(); // Europe/London: UTC+0 in winter
  p.lifecycle.provision_days_before = 3;
  const auto e = employee("1", {{"work.startDate", "2026-12-10"}});
  auto desired = build_desired_state({e}, p, at("2026-12-01T12:00:00Z"));
  EXPECT_EQ(desired.users[0].next_transition, at("2026-12-07T00:00:00Z")); // provisioned early
  desired = build_desired_state({e}, p, at("2026-12-07T00:00:00Z"));
  EXPECT_EQ(desired.users[0].phase, Phase::staged);
  EXPECT_EQ(desired.users[0].next_transition, at("2026-12-10T00:00:00Z")); // strictly after now
  desired = build_desired_state({e}, p, at("2026-12-10T00:00:00Z"));
  EXPECT_EQ(desired.users[0].phase, Phase::active);
  EXPECT_FALSE(desired.users[0].next_transition);
}

TEST(BuilderDates, NextTransitionUsesTheEmployeesZoneAndTheLeaverRule) {
  auto p = base_policy();
  p.lifecycle.site_time_zones = {{"Sydney", "Australia/Sydney"}}; // UTC+11 in December
  p.lifecycle.leaver_date = LeaverDate::last_day_of_work;
  const auto sydney = employee("1",
                               {{"work.startDate", "2020-01-01"},
                                {"internal.terminationDate", "2026-12-05"},
                                {"employee.lastDayOfWork", "2026-12-20"},
                                {"work.site", "Sydney"}});
  const auto none = employee("2", {{"work.startDate", "2020-01-01"}});
  const auto desired = build_desired_state({sydney, none}, p, at("2026-12-01T12:00:00Z"));
  ASSERT_EQ(desired.users.size(), 2U);
  EXPECT_EQ(desired.users[0].next_transition, at("2026-12-19T13:00:00Z"));
  EXPECT_FALSE(desired.users[1].next_transition);
  EXPECT_EQ(next_transition(desired), at("2026-12-19T13:00:00Z"));
}

TEST(BuilderDates, PhaseReasonTextDecidesNothing) {
  // The planner defers activation to the start date carried as data.
  auto p = base_policy();
  p.lifecycle.provision_days_before = 3;
  const auto e = employee("1", {{"work.startDate", "2026-12-10"}});
  auto desired = build_desired_state({e}, p, at("2026-12-01T12:00:00Z"));
  desired.users[0].phase_reason = "something else entirely";
  state::DirectoryUser u;
  u.id = "u1";
  u.state = state::UserState::staged;
  u.fields.set("email", "1@example.com");
  u.fields.set("attributes[name=bobEmployeeId]", "1");
  const auto plan = state::make_plan(desired, {u}, {{"1", "u1", false}}, p.plan_options());
  ASSERT_EQ(plan.changes.size(), 1U);
  EXPECT_EQ(plan.changes[0].action, state::Action::defer);
  EXPECT_EQ(plan.changes[0].date, "2026-12-10");
}

} // namespace
} // namespace bobsync::policies

namespace bobsync::policies {
namespace {

TEST(BuilderTrust, DuplicateEmployeeIdsBlockNamingThem) {
  const auto a = employee("1", {{"work.title", "A"}});
  const auto b = employee("2", {{"work.title", "B"}});
  const auto a2 = employee("1", {{"work.title", "C"}});
  const auto desired = build_desired_state({a, b, a2}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.block_reasons.size(), 1U);
  EXPECT_NE(desired.block_reasons[0].find("same employee id more than once (1)"), std::string::npos)
      << desired.block_reasons[0];
  auto p = base_policy();
  p.safety.block_on_missing_field = false;
  p.safety.block_on_empty_source = false;
  EXPECT_EQ(build_desired_state({a, b, a2}, p, at("2026-11-27T10:00:00Z")).block_reasons.size(), 1U)
      << "no policy switch turns duplicate ids into a warning";
}

TEST(BuilderTrust, LifecycleFieldAbsentForEveryoneBlocksNullDoesNot) {
  auto a = employee("1", {{"work.title", "A"}});
  auto b = employee("2", {{"work.title", "B"}});
  auto desired = build_desired_state({a, b}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_TRUE(desired.block_reasons.empty()) << "null termination dates: nobody left";
  a.fields.erase("internal.terminationDate");
  b.fields.erase("internal.terminationDate");
  desired = build_desired_state({a, b}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.block_reasons.size(), 1U);
  EXPECT_NE(desired.block_reasons[0].find("internal.terminationDate"), std::string::npos);
  // The machine form alone counts as sent.
  a.fields.set("internal.terminationDate@machine", "");
  desired = build_desired_state({a, b}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_TRUE(desired.block_reasons.empty());
  // A field the policy does not read for the lifecycle is not checked.
  auto p = base_policy();
  p.lifecycle.leaver_date = LeaverDate::last_day_of_work;
  a.fields.erase("internal.terminationDate@machine");
  desired = build_desired_state({a, b}, p, at("2026-11-27T10:00:00Z"));
  EXPECT_TRUE(desired.block_reasons.empty());
  a.fields.erase("internal.status");
  b.fields.erase("internal.status");
  desired = build_desired_state({a, b}, p, at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.block_reasons.size(), 1U);
  EXPECT_NE(desired.block_reasons[0].find("internal.status"), std::string::npos);
}

TEST(BuilderTrust, UnknownStatusIsAWarningAndHoldsTheState) {
  const auto e = employee("1", {{"internal.status", "Garden"}});
  const auto desired = build_desired_state({e}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.users.size(), 1U);
  EXPECT_TRUE(desired.users[0].hold_state);
  ASSERT_EQ(desired.diagnostics.size(), 1U);
  EXPECT_NE(desired.diagnostics[0].message.find("'Garden' is unknown"), std::string::npos);
  const auto inactive = employee("2", {{"internal.status", "Inactive"}});
  const auto d2 = build_desired_state({inactive}, base_policy(), at("2026-11-27T10:00:00Z"));
  EXPECT_EQ(d2.users[0].phase, Phase::inactive);
  EXPECT_FALSE(d2.users[0].hold_state);
}

TEST(BuilderTrust, OverlongValueIsRefusedAndNotKept) {
  const auto e = employee("1", {{"work.title", std::string(10 * 1024 * 1024, 'x')}});
  const auto ok = employee("2", {{"work.title", std::string(1024, 'y')}});
  const auto desired = build_desired_state({e, ok}, base_policy(), at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.users.size(), 2U);
  EXPECT_NE(desired.users[0].refusal.find("jobTitle"), std::string::npos);
  EXPECT_NE(desired.users[0].refusal.find("10485760 bytes"), std::string::npos);
  EXPECT_TRUE(desired.users[0].value("jobTitle").empty()) << "the value is not kept";
  EXPECT_TRUE(desired.users[1].refusal.empty());
  ASSERT_EQ(desired.diagnostics.size(), 1U);
  EXPECT_LT(desired.diagnostics[0].message.size(), 400U);
}

TEST(BuilderTrust, NullEmailUnderAnEmailDomainScopeIsReportedNotDropped) {
  auto p = base_policy();
  p.scope.include.email_domains = {"example.com"};
  auto e = employee("1", {});
  e.fields.set("root.email", "");
  auto other = employee("2", {});
  other.fields.set("root.email", "x@elsewhere.org");
  const auto desired = build_desired_state({e, other}, p, at("2026-11-27T10:00:00Z"));
  ASSERT_EQ(desired.users.size(), 1U);
  EXPECT_EQ(desired.users[0].employee_id, "1");
  EXPECT_NE(desired.users[0].refusal.find("no email"), std::string::npos);
  EXPECT_EQ(desired.out_of_scope, std::vector<std::string>{"2"});
}

} // namespace
} // namespace bobsync::policies
