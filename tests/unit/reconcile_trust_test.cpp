// reconcile() directly, with in-memory Bob and JumpCloud stand-ins and the
// memory store: bad reads are never applied, targeted passes read and plan
// like full ones.

#include "controller/ports/clock.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "state/memory_store.hpp"
#include "state/timestamp.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

namespace bobsync::controller {
namespace {

using state::Employee;

class StubHr final : public HrSource {
public:
  ApiResult<std::vector<Employee>> list_employees(const std::vector<std::string>&) override {
    ++searches;
    return employees;
  }
  ApiResult<std::optional<Employee>> get_employee(const state::EmployeeId& id,
                                                  const std::vector<std::string>&) override {
    ++reads;
    for (const auto& e : employees) {
      if (e.id == id) {
        return std::optional<Employee>(e);
      }
    }
    return std::optional<Employee>();
  }

  std::vector<Employee> employees;
  int searches = 0;
  int reads = 0;
};

class StubDirectory final : public Directory {
public:
  ApiResult<std::vector<state::DirectoryUser>> list_users() override {
    std::lock_guard lock(m_mutex);
    std::vector<state::DirectoryUser> out;
    for (const auto& [id, u] : users) {
      out.push_back(u);
    }
    return out;
  }
  ApiResult<state::DirectoryUser> get_user(const state::UserId& id) override {
    std::lock_guard lock(m_mutex);
    if (auto it = users.find(id); it != users.end()) {
      return it->second;
    }
    return unexpected(ApiError{ErrorKind::not_found, 404, "no user " + id, std::nullopt});
  }
  ApiResult<std::vector<state::DirectoryUser>> find_users(std::string_view field,
                                                          std::string_view value) override {
    std::lock_guard lock(m_mutex);
    std::vector<state::DirectoryUser> out;
    for (const auto& [id, u] : users) {
      if (u.get(field) == value) {
        out.push_back(u);
      }
    }
    return out;
  }
  ApiResult<state::DirectoryUser> create_user(const state::FlatMap<std::string>& fields,
                                              state::UserState state) override {
    std::lock_guard lock(m_mutex);
    state::DirectoryUser u;
    u.id = "u" + std::to_string(users.size() + 100);
    u.state = state;
    u.fields = fields;
    users[u.id] = u;
    ++writes;
    return u;
  }
  ApiResult<state::DirectoryUser> update_user(const state::UserId& id,
                                              const state::FlatMap<std::string>& changes,
                                              std::optional<state::UserState> state) override {
    std::lock_guard lock(m_mutex);
    auto& u = users.at(id);
    for (const auto& [k, v] : changes) {
      u.fields.set(k, v);
    }
    if (state) {
      u.state = *state;
    }
    ++writes;
    return u;
  }

  std::map<std::string, state::DirectoryUser> users;
  int writes = 0;

private:
  std::mutex m_mutex;
};

Employee employee(const std::string& id, const std::string& email, const std::string& name) {
  Employee e;
  e.id = id;
  e.fields.set("root.email", email);
  e.fields.set("root.firstName", name);
  e.fields.set("root.surname", "Smith");
  e.fields.set("root.displayName", name + " Smith");
  e.fields.set("internal.status", "Active");
  e.fields.set("work.startDate", "2020-01-01");
  e.fields.set("internal.terminationDate", "");
  e.fields.set("employee.lastDayOfWork", "");
  return e;
}

policies::Policy policy() {
  policies::Policy p;
  auto map = [&](std::string target, std::string source, state::FieldMode mode) {
    policies::Mapping m;
    m.target = std::move(target);
    m.sources = {std::move(source)};
    m.mode = mode;
    p.mapping.push_back(m);
  };
  map("email", "root.email", state::FieldMode::always);
  map("firstname", "root.firstName", state::FieldMode::always);
  policies::Mapping username;
  username.target = "username";
  username.sources = {"root.firstName"};
  username.mode = state::FieldMode::create_only;
  username.transforms = {
      policies::Transform{policies::Transform::Kind::sanitize_username, "", "", {}, false, {}}};
  p.mapping.push_back(username);
  p.safety.max_suspensions.reset();
  p.safety.max_suspensions_percent.reset();
  return p;
}

class ReconcileTrust : public ::testing::Test {
protected:
  ReconcileRequest request(Mode mode) {
    ReconcileRequest r;
    r.pass.policy = std::make_shared<const policies::Policy>(m_policy);
    r.pass.now = state::parse_timestamp("2026-12-01T12:00:00Z").value();
    r.mode = mode;
    r.observe = Observe::fresh;
    r.apply.run_id = "run-" + std::to_string(++m_runs);
    r.apply.concurrency = 1;
    return r;
  }

  policies::Policy m_policy = policy();
  StubHr m_hr;
  StubDirectory m_jc;
  state::MemoryStore m_store;
  ManualClock m_clock;
  int m_runs = 0;
};

TEST_F(ReconcileTrust, DuplicateEmployeeIdsApplyNothingEvenWithAllowMassChanges) {
  m_hr.employees = {employee("1", "ann@example.com", "ann"),
                    employee("2", "bob@example.com", "bob"),
                    employee("1", "other@example.com", "other")};
  auto r = request(Mode::apply);
  r.allow_mass_changes = true;
  const auto outcome = reconcile(m_hr, m_jc, m_store, m_clock, r);
  EXPECT_TRUE(outcome.blocked);
  EXPECT_FALSE(outcome.ok());
  ASSERT_TRUE(outcome.pass.plan.blocked);
  EXPECT_FALSE(outcome.pass.plan.overridable());
  EXPECT_EQ(m_jc.writes, 0);
  EXPECT_TRUE(m_jc.users.empty());
}

TEST_F(ReconcileTrust, AllowMassChangesStillLiftsSafetyLimits) {
  m_hr.employees = {employee("1", "ann@example.com", "ann"),
                    employee("2", "bob@example.com", "bob")};
  m_policy.safety.max_changes = 1;
  auto r = request(Mode::apply);
  EXPECT_TRUE(reconcile(m_hr, m_jc, m_store, m_clock, r).blocked);
  r = request(Mode::apply);
  r.allow_mass_changes = true;
  const auto outcome = reconcile(m_hr, m_jc, m_store, m_clock, r);
  EXPECT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->message : "");
  EXPECT_EQ(m_jc.users.size(), 2U);
}

TEST_F(ReconcileTrust, TargetedPassSeesConflictsWithEveryone) {
  // Two employees share an email: a targeted pass of one must not create it.
  m_hr.employees = {employee("1", "same@example.com", "ann"),
                    employee("2", "same@example.com", "bob"),
                    employee("3", "carl@example.com", "carl")};
  auto r = request(Mode::apply);
  r.pass.only_employee = "2";
  const auto outcome = reconcile(m_hr, m_jc, m_store, m_clock, r);
  ASSERT_FALSE(outcome.error) << outcome.error->message;
  ASSERT_EQ(outcome.pass.plan.changes.size(), 1U);
  EXPECT_EQ(outcome.pass.plan.changes[0].action, state::Action::conflict);
  EXPECT_TRUE(m_jc.users.empty());
  EXPECT_EQ(m_hr.searches, 1);
  EXPECT_EQ(m_hr.reads, 0);
}

TEST_F(ReconcileTrust, UsernamesDoNotDependOnWhoWasSyncedFirst) {
  m_hr.employees = {employee("1", "a1@example.com", "john"),
                    employee("2", "a2@example.com", "john")};
  auto r = request(Mode::apply);
  r.pass.only_employee = "2";
  ASSERT_TRUE(reconcile(m_hr, m_jc, m_store, m_clock, r).ok());
  r = request(Mode::apply);
  r.pass.only_employee = "1";
  ASSERT_TRUE(reconcile(m_hr, m_jc, m_store, m_clock, r).ok());
  std::map<std::string, std::string> username_of;
  for (const auto& [id, u] : m_jc.users) {
    username_of[std::string(u.get("email"))] = u.get("username");
  }
  EXPECT_EQ(username_of["a1@example.com"], "john");
  EXPECT_EQ(username_of["a2@example.com"], "john2");
}

TEST_F(ReconcileTrust, UnknownTargetIsAnErrorNamingTheId) {
  m_hr.employees = {employee("1", "ann@example.com", "ann")};
  auto r = request(Mode::plan);
  r.pass.only_employee = "999";
  const auto outcome = reconcile(m_hr, m_jc, m_store, m_clock, r);
  ASSERT_TRUE(outcome.error);
  EXPECT_NE(outcome.error->message.find("999"), std::string::npos) << outcome.error->message;
  EXPECT_EQ(outcome.error->message.find("no employees"), std::string::npos);
}

TEST_F(ReconcileTrust, BaselineReadsOnlyTheTargetsAndReturnsTheListUsed) {
  m_hr.employees = {employee("1", "ann@example.com", "ann"),
                    employee("2", "bob@example.com", "bob"),
                    employee("3", "carl@example.com", "carl")};
  auto r = request(Mode::apply);
  r.keep_employees = true;
  auto first = reconcile(m_hr, m_jc, m_store, m_clock, r);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first.pass.employees);
  EXPECT_EQ(first.pass.employees->size(), 3U);
  EXPECT_EQ(m_hr.searches, 1);

  // Bob changes employee 2's first name and removes employee 3.
  m_hr.employees[1].fields.set("root.firstName", "robert");
  m_hr.employees.pop_back();
  r = request(Mode::apply);
  r.baseline = first.pass.employees;
  r.pass.targets = {"2", "3"};
  r.keep_employees = true;
  const auto second = reconcile(m_hr, m_jc, m_store, m_clock, r);
  ASSERT_TRUE(second.ok()) << (second.error ? second.error->message : "");
  EXPECT_EQ(m_hr.searches, 1) << "no second search";
  EXPECT_EQ(m_hr.reads, 2);
  ASSERT_TRUE(second.pass.employees);
  EXPECT_EQ(second.pass.employees->size(), 2U) << "3 is gone from Bob";
  int suspended = 0;
  for (const auto& [id, u] : m_jc.users) {
    if (u.get("email") == "bob@example.com") {
      EXPECT_EQ(u.get("firstname"), "robert");
    }
    suspended += u.state == state::UserState::suspended ? 1 : 0;
  }
  EXPECT_EQ(suspended, 1) << "the employee gone from Bob is suspended";
}

} // namespace
} // namespace bobsync::controller
