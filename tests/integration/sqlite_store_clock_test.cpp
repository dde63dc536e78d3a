// The times SqliteStore stamps itself come from the clock it was opened with.

#include "state/sqlite/sqlite_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace bobsync::state {
namespace {

namespace fs = std::filesystem;

TEST(SqliteStoreClock, LinkAndSettleTimesComeFromTheInjectedClock) {
  auto pattern = (fs::temp_directory_path() / "bobsync-clock-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const fs::path dir = pattern;
  const auto path = (dir / "state.db").string();
  // 2031-01-02T03:04:05Z: far from the real date, so the system clock cannot pass.
  const auto when = std::chrono::sys_days{std::chrono::year{2031} / 1 / 2} + std::chrono::hours(3)
                    + std::chrono::minutes(4) + std::chrono::seconds(5);
  {
    auto store = SqliteStore::open(path, OpenMode::writer, "bobsync", [when] { return when; });
    store->upsert_link({"e1", "u1", false});
    JournalEntry intent;
    intent.run_id = "r1";
    intent.action = Action::update;
    intent.employee_id = "e1";
    intent.user_id = "u1";
    intent.payload = "{}";
    intent.created_at = "2031-01-02T03:00:00Z";
    SettledChange settled;
    settled.journal_id = store->add_intent(intent);
    settled.ok = true;
    settled.audit.run_id = "r1";
    settled.audit.employee_id = "e1";
    settled.audit.outcome = "ok";
    store->settle(settled); // no audit time: the store stamps settled_at
  }

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT updated_at FROM links WHERE employee_id = 'e1'").getString(),
            "2031-01-02T03:04:05Z");
  EXPECT_EQ(db.execAndGet("SELECT settled_at FROM journal").getString(), "2031-01-02T03:04:05Z");
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

} // namespace
} // namespace bobsync::state
