// The StateStore contract: every implementation must pass this suite.
// SqliteStore runs on a real file in a temporary directory.

#include "state/memory_store.hpp"
#include "state/sqlite/sqlite_store.hpp"
#include "state/store.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bobsync::state {
namespace {

// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
public:
  TempDir() {
    auto pattern = (std::filesystem::temp_directory_path() / "bobsync-store-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    m_path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  const std::filesystem::path& path() const { return m_path; }

private:
  std::filesystem::path m_path;
};

template<typename Store> std::unique_ptr<StateStore> make_store(const TempDir& dir);
template<> std::unique_ptr<StateStore> make_store<MemoryStore>(const TempDir& /*dir*/) {
  return std::make_unique<MemoryStore>();
}
template<> std::unique_ptr<StateStore> make_store<SqliteStore>(const TempDir& dir) {
  return SqliteStore::open((dir.path() / "state.db").string(), OpenMode::writer);
}

template<typename Store> class StateStoreContract : public ::testing::Test {
protected:
  StateStore& store() { return *m_store; }

  TempDir m_dir; // declared first: outlives the store
  std::unique_ptr<StateStore> m_store = make_store<Store>(m_dir);
};

using StoreTypes = ::testing::Types<MemoryStore, SqliteStore>;
TYPED_TEST_SUITE(StateStoreContract, StoreTypes);

DirectoryUser user(const std::string& id,
                   UserState state,
                   std::initializer_list<std::pair<std::string, std::string>> fields) {
  DirectoryUser u;
  u.id = id;
  u.state = state;
  for (const auto& [name, value] : fields) {
    u.fields.set(name, value);
  }
  return u;
}

JournalEntry intent(const std::string& employee_id, Action action, const std::string& user_id) {
  JournalEntry entry;
  entry.run_id = "run-1";
  entry.action = action;
  entry.employee_id = employee_id;
  entry.user_id = user_id;
  entry.payload = R"({"action":")" + std::string(to_string(action)) + R"(","employee_id":")"
                  + employee_id + R"("})";
  entry.created_at = "2026-03-01T10:00:00Z";
  return entry;
}

AuditRecord audit_record(const std::string& employee_id, const std::string& message) {
  AuditRecord record;
  record.time = "2026-03-01T10:00:00Z";
  record.run_id = "run-1";
  record.action = Action::update;
  record.employee_id = employee_id;
  record.user_id = "u-" + employee_id;
  record.fields = {{"jobTitle", "Engineer", "Staff Engineer"}};
  record.policy_hash = "sha256:abc";
  record.outcome = "ok";
  record.message = message;
  return record;
}

RunRecord run_record(const std::string& id) {
  RunRecord run;
  run.id = id;
  run.started_at = "2026-03-01T10:00:00Z"; // same for all: order must not depend on it
  run.kind = "apply";
  run.policy_hash = "sha256:abc";
  return run;
}

std::vector<std::string> messages(const std::vector<AuditRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) {
    out.push_back(r.message);
  }
  return out;
}

std::vector<std::string> run_ids(const std::vector<RunRecord>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) {
    out.push_back(r.id);
  }
  return out;
}

// --- observed users

TYPED_TEST(StateStoreContract, UsersRoundTripWithListAndAttributeFields) {
  const auto ada = user("u2",
                        UserState::activated,
                        {{"email", "Ada.Lovelace@Example.com"},
                         {"username", "ada.lovelace"},
                         {"employeeIdentifier", "3332883884017713238"},
                         {"displayname", "Ada \"Countess\" Lovelace \u2013 \u00c5sa \u65e5\u672c"},
                         {"jobTitle", ""}, // present but empty: not the same as absent
                         {"phoneNumbers[type=work]", "+44 20 7946 0000"},
                         {"phoneNumbers[type=mobile]", "+44 7700 900000"},
                         {"attributes[name=costCode]", "CC-42"},
                         {"attributes[name=bobEmployeeId]", "3332883884017713238"}});
  const auto admin = user("u1", UserState::suspended, {{"email", "it@example.com"}});
  const auto newcomer = user("u3", UserState::staged, {});

  this->store().replace_users({ada, admin}, "2026-03-01T10:00:00Z");
  EXPECT_EQ(this->store().load_users(), (std::vector<DirectoryUser>{admin, ada}));

  auto ada_changed = ada;
  ada_changed.state = UserState::suspended;
  ada_changed.fields.set("jobTitle", "Countess");
  ada_changed.fields.erase("phoneNumbers[type=mobile]");
  this->store().upsert_user(ada_changed);
  this->store().upsert_user(newcomer);

  EXPECT_EQ(this->store().load_users(), (std::vector<DirectoryUser>{admin, ada_changed, newcomer}));
}

TYPED_TEST(StateStoreContract, ReplaceRemovesVanishedUsers) {
  const auto a = user("a", UserState::activated, {{"email", "a@example.com"}});
  const auto b = user("b", UserState::activated, {{"email", "b@example.com"}});
  const auto c = user("c", UserState::activated, {{"email", "c@example.com"}});
  const auto e = user("e", UserState::activated, {{"email", "e@example.com"}});
  auto b_changed = b;
  b_changed.fields.set("email", "b2@example.com");
  auto c_suspended = c; // only the state changes
  c_suspended.state = UserState::suspended;
  const auto d = user("d", UserState::staged, {{"email", "d@example.com"}});

  this->store().replace_users({c, a, e, b}, "2026-03-01T10:00:00Z");
  this->store().replace_users({d, b_changed, a, c_suspended}, "2026-03-02T10:00:00Z");
  EXPECT_EQ(this->store().load_users(), (std::vector<DirectoryUser>{a, b_changed, c_suspended, d}));

  this->store().replace_users({}, "2026-03-03T10:00:00Z");
  EXPECT_TRUE(this->store().load_users().empty());
}

TYPED_TEST(StateStoreContract, ReplaceKeepsTheLastOfTwoUsersWithOneId) {
  const auto first = user("a", UserState::activated, {{"email", "old@example.com"}});
  const auto b = user("b", UserState::activated, {});
  const auto second = user("a", UserState::suspended, {{"email", "new@example.com"}});

  this->store().replace_users({first, b, second}, "2026-03-01T10:00:00Z");

  EXPECT_EQ(this->store().load_users(), (std::vector<DirectoryUser>{second, b}));
}

TYPED_TEST(StateStoreContract, HostileValuesRoundTrip) {
  const std::string with_nul("before\0after", 12);
  auto hostile = user("u\"1",
                      UserState::activated,
                      {{"displayname", "quote \" backslash \\ slash / done"},
                       {"description", "line\nbreak\ttab\rreturn\bback\fform\x01\x1f\x7f"},
                       {"jobTitle",
                        "\xf0\x9f\x98\x80 emoji, \xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa, "
                        "\xe2\x80\xae rtl mark, \xef\xbb\xbf bom"},
                       {"attributes[name=\"odd\" key\\]", "{\"json\": [\"inside\"]}"},
                       {"", "empty name"}});
  hostile.fields.set("nul", with_nul);
  auto plain = user("u2", UserState::activated, {{"email", "  spaces  "}});

  this->store().replace_users({hostile}, "2026-03-01T10:00:00Z");
  EXPECT_EQ(this->store().load_users(), std::vector<DirectoryUser>{hostile});

  hostile.fields.set("jobTitle", "\\u00e9 is not an escape here");
  this->store().upsert_user(hostile);
  this->store().upsert_user(plain);
  EXPECT_EQ(this->store().load_users(), (std::vector<DirectoryUser>{hostile, plain}));
}

TYPED_TEST(StateStoreContract, LastFullRefreshIsSetOnlyByReplace) {
  EXPECT_EQ(this->store().last_full_refresh(), std::nullopt);

  this->store().upsert_user(user("a", UserState::activated, {}));
  EXPECT_EQ(this->store().last_full_refresh(), std::nullopt);

  this->store().replace_users({}, "2026-03-01T10:00:00Z");
  EXPECT_EQ(this->store().last_full_refresh(), "2026-03-01T10:00:00Z");

  this->store().replace_users({}, "2026-03-02T11:30:00Z");
  EXPECT_EQ(this->store().last_full_refresh(), "2026-03-02T11:30:00Z");
}

TYPED_TEST(StateStoreContract, ReplaceWithAnInvalidUserChangesNothing) {
  const auto a = user("a", UserState::activated, {{"email", "a@example.com"}});
  this->store().replace_users({a}, "2026-03-01T10:00:00Z");

  EXPECT_THROW(this->store().replace_users(
                   {user("b", UserState::activated, {}), user("", UserState::activated, {})},
                   "2026-03-02T10:00:00Z"),
               StoreError);
  EXPECT_THROW(this->store().upsert_user(user("", UserState::activated, {})), StoreError);

  EXPECT_EQ(this->store().load_users(), std::vector<DirectoryUser>{a});
  EXPECT_EQ(this->store().last_full_refresh(), "2026-03-01T10:00:00Z");
}

// --- links

TYPED_TEST(StateStoreContract, LinksUpsertRemoveAndLoadSorted) {
  this->store().upsert_link({"E2", "u2", false});
  this->store().upsert_link({"E1", "u1", false});
  this->store().upsert_link({"E3", "u3", true});
  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E1", "u1", false}, {"E2", "u2", false}, {"E3", "u3", true}}));

  // Same employee: the link is replaced (new user, leaver flag cleared).
  this->store().upsert_link({"E3", "u9", false});
  this->store().remove_link("E1");
  this->store().remove_link("E-unknown"); // no-op
  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E2", "u2", false}, {"E3", "u9", false}}));

  // u3 is free again: another employee may take it.
  this->store().upsert_link({"E4", "u3", false});
  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E2", "u2", false}, {"E3", "u9", false}, {"E4", "u3", false}}));
}

TYPED_TEST(StateStoreContract, RelinkingAUserMovesIt) {
  this->store().upsert_link({"E1", "u1", true});
  this->store().upsert_link({"E2", "u2", false});

  this->store().upsert_link({"E3", "u1", false});

  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E2", "u2", false}, {"E3", "u1", false}}));
}

TYPED_TEST(StateStoreContract, ManyLinksAtOnce) {
  this->store().upsert_link({"E1", "u1", false});
  this->store().upsert_links({{"E3", "u3", true}, {"E2", "u2", false}, {"E4", "u1", false}});
  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E2", "u2", false}, {"E3", "u3", true}, {"E4", "u1", false}}));
}

TYPED_TEST(StateStoreContract, ABatchOfLinksIsWrittenInOrderOrNotAtAll) {
  // One batch moves a user and relinks an employee: each link sees the ones before it.
  this->store().upsert_links({{"E5", "u5", false}, {"E6", "u5", true}, {"E5", "u6", false}});
  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E5", "u6", false}, {"E6", "u5", true}}));

  EXPECT_THROW(this->store().upsert_links({{"E7", "u7", false}, {"E8", "", false}}), StoreError);
  EXPECT_EQ(this->store().load_links(),
            (std::vector<Link>{{"E5", "u6", false}, {"E6", "u5", true}}));
}

TYPED_TEST(StateStoreContract, LinksNeedBothIds) {
  EXPECT_THROW(this->store().upsert_link({"", "u1", false}), StoreError);
  EXPECT_THROW(this->store().upsert_link({"E1", "", false}), StoreError);
  EXPECT_TRUE(this->store().load_links().empty());
}

// --- journal and settle

TYPED_TEST(StateStoreContract, IntentsArePendingOldestFirst) {
  auto first = intent("E1", Action::create, "");
  first.state = "done"; // ignored: an intent is pending until settled
  const auto second = intent("E2", Action::suspend, "u2");

  const auto first_id = this->store().add_intent(first);
  const auto second_id = this->store().add_intent(second);
  EXPECT_GT(first_id, 0);
  EXPECT_GT(second_id, first_id);

  auto expected_first = first;
  expected_first.id = first_id;
  expected_first.state = "pending";
  auto expected_second = second;
  expected_second.id = second_id;
  EXPECT_EQ(this->store().pending_intents(),
            (std::vector<JournalEntry>{expected_first, expected_second}));
}

TYPED_TEST(StateStoreContract, SettleWritesCacheLinkAndAuditTogether) {
  const auto create_id = this->store().add_intent(intent("E1", Action::create, ""));
  const auto update_id = this->store().add_intent(intent("E2", Action::update, "u2"));
  this->store().upsert_link({"E-old", "u1", false}); // u1 moves to E1 below

  SettledChange settled;
  settled.journal_id = create_id;
  settled.ok = true;
  settled.user = user("u1", UserState::activated, {{"email", "e1@example.com"}});
  settled.link = Link{"E1", "u1", false};
  settled.audit = audit_record("E1", "");
  settled.audit.action = Action::create;
  settled.audit.user_id = "u1";
  settled.audit.fields = {{"email", std::nullopt, "e1@example.com"}};
  this->store().settle(settled);

  const auto pending = this->store().pending_intents();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending.front().id, update_id);
  EXPECT_EQ(this->store().load_users(), std::vector<DirectoryUser>{*settled.user});
  EXPECT_EQ(this->store().load_links(), (std::vector<Link>{{"E1", "u1", false}}));
  const auto audit = this->store().audit("", 0);
  ASSERT_EQ(audit.size(), 1U);
  auto expected = settled.audit;
  expected.id = audit.front().id;
  EXPECT_EQ(audit.front(), expected);
}

TYPED_TEST(StateStoreContract, FailedSettleRecordsTheOutcome) {
  const auto id = this->store().add_intent(intent("E1", Action::suspend, "u1"));

  SettledChange settled;
  settled.journal_id = id;
  settled.ok = false;
  settled.audit = audit_record("E1", "JumpCloud answered 500: internal error");
  settled.audit.action = Action::suspend;
  settled.audit.outcome = "failed";
  this->store().settle(settled);

  EXPECT_TRUE(this->store().pending_intents().empty());
  EXPECT_TRUE(this->store().load_users().empty());
  EXPECT_TRUE(this->store().load_links().empty());
  const auto audit = this->store().audit("E1", 0);
  ASSERT_EQ(audit.size(), 1U);
  EXPECT_EQ(audit.front().outcome, "failed");
  EXPECT_EQ(audit.front().message, "JumpCloud answered 500: internal error");
  EXPECT_EQ(audit.front().action, Action::suspend);
}

TYPED_TEST(StateStoreContract, SettlingAnUnknownOrSettledEntryWritesNothing) {
  const auto id = this->store().add_intent(intent("E1", Action::update, "u1"));
  SettledChange settled;
  settled.journal_id = id;
  settled.user = user("u1", UserState::activated, {});
  settled.audit = audit_record("E1", "first");
  this->store().settle(settled);

  auto again = settled;
  again.user = user("u1", UserState::suspended, {});
  again.audit.message = "second";
  EXPECT_THROW(this->store().settle(again), StoreError);
  again.journal_id = id + 1000;
  EXPECT_THROW(this->store().settle(again), StoreError);

  EXPECT_EQ(messages(this->store().audit("", 0)), std::vector<std::string>{"first"});
  EXPECT_EQ(this->store().load_users(), std::vector<DirectoryUser>{*settled.user});
}

TYPED_TEST(StateStoreContract, SettleWithAnInvalidLinkWritesNothing) {
  const auto id = this->store().add_intent(intent("E1", Action::create, ""));
  SettledChange settled;
  settled.journal_id = id;
  settled.user = user("u1", UserState::activated, {});
  settled.link = Link{"E1", "", false};
  settled.audit = audit_record("E1", "created");

  EXPECT_THROW(this->store().settle(settled), StoreError);

  ASSERT_EQ(this->store().pending_intents().size(), 1U);
  EXPECT_TRUE(this->store().load_users().empty());
  EXPECT_TRUE(this->store().load_links().empty());
  EXPECT_TRUE(this->store().audit("", 0).empty());
}

TYPED_TEST(StateStoreContract, ConcurrentSettlesAllLand) {
  constexpr int k_threads = 4;
  constexpr int k_per_thread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < k_per_thread; ++i) {
        const auto employee = "E" + std::to_string(t) + "-" + std::to_string(i);
        const auto id = this->store().add_intent(intent(employee, Action::create, ""));
        SettledChange settled;
        settled.journal_id = id;
        settled.user = user("u" + employee, UserState::activated, {});
        settled.link = Link{employee, "u" + employee, false};
        settled.audit = audit_record(employee, employee);
        this->store().settle(settled);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  constexpr auto k_total = static_cast<std::size_t>(k_threads * k_per_thread);
  EXPECT_TRUE(this->store().pending_intents().empty());
  EXPECT_EQ(this->store().load_users().size(), k_total);
  EXPECT_EQ(this->store().load_links().size(), k_total);
  const auto audit = this->store().audit("", 0);
  ASSERT_EQ(audit.size(), k_total);
  for (std::size_t i = 1; i < audit.size(); ++i) {
    EXPECT_LT(audit[i - 1].id, audit[i].id);
  }
}

// --- audit log

TYPED_TEST(StateStoreContract, AuditRoundTripsFieldChanges) {
  auto record = audit_record("E1", "");
  record.action = Action::activate;
  record.fields = {{"department", std::nullopt, "R&D"},
                   {"jobTitle", "", "Engineer"},
                   {"location", "Paris", ""},
                   {"displayname", "Zo\u00eb \"Z\" O'Neil", "Zo\u00eb O'Neil-Smith"}};
  record.outcome = "recovered";
  record.message = "settled after an interrupted run";
  this->store().append_audit(record);

  const auto audit = this->store().audit("E1", 0);
  ASSERT_EQ(audit.size(), 1U);
  EXPECT_GT(audit.front().id, 0);
  record.id = audit.front().id;
  EXPECT_EQ(audit.front(), record);
}

TYPED_TEST(StateStoreContract, AuditFiltersByEmployeeAndKeepsTheNewest) {
  // Appended in this order; messages identify the records.
  for (const auto& [employee, message] : std::vector<std::pair<std::string, std::string>>{
           {"E1", "e1-a"}, {"E2", "e2-a"}, {"E1", "e1-b"}, {"E1", "e1-c"}, {"E2", "e2-b"}}) {
    this->store().append_audit(audit_record(employee, message));
  }

  struct Case {
    std::string employee;
    int limit;
    std::vector<std::string> expected; // oldest first
  };
  const std::vector<Case> cases = {
      {"", 0, {"e1-a", "e2-a", "e1-b", "e1-c", "e2-b"}},
      {"", -1, {"e1-a", "e2-a", "e1-b", "e1-c", "e2-b"}},
      {"", 2, {"e1-c", "e2-b"}},
      {"", 10, {"e1-a", "e2-a", "e1-b", "e1-c", "e2-b"}},
      {"E1", 0, {"e1-a", "e1-b", "e1-c"}},
      {"E1", 2, {"e1-b", "e1-c"}},
      {"E2", 1, {"e2-b"}},
      {"E9", 0, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("employee '" + c.employee + "' limit " + std::to_string(c.limit));
    EXPECT_EQ(messages(this->store().audit(c.employee, c.limit)), c.expected);
  }
}

TYPED_TEST(StateStoreContract, EmployeesLastAuditedAsLooksOnlyAtEachEmployeesNewestRow) {
  auto interrupted = [](const std::string& employee) {
    auto record = audit_record(employee, "interrupted");
    record.action = Action::create;
    record.outcome = "failed";
    return record;
  };
  this->store().append_audit(interrupted("E3"));
  this->store().append_audit(interrupted("E1"));
  this->store().append_audit(interrupted("E2"));
  this->store().append_audit(audit_record("E2", "later"));       // E2 moved on
  this->store().append_audit(audit_record("E4", "interrupted")); // another action and outcome
  auto other = interrupted("E5");
  other.message = "something else";
  this->store().append_audit(other);

  EXPECT_EQ(this->store().employees_last_audited_as(Action::create, "failed", "interrupted"),
            (std::vector<std::string>{"E1", "E3"}));
  EXPECT_TRUE(
      this->store().employees_last_audited_as(Action::suspend, "failed", "interrupted").empty());
}

// --- runs

TYPED_TEST(StateStoreContract, RunsStartFinishAndRecentNewestFirst) {
  this->store().start_run(run_record("r1"));
  this->store().start_run(run_record("r2"));
  this->store().start_run(run_record("r3"));

  auto finished = run_record("r2");
  finished.finished_at = "2026-03-01T10:05:00Z";
  finished.outcome = "partial";
  finished.summary = "create=3 update=2 failed=1";
  this->store().finish_run(finished);

  const auto all = this->store().recent_runs(0);
  EXPECT_EQ(run_ids(all), (std::vector<std::string>{"r3", "r2", "r1"}));
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all.at(1), finished);
  EXPECT_EQ(all.at(0), run_record("r3")); // still running
  EXPECT_EQ(run_ids(this->store().recent_runs(2)), (std::vector<std::string>{"r3", "r2"}));
}

TYPED_TEST(StateStoreContract, RunIdsAreUniqueAndFinishNeedsAStart) {
  this->store().start_run(run_record("r1"));
  auto duplicate = run_record("r1");
  duplicate.kind = "run";
  EXPECT_THROW(this->store().start_run(duplicate), StoreError);
  EXPECT_THROW(this->store().finish_run(run_record("r-unknown")), StoreError);

  EXPECT_EQ(this->store().recent_runs(0), std::vector<RunRecord>{run_record("r1")});
}

} // namespace
} // namespace bobsync::state
