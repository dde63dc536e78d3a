// What only the SQLite store does: files, modes, the writer lock, schema
// versions, and surviving a reopen.

#include "state/sqlite/migrations.hpp"
#include "state/sqlite/sqlite_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bobsync::state {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto pattern = (fs::temp_directory_path() / "bobsync-sqlite-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    m_dir = fs::canonical(pattern); // the lock file is named by the resolved path
    m_path = (m_dir / "state.db").string();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(m_dir, ignored);
  }

  std::unique_ptr<SqliteStore> open_writer() { return SqliteStore::open(m_path, OpenMode::writer); }
  std::unique_ptr<SqliteStore> open_reader() {
    return SqliteStore::open(m_path, OpenMode::read_only);
  }

  // The StoreError message open() throws ("" when it does not throw).
  std::string open_error(OpenMode mode) {
    try {
      SqliteStore::open(m_path, mode);
    } catch (const StoreError& e) {
      return e.what();
    }
    return "";
  }

  fs::path m_dir;
  std::string m_path;
};

unsigned mode_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    ADD_FAILURE() << "no file " << path;
    return 0;
  }
  return info.st_mode & 0777U;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

DirectoryUser sample_user(const std::string& id) {
  DirectoryUser u;
  u.id = id;
  u.state = UserState::activated;
  u.fields.set("email", id + "@example.com");
  u.fields.set("attributes[name=bobEmployeeId]", "E-" + id);
  return u;
}

// Restores the process umask when the test ends.
class UmaskGuard {
public:
  explicit UmaskGuard(mode_t mask)
      : m_saved(::umask(mask)) {}
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;
  ~UmaskGuard() { ::umask(m_saved); }

private:
  mode_t m_saved;
};

TEST_F(SqliteStoreTest, EveryFileIsPrivateWhateverTheUmask) {
  const UmaskGuard permissive(0);
  auto store = open_writer();
  store->upsert_user(sample_user("u1")); // WAL: creates -wal and -shm

  for (const auto& path : {m_path, m_path + "-wal", m_path + "-shm", m_path + ".lock"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(mode_of(path), 0600U);
  }
}

TEST_F(SqliteStoreTest, AnExistingReadableDatabaseIsTightened) {
  write_file(m_path, "");
  ASSERT_EQ(::chmod(m_path.c_str(), 0644), 0);

  auto store = open_writer();

  EXPECT_EQ(mode_of(m_path), 0600U);
}

TEST_F(SqliteStoreTest, ASecondWriterIsRefusedUntilTheFirstCloses) {
  auto first = open_writer();

  const auto error = open_error(OpenMode::writer);
  EXPECT_EQ(error,
            "another bobsync process is applying to " + m_path + ": held by bobsync (pid "
                + std::to_string(::getpid()) + "); wait for it to finish or stop it");

  first->upsert_user(sample_user("u1"));
  first.reset();
  auto second = open_writer();
  EXPECT_EQ(second->load_users(), std::vector<DirectoryUser>{sample_user("u1")});
}

TEST_F(SqliteStoreTest, ALockFileLeftByADeadProcessDoesNotBlock) {
  write_file(m_path + ".lock", "999999\n"); // no process holds a lock on it

  auto store = open_writer();

  EXPECT_EQ(read_file(m_path + ".lock"), std::to_string(::getpid()) + " bobsync\n");
}

// The lock belongs to the file, not to the name it is opened by: a symlink
// or another spelling of the path finds the same lock, and the refusal names
// the command that holds it.
TEST_F(SqliteStoreTest, ASecondWriterByASymlinkIsRefused) {
  const auto link = (m_dir / "link.db").string();
  open_writer().reset(); // the database exists
  fs::create_symlink(m_path, link);
  auto first = SqliteStore::open(link, OpenMode::writer, "bobsync run");
  EXPECT_TRUE(fs::exists(m_path + ".lock"));
  EXPECT_FALSE(fs::exists(link + ".lock"));

  const auto error = open_error(OpenMode::writer);

  EXPECT_EQ(error,
            "another bobsync process is applying to " + m_path + ": held by bobsync run (pid "
                + std::to_string(::getpid()) + "); wait for it to finish or stop it");
}

TEST_F(SqliteStoreTest, ASecondWriterByAnotherPathToTheSameFileIsRefused) {
  fs::create_directory(m_dir / "sub");
  const auto other = (m_dir / "sub" / ".." / "." / "state.db").string();
  auto first = SqliteStore::open(m_path, OpenMode::writer, "bobsync apply");

  std::string error;
  try {
    SqliteStore::open(other, OpenMode::writer, "bobsync apply");
  } catch (const StoreError& e) {
    error = e.what();
  }

  EXPECT_EQ(error,
            "another bobsync process is applying to " + other + ": held by bobsync apply (pid "
                + std::to_string(::getpid()) + "); wait for it to finish or stop it");
}

TEST_F(SqliteStoreTest, ASymlinkToADatabaseNotYetCreatedLocksTheTarget) {
  const auto link = (m_dir / "link.db").string();
  fs::create_symlink(m_path, link);
  auto first = SqliteStore::open(link, OpenMode::writer);

  EXPECT_TRUE(fs::exists(m_path));
  EXPECT_NE(open_error(OpenMode::writer).find("held by bobsync (pid"), std::string::npos);
}

TEST_F(SqliteStoreTest, ReadOnlyOpensWhileAWriterHoldsTheLock) {
  auto writer = open_writer();
  writer->upsert_user(sample_user("u1"));
  writer->upsert_link({"E1", "u1", false});

  auto reader = open_reader();
  EXPECT_EQ(reader->load_users(), std::vector<DirectoryUser>{sample_user("u1")});
  EXPECT_EQ(reader->load_links(), (std::vector<Link>{{"E1", "u1", false}}));

  // The reader sees what the writer commits later.
  writer->upsert_user(sample_user("u2"));
  EXPECT_EQ(reader->load_users(),
            (std::vector<DirectoryUser>{sample_user("u1"), sample_user("u2")}));

  // And cannot write; the error names the database and the operation.
  try {
    reader->upsert_user(sample_user("u3"));
    ADD_FAILURE() << "a read-only store accepted a write";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("state database " + m_path + ": upsert_user: "),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(writer->load_users().size(), 2U);
}

JournalEntry journal_intent(const std::string& employee) {
  JournalEntry entry;
  entry.run_id = "r1";
  entry.action = Action::create;
  entry.employee_id = employee;
  entry.payload = "{}";
  entry.created_at = "2026-12-05T00:00:00Z";
  return entry;
}

SettledChange settled_ok(std::int64_t id, const std::string& employee) {
  SettledChange settled;
  settled.journal_id = id;
  settled.ok = true;
  settled.user = sample_user("u" + employee);
  settled.link = Link{employee, "u" + employee, false};
  settled.audit.time = "2026-12-05T00:00:01Z";
  settled.audit.run_id = "r1";
  settled.audit.action = Action::create;
  settled.audit.employee_id = employee;
  settled.audit.outcome = "ok";
  return settled;
}

// What another process (status, a restarted controller) would read.
TEST_F(SqliteStoreTest, IntentsAreDurableAtOnceAndQueuedSettlesAtTheNextCommit) {
  auto writer = open_writer();
  auto reader = open_reader();

  const auto first = writer->add_intent(journal_intent("E1"));
  EXPECT_EQ(reader->pending_intents().size(), 1U); // durable before the request is sent
  writer->settle(settled_ok(first, "E1"));
  EXPECT_TRUE(writer->pending_intents().empty()); // its own reads see the queued settle

  const auto second = writer->add_intent(journal_intent("E2")); // commits E1's settle with it
  auto pending = reader->pending_intents();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending.front().id, second);
  EXPECT_EQ(reader->audit("E1", 0).size(), 1U);

  writer->settle(settled_ok(second, "E2"));
  writer->flush();
  EXPECT_TRUE(reader->pending_intents().empty());
  EXPECT_EQ(reader->load_links().size(), 2U);

  const auto third = writer->add_intent(journal_intent("E3"));
  writer->settle(settled_ok(third, "E3"));
  writer.reset(); // closing commits what is queued
  EXPECT_TRUE(reader->pending_intents().empty());
  EXPECT_EQ(reader->audit("", 0).size(), 3U);
}

TEST_F(SqliteStoreTest, ConcurrentChangesShareCommits) {
  auto writer = open_writer();
  constexpr int k_threads = 4;
  constexpr int k_per_thread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_per_thread; ++i) {
        const auto employee = "E" + std::to_string(t) + "-" + std::to_string(i);
        writer->settle(settled_ok(writer->add_intent(journal_intent(employee)), employee));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  writer->flush();

  constexpr int k_changes = k_threads * k_per_thread;
  auto reader = open_reader();
  EXPECT_TRUE(reader->pending_intents().empty());
  EXPECT_EQ(reader->audit("", 0).size(), static_cast<std::size_t>(k_changes));
  // One commit per intent and one per settle without grouping; the settles
  // ride with the intents (and intents of several threads share one).
  EXPECT_LE(writer->group_commits(), k_changes + 1);
}

// A settle that cannot be written is refused before it is queued: it must
// not fail the transaction it would have shared with other intents.
TEST_F(SqliteStoreTest, ASettleWithAValueThatIsNotUtf8IsRefusedAtOnceAndHarmsNoOtherIntent) {
  auto writer = open_writer();
  const auto id = writer->add_intent(journal_intent("E1"));
  auto bad = settled_ok(id, "E1");
  bad.user->fields.set("jobTitle", "\xff");

  EXPECT_THROW(writer->settle(bad), StoreError);
  const auto other = writer->add_intent(journal_intent("E2"));
  writer->settle(settled_ok(id, "E1")); // the intent is still pending: a good settle lands
  writer->flush();

  auto reader = open_reader();
  const auto pending = reader->pending_intents();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending.front().id, other);
  EXPECT_EQ(reader->load_users(), std::vector<DirectoryUser>{sample_user("uE1")});
}

TEST_F(SqliteStoreTest, ASecondSettleOfAQueuedOneIsRefusedAtOnce) {
  auto writer = open_writer();
  const auto id = writer->add_intent(journal_intent("E1"));
  writer->settle(settled_ok(id, "E1"));

  auto again = settled_ok(id, "E1");
  again.audit.message = "twice";
  try {
    writer->settle(again);
    ADD_FAILURE() << "a second settle was accepted";
  } catch (const StoreError& e) {
    EXPECT_NE(
        std::string(e.what()).find("journal entry " + std::to_string(id) + " is already done"),
        std::string::npos)
        << e.what();
  }
  EXPECT_EQ(writer->audit("E1", 0).size(), 1U);
}

TEST_F(SqliteStoreTest, ReadOnlyRefusesAMissingDatabaseWithoutCreatingIt) {
  EXPECT_EQ(open_error(OpenMode::read_only),
            "state database " + m_path + " does not exist (nothing has been applied with it yet)");
  EXPECT_FALSE(fs::exists(m_path));
  EXPECT_FALSE(fs::exists(m_path + ".lock"));
}

TEST_F(SqliteStoreTest, ReadOnlyRefusesADatabaseItCannotUpgrade) {
  write_file(m_path, ""); // an empty file is a database at version 0

  const auto error = open_error(OpenMode::read_only);

  EXPECT_NE(error.find("holds no bobsync schema (schema version 0): it is empty, or a copy of a "
                       "database taken without its -wal file"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("upgrade"), std::string::npos) << error; // not an old database
}

TEST_F(SqliteStoreTest, AWriterMigratesAnEmptyFile) {
  write_file(m_path, "");

  open_writer().reset();

  SQLite::Database db(m_path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), sqlite::schema_version());
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  std::vector<std::string> tables;
  SQLite::Statement select(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite_%' ORDER BY name");
  while (select.executeStep()) {
    tables.push_back(select.getColumn(0).getString());
  }
  EXPECT_EQ(tables,
            (std::vector<std::string>{"audit", "journal", "links", "meta", "runs", "users"}));
}

TEST_F(SqliteStoreTest, ADatabaseNewerThanThisBinaryIsRefused) {
  open_writer().reset();
  const int newer = sqlite::schema_version() + 1;
  {
    SQLite::Database db(m_path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(newer));
  }

  for (const auto mode : {OpenMode::writer, OpenMode::read_only}) {
    const auto error = open_error(mode);
    EXPECT_EQ(error,
              "state database " + m_path + " has schema version " + std::to_string(newer)
                  + ", newer than this bobsync supports (version "
                  + std::to_string(sqlite::schema_version()) + "); use a newer bobsync");
  }
  SQLite::Database db(m_path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), newer); // left as it was
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsRefusedByPath) {
  write_file(m_path, std::string(4096, 'x'));

  const auto error = open_error(OpenMode::writer);

  EXPECT_EQ(error.rfind("state database " + m_path + ": open: ", 0), 0U) << error;
  EXPECT_EQ(read_file(m_path), std::string(4096, 'x'));
  // The failed open released the writer lock: a retry fails the same way.
  EXPECT_EQ(open_error(OpenMode::writer), error);
}

// A damaged database is refused on open, with what to do, in both modes.
TEST_F(SqliteStoreTest, ADamagedDatabaseIsRefusedOnOpen) {
  {
    auto store = open_writer();
    std::vector<DirectoryUser> users;
    for (int i = 0; i < 2000; ++i) {
      users.push_back(sample_user("u" + std::to_string(i)));
    }
    store->replace_users(users, "2026-11-27T09:00:00Z");
  } // closed: the WAL is checkpointed into the file
  const auto size = fs::file_size(m_path);
  ASSERT_GT(size, 16384U * 8);
  {
    // Scribble over the middle of the file, leaving page 1 (the schema) whole.
    std::fstream file(m_path, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(size / 2));
    const std::string garbage(16384 * 2, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }

  for (const auto mode : {OpenMode::writer, OpenMode::read_only}) {
    const auto error = open_error(mode);
    EXPECT_EQ(error.rfind("state database " + m_path + " is damaged (", 0), 0U) << error;
    EXPECT_NE(error.find("Restore it from a backup, or move it"), std::string::npos) << error;
    EXPECT_NE(error.find("bobEmployeeId"), std::string::npos) << error;
  }
}

TEST_F(SqliteStoreTest, CachedFieldsArePlainJsonWithLookupColumns) {
  auto u = sample_user("u1");
  u.fields.set("email", "Ada.Lovelace@Example.COM");
  u.fields.set("username", "Ada.L");
  u.fields.set("employeeIdentifier", "E-1");
  u.fields.set("displayname", "Zo\u00eb \"Z\" \\ O'Neil\n\U0001F600\x01");
  open_writer()->upsert_user(u);

  SQLite::Database db(m_path, SQLite::OPEN_READONLY);
  SQLite::Statement select(
      db, "SELECT fields, email_lower, employee_identifier, username_lower, state FROM users");
  ASSERT_TRUE(select.executeStep());
  auto expected = nlohmann::json::object();
  for (const auto& [name, value] : u.fields) {
    expected[name] = value;
  }
  EXPECT_EQ(nlohmann::json::parse(select.getColumn(0).getString()), expected);
  EXPECT_EQ(select.getColumn(1).getString(), "ada.lovelace@example.com");
  EXPECT_EQ(select.getColumn(2).getString(), "E-1");
  EXPECT_EQ(select.getColumn(3).getString(), "ada.l");
  EXPECT_EQ(select.getColumn(4).getString(), "ACTIVATED");
}

TEST_F(SqliteStoreTest, CachedFieldsInAnyJsonSpellingAreRead) {
  struct Case {
    std::string stored;
    std::optional<FlatMap<std::string>> expected; // nullopt: load_users refuses
  };
  const std::vector<Case> cases = {
      {R"({})", FlatMap<std::string>{}},
      {R"( { "b" : "x" ,"a":"\u00e9\ud83d\ude00\/\"" } )",
       FlatMap<std::string>{{"a", "\u00e9\U0001F600/\""}, {"b", "x"}}},
      {R"({"a":"\u00E9\n"})", FlatMap<std::string>{{"a", "\u00e9\n"}}},
      {R"({"a":1})", std::nullopt},
      {R"({"a":null})", std::nullopt},
      {R"({"a":"x")", std::nullopt},
      {R"({"a":"x"} trailing)", std::nullopt},
      {R"(["a"])", std::nullopt},
      {R"({"a":"\ud800"})", std::nullopt},
      {R"({"a":"\udc00"})", std::nullopt},
      {R"({"a":"\x"})", std::nullopt},
      {"{\"a\":\"raw\ncontrol\"}", std::nullopt},
      {"{\"a\":\"not UTF-8 \xff\"}", std::nullopt},
      {R"({"a":"x","a":"y"})", FlatMap<std::string>{{"a", "y"}}},
      {R"({"a":"x"}})", std::nullopt},
      {R"({"a":{"b":"x"})", std::nullopt},
  };
  auto store = open_writer();
  SQLite::Database db(m_path, SQLite::OPEN_READWRITE);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.stored);
    db.exec("DELETE FROM users");
    SQLite::Statement insert(db,
                             "INSERT INTO users (id, state, fields) VALUES ('u1', 'STAGED', ?1)");
    insert.bind(1, c.stored);
    insert.exec();
    if (c.expected) {
      DirectoryUser expected{"u1", UserState::staged, *c.expected};
      EXPECT_EQ(store->load_users(), std::vector<DirectoryUser>{expected});
    } else {
      try {
        store->load_users();
        ADD_FAILURE() << "accepted";
      } catch (const StoreError& e) {
        EXPECT_NE(std::string(e.what()).find("load_users: cached user u1 has unreadable fields"),
                  std::string::npos)
            << e.what();
      }
    }
  }
}

TEST_F(SqliteStoreTest, ValuesThatAreNotUtf8AreRefusedBeforeAnyWrite) {
  auto store = open_writer();
  store->replace_users({sample_user("u1")}, "2026-03-01T10:00:00Z");
  for (const std::string bad : {"\xff",
                                "\xc3",
                                "\xc0\xaf",
                                "\xed\xa0\x80",
                                "ok\xf4\x90\x80\x80",
                                "sixteen ascii bytes then \xe2\x82"}) {
    auto u = sample_user("u2");
    u.fields.set("jobTitle", bad);
    EXPECT_THROW(store->replace_users({sample_user("u3"), u}, "2026-03-02T10:00:00Z"), StoreError);
    EXPECT_THROW(store->upsert_user(u), StoreError);
  }
  EXPECT_EQ(store->load_users(), std::vector<DirectoryUser>{sample_user("u1")});
  EXPECT_EQ(store->last_full_refresh(), "2026-03-01T10:00:00Z");
}

TEST_F(SqliteStoreTest, ABulkRefreshKeepsTheLookupIndexes) {
  // 10,000 rows or more take the path that rebuilds the indexes.
  std::vector<DirectoryUser> users;
  for (int i = 0; i < 12000; ++i) {
    users.push_back(sample_user("u" + std::to_string(100000 + i)));
  }
  auto store = open_writer();
  store->replace_users(users, "2026-03-01T10:00:00Z");
  EXPECT_EQ(store->load_users(), users);

  SQLite::Database db(m_path, SQLite::OPEN_READONLY);
  std::vector<std::string> indexes;
  SQLite::Statement select(db,
                           "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name = 'users' AND sql IS NOT NULL ORDER BY name");
  while (select.executeStep()) {
    indexes.push_back(select.getColumn(0).getString());
  }
  EXPECT_EQ(indexes,
            (std::vector<std::string>{
                "users_email_lower", "users_employee_identifier", "users_username_lower"}));
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM users WHERE email_lower = 'u100042@example.com'")
                .getInt(),
            1);
}

TEST_F(SqliteStoreTest, DataSurvivesAReopen) {
  JournalEntry entry;
  entry.run_id = "run-1";
  entry.action = Action::create;
  entry.employee_id = "E2";
  entry.payload = R"({"action":"create"})";
  entry.created_at = "2026-03-01T10:00:00Z";
  AuditRecord record;
  record.time = "2026-03-01T10:00:01Z";
  record.run_id = "run-1";
  record.action = Action::update;
  record.employee_id = "E1";
  record.user_id = "u1";
  record.fields = {{"jobTitle", std::nullopt, "Engineer"}};
  record.policy_hash = "sha256:abc";
  record.outcome = "ok";
  RunRecord run{"run-1", "2026-03-01T10:00:00Z", "", "apply", "sha256:abc", "", ""};
  {
    auto store = open_writer();
    store->replace_users({sample_user("u1"), sample_user("u2")}, "2026-03-01T09:00:00Z");
    store->upsert_link({"E1", "u1", true});
    entry.id = store->add_intent(entry);
    store->append_audit(record);
    store->start_run(run);
  }
  record.id = 1;

  auto check = [&](const StateStore& store) {
    EXPECT_EQ(store.load_users(),
              (std::vector<DirectoryUser>{sample_user("u1"), sample_user("u2")}));
    EXPECT_EQ(store.last_full_refresh(), "2026-03-01T09:00:00Z");
    EXPECT_EQ(store.load_links(), (std::vector<Link>{{"E1", "u1", true}}));
    EXPECT_EQ(store.pending_intents(), std::vector<JournalEntry>{entry});
    EXPECT_EQ(store.audit("", 0), std::vector<AuditRecord>{record});
    EXPECT_EQ(store.recent_runs(0), std::vector<RunRecord>{run});
  };
  {
    SCOPED_TRACE("writer");
    check(*open_writer());
  }
  {
    SCOPED_TRACE("read_only");
    check(*open_reader());
  }
}

TEST_F(SqliteStoreTest, AnInMemoryDatabaseNeedsNoFile) {
  const auto cwd = fs::current_path();
  fs::current_path(m_dir);
  {
    auto store = SqliteStore::open(":memory:", OpenMode::writer);
    store->upsert_user(sample_user("u1"));
    EXPECT_EQ(store->load_users(), std::vector<DirectoryUser>{sample_user("u1")});
  }
  const bool left_files = !fs::is_empty(m_dir);
  fs::current_path(cwd);
  EXPECT_FALSE(left_files);
}

} // namespace
} // namespace bobsync::state
