#include "state/sqlite/migrations.hpp"

#include "state/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <string_view>

namespace bobsync::state::sqlite {
namespace {

// Append-only: never edit a migration that has shipped; add one instead.
// Entry N upgrades schema version N to N + 1.
constexpr std::array<std::string_view, 1> k_migrations = {
    // 0 -> 1: the initial schema.
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('STAGED', 'ACTIVATED', 'SUSPENDED')),
  fields TEXT NOT NULL,                          -- JSON object: JumpCloud field -> value
  email_lower TEXT NOT NULL DEFAULT '',          -- lookups by email, any case
  employee_identifier TEXT NOT NULL DEFAULT '',
  username_lower TEXT NOT NULL DEFAULT ''
);
CREATE INDEX users_email_lower ON users (email_lower);
CREATE INDEX users_employee_identifier ON users (employee_identifier);
CREATE INDEX users_username_lower ON users (username_lower);

CREATE TABLE links (
  employee_id TEXT PRIMARY KEY NOT NULL,         -- Bob id
  user_id TEXT NOT NULL UNIQUE,                  -- JumpCloud _id
  suspended_as_leaver INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);

CREATE TABLE journal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  action TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  payload TEXT NOT NULL,                         -- the Change as JSON
  created_at TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  settled_at TEXT
);
CREATE INDEX journal_pending ON journal (id) WHERE state = 'pending';

CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  run_id TEXT NOT NULL,
  action TEXT NOT NULL,
  employee_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  fields TEXT NOT NULL,                          -- JSON array of {name, old, new}; old null = none
  policy_hash TEXT NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX audit_employee ON audit (employee_id, id);

CREATE TABLE runs (                              -- rowid order = start order
  id TEXT PRIMARY KEY NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  policy_hash TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT ''
);

CREATE TABLE meta (                              -- e.g. last_full_refresh
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
)sql",
};

int current_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

void refuse_newer(int version, const std::string& path) {
  if (version > schema_version()) {
    throw StoreError("state database " + path + " has schema version " + std::to_string(version)
                     + ", newer than this bobsync supports (version "
                     + std::to_string(schema_version()) + "); use a newer bobsync");
  }
}

} // namespace

int schema_version() {
  return static_cast<int>(k_migrations.size());
}

void migrate(SQLite::Database& db, const std::string& path) {
  const int version = current_version(db);
  refuse_newer(version, path);
  if (version < 0) {
    throw StoreError("state database " + path + " has an invalid schema version "
                     + std::to_string(version));
  }
  for (auto v = static_cast<std::size_t>(version); v < k_migrations.size(); ++v) {
    // RAII: rolled back unless committed, so a failed step leaves version v.
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(std::string(k_migrations.at(v)));
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    transaction.commit();
  }
}

void require_current(SQLite::Database& db, const std::string& path) {
  const int version = current_version(db);
  refuse_newer(version, path);
  if (version == 0) {
    // Not an old bobsync database: an empty file, or (far likelier when it
    // has a size) a copy of a live one taken without its -wal file, whose
    // schema was still in the WAL. "Upgrade it with apply" would be wrong
    // advice: apply would start it afresh, with an empty history.
    throw StoreError("state database " + path
                     + " holds no bobsync schema (schema version 0): it is empty, or a copy "
                       "of a database taken without its -wal file (back up with sqlite3's "
                       "\".backup\", see docs/operations.md). Nothing was read; 'bobsync apply' "
                       "would start it as a new database with an empty history");
  }
  if (version < schema_version()) {
    throw StoreError(
        "state database " + path + " has schema version " + std::to_string(version)
        + ", older than this bobsync's (version " + std::to_string(schema_version())
        + "); it cannot be upgraded read-only: run `bobsync apply` once to upgrade it");
  }
}

} // namespace bobsync::state::sqlite
