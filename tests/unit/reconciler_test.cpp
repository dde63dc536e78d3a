// reconcile() with the in-memory HrSource, Directory and store: what JumpCloud
// and the store hold after a pass, and what the pass reports.

#include "controller/ports/clock.hpp"
#include "controller/ports/memory_directory.hpp"
#include "controller/ports/memory_hr_source.hpp"
#include "controller/reconcile/applier.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "policies/policy_parser.hpp"
#include "state/memory_store.hpp"
#include "tests/support/failing_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace bobsync::controller {
namespace {

using namespace std::chrono_literals;
using state::UserState;

constexpr const char* k_policy = R"(version: 1
mapping:
  - target: email
    source: root.email
  - target: username
    source: root.displayName
    transforms: [sanitizeUsername]
    mode: createOnly
  - target: jobTitle
    source: work.title
  - target: employeeIdentifier
    source: work.employeeIdInCompany
lifecycle:
  timeZone: UTC
safety:
  maxSuspensions: null
  maxSuspensionsPercent: null
)";

std::shared_ptr<const policies::Policy> test_policy() {
  auto parsed = policies::parse_policy(k_policy, "test.yaml");
  EXPECT_TRUE(parsed.policy) << (parsed.diagnostics.empty() ? "" : parsed.diagnostics[0].message);
  return std::make_shared<const policies::Policy>(std::move(*parsed.policy));
}

state::Employee ada() {
  state::Employee e;
  e.id = "3000000000000000001";
  e.fields.set("root.email", "ada@example.com");
  e.fields.set("root.displayName", "Ada Lovelace");
  e.fields.set("work.title", "Engineer");
  e.fields.set("work.employeeIdInCompany", "1001");
  e.fields.set("work.startDate", "2026-01-05");
  e.fields.set("internal.status", "Active");
  // Visible to the service user but empty, as Bob sends them (null): a
  // lifecycle field absent for everyone blocks the plan (issue 9 §1).
  e.fields.set("internal.terminationDate", "");
  e.fields.set("employee.lastDayOfWork", "");
  return e;
}

class ReconcilerTest : public ::testing::Test {
protected:
  ReconcileOutcome pass(state::StateStore& store, Mode mode = Mode::apply) {
    ReconcileRequest request;
    request.pass.policy = m_policy;
    request.pass.now = m_now;
    request.pass.policy_hash = "hash";
    request.mode = mode;
    request.apply.concurrency = 2;
    request.apply.run_id = "r" + std::to_string(++m_runs);
    return reconcile(m_hr, m_directory, store, m_clock, request);
  }
  ReconcileOutcome pass() { return pass(m_store); }

  state::DirectoryUser only_user() const {
    const auto users = m_directory.users();
    EXPECT_EQ(users.size(), 1U);
    return users.empty() ? state::DirectoryUser{} : users.front();
  }

  std::shared_ptr<const policies::Policy> m_policy = test_policy();
  std::chrono::system_clock::time_point m_now = std::chrono::sys_days{2026y / 11 / 27};
  MemoryHrSource m_hr;
  MemoryDirectory m_directory;
  state::MemoryStore m_store;
  ManualClock m_clock;
  int m_runs = 0;
};

TEST_F(ReconcilerTest, CreatesAStarterLinksItAndRecordsTheRunOnTheInjectedClock) {
  m_hr.put(ada());

  const auto outcome = pass();

  ASSERT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->message : "");
  const auto user = only_user();
  EXPECT_EQ(user.state, UserState::activated);
  EXPECT_EQ(user.get("email"), "ada@example.com");
  EXPECT_EQ(user.get("username"), "ada.lovelace");
  EXPECT_EQ(user.get("jobTitle"), "Engineer");
  EXPECT_EQ(user.get("employeeIdentifier"), "1001");
  EXPECT_EQ(user.get(state::attribute_field("bobEmployeeId")), "3000000000000000001");
  const auto links = m_store.load_links();
  ASSERT_EQ(links.size(), 1U);
  EXPECT_EQ(links[0].user_id, user.id);
  const auto runs = m_store.recent_runs(1);
  ASSERT_EQ(runs.size(), 1U);
  EXPECT_EQ(runs[0].outcome, "converged");
  EXPECT_EQ(runs[0].started_at, iso_utc(m_clock.wall_now()));
  EXPECT_EQ(m_store.last_full_refresh(), iso_utc(m_clock.wall_now()));

  // Converged: the next pass has nothing to do and reads JumpCloud from the cache.
  const int lists = m_directory.calls(MemoryDirectory::Operation::list);
  const auto again = pass();
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.pass.plan.empty());
  EXPECT_EQ(m_directory.calls(MemoryDirectory::Operation::list), lists);
}

TEST_F(ReconcilerTest, RepairsDriftFoundWhenTheClockPassesTheFullRefreshInterval) {
  m_hr.put(ada());
  ASSERT_TRUE(pass().ok());
  const auto id = only_user().id;
  ASSERT_TRUE(m_directory.update_user(id, {{"jobTitle", "Hacker"}}, std::nullopt));

  // Within the interval the cache is trusted: the drift is not seen.
  m_clock.advance(30min);
  EXPECT_TRUE(pass().pass.plan.empty());
  EXPECT_EQ(only_user().get("jobTitle"), "Hacker");

  m_clock.advance(31min); // past schedule.fullRefreshInterval (1h)
  const auto outcome = pass();
  EXPECT_TRUE(outcome.refreshed);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.pass.plan.summary.count(state::Action::update), 1);
  EXPECT_EQ(only_user().get("jobTitle"), "Engineer");
}

TEST_F(ReconcilerTest, SuspendsALeaverAndReactivatesTheRehire) {
  m_hr.put(ada());
  ASSERT_TRUE(pass().ok());

  auto leaver = ada();
  leaver.fields.set("internal.status", "Inactive");
  leaver.fields.set("internal.terminationDate", "2026-11-20");
  m_hr.put(leaver);
  auto outcome = pass();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.pass.plan.summary.count(state::Action::suspend), 1);
  EXPECT_EQ(only_user().state, UserState::suspended);
  ASSERT_EQ(m_store.load_links().size(), 1U);
  EXPECT_TRUE(m_store.load_links()[0].suspended_as_leaver);

  auto rehire = ada();
  rehire.fields.set("work.startDate", "2026-11-25");
  m_hr.put(rehire);
  outcome = pass();
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.pass.plan.summary.count(state::Action::activate), 1);
  EXPECT_EQ(only_user().state, UserState::activated);
  EXPECT_EQ(m_directory.users().size(), 1U); // the same user, not a second one
}

TEST_F(ReconcilerTest, AFailingWriteIsReportedAndTheNextPassFinishesIt) {
  m_hr.put(ada());
  ApiError rejected;
  rejected.kind = ErrorKind::rejected;
  rejected.http_status = 400;
  rejected.message = "JumpCloud create user: 400 invalid jobTitle";
  m_directory.fail_next(MemoryDirectory::Operation::create, rejected);

  auto outcome = pass();
  EXPECT_FALSE(outcome.ok());
  ASSERT_TRUE(outcome.applied);
  EXPECT_EQ(outcome.applied->failed, 1);
  EXPECT_TRUE(m_directory.users().empty());
  EXPECT_EQ(m_store.recent_runs(1)[0].outcome, "partial");

  outcome = pass();
  EXPECT_TRUE(outcome.ok());
  EXPECT_EQ(m_directory.users().size(), 1U);
}

// A run killed while JumpCloud was handling its POST: recovery looked before
// the request committed and settled the create as interrupted; the user
// turns up afterwards, owned by the employee through its link attribute.
void interrupted_create(state::StateStore& store, const std::string& employee_id) {
  state::AuditRecord settled;
  settled.time = "2026-11-27T00:00:00Z";
  settled.run_id = "killed-run";
  settled.action = state::Action::create;
  settled.employee_id = employee_id;
  settled.outcome = "failed";
  settled.message = std::string(k_interrupted_create_message);
  store.append_audit(settled);
}

state::FlatMap<std::string> created_fields(const state::Employee& e) {
  state::FlatMap<std::string> fields;
  fields.set("email", "ada@example.com");
  fields.set("username", "ada.lovelace");
  fields.set(state::attribute_field("bobEmployeeId"), e.id);
  return fields;
}

TEST_F(ReconcilerTest, ACreateThatLandedAfterItsRecoveryIsAuditedWhenItsUserTurnsUp) {
  m_hr.put(ada());
  interrupted_create(m_store, ada().id);
  const auto late = m_directory.create_user(created_fields(ada()), UserState::activated);
  ASSERT_TRUE(late);

  ASSERT_TRUE(pass().ok());

  EXPECT_EQ(m_directory.users().size(), 1U); // adopted, not created again
  const auto rows = m_store.audit(ada().id, 0);
  ASSERT_FALSE(rows.empty());
  const auto& row = rows.back().outcome == "recovered" ? rows.back() : rows[rows.size() - 2];
  EXPECT_EQ(row.outcome, "recovered");
  EXPECT_EQ(row.action, state::Action::create);
  EXPECT_EQ(row.user_id, late->id);
  EXPECT_EQ(row.policy_hash, "hash");
  EXPECT_NE(row.message.find("the create of run killed-run reached JumpCloud after"),
            std::string::npos)
      << row.message;
  // Recorded once: the next pass finds the link and adds nothing.
  const auto count = m_store.audit(ada().id, 0).size();
  ASSERT_TRUE(pass().ok());
  EXPECT_EQ(m_store.audit(ada().id, 0).size(), count);
}

TEST_F(ReconcilerTest, AUserAdoptedByItsAttributeWithoutAnInterruptedCreateIsNotAuditedAsOne) {
  m_hr.put(ada());
  ASSERT_TRUE(m_directory.create_user(created_fields(ada()), UserState::activated));

  ASSERT_TRUE(pass().ok());

  for (const auto& row : m_store.audit(ada().id, 0)) {
    EXPECT_NE(row.outcome, "recovered") << row.message;
  }
}

TEST_F(ReconcilerTest, AStoreFailureWhileApplyingFailsThePassAndTheNextPassSettlesTheJournal) {
  m_hr.put(ada());
  auto second = ada();
  second.id = "3000000000000000002";
  second.fields.set("root.email", "grace@example.com");
  second.fields.set("root.displayName", "Grace Hopper");
  second.fields.set("work.employeeIdInCompany", "1002");
  m_hr.put(second);
  testing::FailingStore failing(m_store);
  failing.fail_settle_at(1);

  auto outcome = pass(failing);

  ASSERT_TRUE(outcome.applied);
  ASSERT_TRUE(outcome.applied->aborted);
  EXPECT_FALSE(outcome.ok());
  const auto run = m_store.recent_runs(1)[0];
  EXPECT_EQ(run.outcome, "failed");
  EXPECT_NE(run.summary.find("settle"), std::string::npos) << run.summary;
  // Whatever JumpCloud got is either settled or still pending in the journal.
  const auto created = m_directory.users().size();
  EXPECT_GE(created, 1U);
  EXPECT_EQ(m_store.pending_intents().size(), 1U);

  outcome = pass();
  ASSERT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->message : "");
  EXPECT_EQ(outcome.recovered, 1);
  EXPECT_TRUE(m_store.pending_intents().empty());
  EXPECT_EQ(m_directory.users().size(), 2U); // nobody created twice
  int recovered = 0;
  for (const auto& a : m_store.audit("", 0)) {
    recovered += a.outcome == "recovered" ? 1 : 0;
  }
  EXPECT_EQ(recovered, 1);
}

ApiError unavailable(std::string message) {
  ApiError down;
  down.kind = ErrorKind::transient;
  down.message = std::move(message);
  return down;
}

// The pass failed with `message`, wrote nothing to JumpCloud, recorded the run.
void expect_failed_without_writes(const ReconcileOutcome& outcome,
                                  const MemoryDirectory& directory,
                                  const state::MemoryStore& store,
                                  const std::string& message) {
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->message, message);
  EXPECT_TRUE(directory.users().empty());
  EXPECT_EQ(store.recent_runs(1)[0].outcome, "failed");
}

TEST_F(ReconcilerTest, BobFailingStopsThePassBeforeAnyWrite) {
  m_hr.put(ada());
  m_hr.fail_next(MemoryHrSource::Operation::list, unavailable("Bob people search: 503"));

  expect_failed_without_writes(pass(), m_directory, m_store, "Bob people search: 503");
}

TEST_F(ReconcilerTest, ACacheThatCannotBeWrittenFailsThePassBeforeAnyWrite) {
  // The cache is written while the pass reads Bob and plans; its failure
  // still ends the pass before anything reaches JumpCloud.
  m_hr.put(ada());
  testing::FailingStore store(m_store);
  store.fail_replace_users();

  EXPECT_THROW(pass(store), state::StoreError);

  EXPECT_TRUE(m_directory.users().empty());
  EXPECT_FALSE(m_store.last_full_refresh());
}

TEST_F(ReconcilerTest, APlanPassWritesNothing) {
  m_hr.put(ada());

  const auto outcome = pass(m_store, Mode::plan);

  EXPECT_EQ(outcome.pass.plan.summary.count(state::Action::create), 1);
  EXPECT_TRUE(m_directory.users().empty());
  EXPECT_TRUE(m_store.recent_runs(0).empty());
  EXPECT_FALSE(m_store.last_full_refresh());
}

TEST_F(ReconcilerTest, AOneEmployeePassUsesItsOwnSnapshotAndLeavesTheCallersPolicyAlone) {
  m_hr.put(ada());
  ReconcileRequest request;
  request.pass.policy = m_policy;
  request.pass.now = m_now;
  request.pass.only_employee = "3000000000000000001";
  request.mode = Mode::apply;
  request.apply.run_id = "one";

  const auto outcome = reconcile(m_hr, m_directory, m_store, m_clock, request);

  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(m_directory.users().size(), 1U);
  EXPECT_TRUE(m_policy->safety.block_on_empty_source); // the shared snapshot is unchanged
}

// Both reads under way at once: Bob's search does not answer until
// JumpCloud's listing has begun, and the listing waits for Bob's answer. Read
// one after the other, the pass would wait on itself until the bound.
class Rendezvous {
public:
  // Marks this side as arrived; true when the other side arrived too within
  // the bound (a pass that reads in turn never lets it).
  bool meet(bool bob) {
    std::unique_lock lock(m_mutex);
    (bob ? m_bob : m_jumpcloud) = true;
    m_arrived.notify_all();
    return m_arrived.wait_for(lock, 20s, [this] { return m_bob && m_jumpcloud; });
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_arrived;
  bool m_bob = false;
  bool m_jumpcloud = false;
};

class MeetingHrSource final : public HrSource {
public:
  MeetingHrSource(HrSource& inner, Rendezvous& rendezvous)
      : m_inner(inner),
        m_rendezvous(rendezvous) {}
  ApiResult<std::vector<state::Employee>>
  list_employees(const std::vector<std::string>& fields) override {
    met = m_rendezvous.meet(true);
    return m_inner.list_employees(fields);
  }
  ApiResult<std::optional<state::Employee>>
  get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) override {
    return m_inner.get_employee(id, fields);
  }
  std::atomic<bool> met = false;

private:
  HrSource& m_inner;
  Rendezvous& m_rendezvous;
};

class MeetingDirectory final : public Directory {
public:
  MeetingDirectory(Directory& inner, Rendezvous& rendezvous)
      : m_inner(inner),
        m_rendezvous(rendezvous) {}
  ApiResult<std::vector<state::DirectoryUser>> list_users() override {
    met = m_rendezvous.meet(false);
    return m_inner.list_users();
  }
  ApiResult<state::DirectoryUser> get_user(const state::UserId& id) override {
    return m_inner.get_user(id);
  }
  ApiResult<std::vector<state::DirectoryUser>> find_users(std::string_view field,
                                                          std::string_view value) override {
    return m_inner.find_users(field, value);
  }
  ApiResult<state::DirectoryUser> create_user(const state::FlatMap<std::string>& fields,
                                              state::UserState state) override {
    return m_inner.create_user(fields, state);
  }
  ApiResult<state::DirectoryUser> update_user(const state::UserId& id,
                                              const state::FlatMap<std::string>& changes,
                                              std::optional<state::UserState> state) override {
    return m_inner.update_user(id, changes, state);
  }
  std::atomic<bool> met = false;

private:
  Directory& m_inner;
  Rendezvous& m_rendezvous;
};

TEST_F(ReconcilerTest, BobIsReadWhileJumpCloudIsListed) {
  m_hr.put(ada());
  Rendezvous rendezvous;
  MeetingHrSource hr(m_hr, rendezvous);
  MeetingDirectory directory(m_directory, rendezvous);
  ReconcileRequest request;
  request.pass.policy = m_policy;
  request.pass.now = m_now;
  request.mode = Mode::apply;
  request.apply.run_id = "both";

  const auto outcome = reconcile(hr, directory, m_store, m_clock, request);

  EXPECT_TRUE(hr.met);
  EXPECT_TRUE(directory.met);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(only_user().get("email"), "ada@example.com");
}

TEST_F(ReconcilerTest, JumpCloudFailingWhileBobIsReadFailsThePassWithoutAWrite) {
  m_hr.put(ada());
  m_directory.fail_next(MemoryDirectory::Operation::list, unavailable("JumpCloud list: 503"));

  expect_failed_without_writes(pass(), m_directory, m_store, "JumpCloud list: 503");
  EXPECT_EQ(m_hr.calls(MemoryHrSource::Operation::list), 1); // read, and waited for
}

} // namespace
} // namespace bobsync::controller
