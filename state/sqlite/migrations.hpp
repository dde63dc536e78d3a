#pragma once

// The SQLite schema as an append-only list of forward migrations, keyed by
// `PRAGMA user_version`: migration N upgrades a database at version N to
// N + 1. Used by SqliteStore only (it keeps SQLiteCpp out of other headers).

#include <string>

namespace SQLite {
class Database;
}

namespace bobsync::state::sqlite {

// The schema version this binary writes and reads (the number of migrations).
int schema_version();

// Brings the database up to schema_version(), each step in its own
// transaction. Throws StoreError (naming `path` and both versions) when the
// database is newer than this binary; SQLite::Exception on SQL failures.
void migrate(SQLite::Database& db, const std::string& path);

// For read-only connections, which cannot migrate: throws StoreError unless
// the database is exactly at schema_version().
void require_current(SQLite::Database& db, const std::string& path);

} // namespace bobsync::state::sqlite
