#include "state/sqlite/sqlite_store.hpp"

#include "state/sqlite/fields_codec.hpp"
#include "state/sqlite/migrations.hpp"
#include "state/util/ascii.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <simdjson.h>
#include <sqlite3.h>
#include <string_view>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>
#include <utility>

namespace bobsync::state {
namespace {

constexpr int k_busy_timeout_ms = 5000;
constexpr const char* k_memory_path = ":memory:";
constexpr const char* k_last_full_refresh_key = "last_full_refresh";
// replace_users rebuilds the users indexes when it writes at least this many rows.
constexpr std::size_t k_bulk_rows = 10000;

std::string errno_text(int error) {
  return std::strerror(error);
}

std::string format_utc(std::chrono::system_clock::time_point when) {
  const auto now = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&now, &parts);
  std::array<char, 32> text{};
  const auto length = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text.data(), length);
}

// Owns a file descriptor; closes it unless released.
class Fd {
public:
  explicit Fd(int fd)
      : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept
      : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  ~Fd() { reset(-1); }
  int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }
  void reset(int fd) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }

private:
  int m_fd;
};

// "held by <holder> (pid N)" from what the lock holder wrote ("N holder\n"),
// or "held by an unknown process" while it has not written it yet.
std::string lock_holder(int fd) {
  std::array<char, 256> buffer{};
  const auto got = ::pread(fd, buffer.data(), buffer.size() - 1, 0);
  const std::string text(buffer.data(), got > 0 ? static_cast<std::size_t>(got) : 0);
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return "held by an unknown process";
  }
  const std::string pid = text.substr(0, digits);
  std::string holder;
  for (std::size_t i = digits + 1; i < text.size() && text[i] != '\n'; ++i) {
    const char c = text[i];
    holder.push_back(c >= ' ' && c != '\x7f' ? c : '?');
  }
  return "held by " + (holder.empty() ? std::string("bobsync") : holder) + " (pid " + pid + ")";
}

// The path the database file really has: symlinks and "..", "." resolved,
// so that every name of one file finds the same lock. The file must exist.
std::string resolved_path(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    throw StoreError("cannot resolve state database path " + path + ": " + errno_text(errno));
  }
  std::string result(resolved);
  std::free(resolved); // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
  return result;
}

// Takes the one-writer lock on "<resolved path>.lock" (created 0600) and
// writes "<pid> <holder>" into it. The lock file is named by the database's
// resolved path, not by the name it was opened by: a symlink or another
// spelling of the path meets the same lock. flock() locks belong to the open
// file description, so the kernel releases it when the process dies, however
// it dies: a crashed apply never leaves a stale lock behind.
Fd acquire_writer_lock(const std::string& path, const std::string& holder) {
  const std::string lock_path = resolved_path(path) + ".lock";
  Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    throw StoreError("cannot create lock file " + lock_path + ": " + errno_text(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      throw StoreError("another bobsync process is applying to " + path + ": "
                       + lock_holder(fd.get()) + "; wait for it to finish or stop it");
    }
    throw StoreError("cannot lock " + lock_path + ": " + errno_text(error));
  }
  const std::string record = std::to_string(::getpid()) + " " + holder + "\n";
  if (::ftruncate(fd.get(), 0) != 0
      || ::pwrite(fd.get(), record.data(), record.size(), 0)
             != static_cast<ssize_t>(record.size())) {
    throw StoreError("cannot write lock file " + lock_path + ": " + errno_text(errno));
  }
  return fd;
}

// Creates the database file with mode 0600 before SQLite sees it (SQLite
// would create it 0644 less the umask) and tightens an existing one: it
// holds personal data. SQLite gives the -wal and -shm files the database
// file's mode.
void create_private_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    throw StoreError("cannot create state database " + path + ": " + errno_text(errno));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) == 0 && (info.st_mode & 0777) != 0600) {
    // Best effort: a file owned by someone else keeps its mode.
    static_cast<void>(::fchmod(fd.get(), 0600));
  }
}

void require_existing_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    const int error = errno;
    if (error == ENOENT) {
      throw StoreError("state database " + path
                       + " does not exist (nothing has been applied with it yet)");
    }
    throw StoreError("cannot open state database " + path + ": " + errno_text(error));
  }
}

void configure_writer(SQLite::Database& db, const std::string& path, bool memory) {
  // Only takes effect on a new database (before its first table). 16 KiB
  // pages suit rows of about 1 KB: a full refresh writes 15% faster.
  db.exec("PRAGMA page_size = 16384");
  if (!memory) {
    const auto journal_mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (journal_mode != "wal") {
      throw StoreError("state database " + path + ": cannot switch to WAL journal mode (got "
                       + journal_mode + ")");
    }
  }
  // FULL, not NORMAL: in WAL mode NORMAL survives a killed process but may
  // lose the last commits on power loss. A lost journal intent or audit
  // record would hide a write JumpCloud did make, and the audit log is kept
  // forever. The cost is one fsync of the WAL per commit (measured on the
  // 2-core CI machine: 1.7 ms against 0.05 ms), small beside the HTTP call
  // each intent and settle stand for; replace_users is one commit.
  db.exec("PRAGMA synchronous = FULL");
}

// A database SQLite finds damaged is refused before anything reads or
// writes it: a damaged index can hide links and users, which would plan
// re-creates. quick_check reads every page once (about 0.1 s per 100 MB)
// but skips the index-to-table cross-check of integrity_check.
[[noreturn]] void refuse_damaged(const std::string& path, const std::string& detail) {
  throw StoreError("state database " + path + " is damaged (SQLite's integrity check: " + detail
                   + "); nothing was done. Restore it from a backup, or move it (with its -wal "
                     "and -shm files) aside to start a new one: the links to JumpCloud users "
                     "are rebuilt from their bobEmployeeId attribute on the next pass");
}

void check_integrity(SQLite::Database& db, const std::string& path) {
  std::string detail;
  try {
    SQLite::Statement check(db, "PRAGMA quick_check(3)");
    while (check.executeStep()) {
      const auto line = check.getColumn(0).getString();
      if (line == "ok") {
        return;
      }
      detail += (detail.empty() ? "" : "; ") + line;
    }
  } catch (const SQLite::Exception& e) {
    if ((e.getErrorCode() & 0xFF) != SQLITE_CORRUPT) {
      throw;
    }
    detail = e.what();
  }
  refuse_damaged(path, detail.empty() ? "no answer" : detail);
}

// --- JSON columns

// users.fields holds a JSON object of strings with the keys in FlatMap
// order. It is written and read here by hand, not through nlohmann::json: a
// full refresh writes and load_users reads 100,000 of them, and the DOM (or
// SAX) path cost 0.5 s to write and 0.9 s to read them (measured), several
// times the SQLite work. The text is plain JSON: nlohmann::json and SQLite's
// json_extract() read it.

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view text) {
  constexpr std::uint64_t k_high_bits = 0x8080808080808080ULL;
  std::size_t i = 0;
  while (i < text.size()) {
    // Fast path: eight ASCII bytes at a time.
    std::uint64_t chunk = 0;
    if (text.size() - i >= sizeof chunk) {
      std::memcpy(&chunk, text.data() + i, sizeof chunk);
      if ((chunk & k_high_bits) == 0) {
        i += sizeof chunk;
        continue;
      }
    }
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint32_t code = 0;
    if ((lead & 0xE0U) == 0xC0U) {
      length = 2;
      code = lead & 0x1FU;
    } else if ((lead & 0xF0U) == 0xE0U) {
      length = 3;
      code = lead & 0x0FU;
    } else if ((lead & 0xF8U) == 0xF0U) {
      length = 4;
      code = lead & 0x07U;
    } else {
      return false;
    }
    if (text.size() - i < length) {
      return false;
    }
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0U) != 0x80U) {
        return false;
      }
      code = (code << 6U) | (next & 0x3FU);
    }
    const bool overlong = (length == 2 && code < 0x80) || (length == 3 && code < 0x800)
                          || (length == 4 && code < 0x10000);
    if (overlong || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

// Bytes JSON strings cannot hold as they are: controls, '"' and '\\'.
constexpr std::array<bool, 256> k_needs_escape = [] {
  std::array<bool, 256> table{};
  for (std::size_t c = 0; c < 0x20; ++c) {
    table.at(c) = true;
  }
  table.at('"') = true;
  table.at('\\') = true;
  return table;
}();

void append_json_string(std::string& out, std::string_view text) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain = 0; // start of the run of bytes copied as they are
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!k_needs_escape[c]) {
      continue;
    }
    out.append(text.substr(plain, i - plain));
    plain = i + 1;
    switch (c) {
    case '"':
      out.append("\\\"");
      break;
    case '\\':
      out.append("\\\\");
      break;
    case '\n':
      out.append("\\n");
      break;
    case '\r':
      out.append("\\r");
      break;
    case '\t':
      out.append("\\t");
      break;
    default:
      out.append("\\u00");
      out.push_back(k_hex[c >> 4U]);
      out.push_back(k_hex[c & 0xFU]);
      break;
    }
  }
  out.append(text.substr(plain));
  out.push_back('"');
}

// Throws StoreError naming the user and field when a value is not UTF-8
// (JSON cannot carry it; JumpCloud never sends it).
std::string encode_fields(const DirectoryUser& user) {
  std::size_t size = 2;
  for (const auto& [name, value] : user.fields) {
    size += name.size() + value.size() + 6;
  }
  std::string out;
  out.reserve(size);
  out.push_back('{');
  for (const auto& [name, value] : user.fields) {
    if (!valid_utf8(name) || !valid_utf8(value)) {
      throw StoreError("user " + user.id + ": field '"
                       + (valid_utf8(name) ? std::string(name) : std::string("?"))
                       + "' is not valid UTF-8");
    }
    if (out.size() > 1) {
      out.push_back(',');
    }
    append_json_string(out, name);
    out.push_back(':');
    append_json_string(out, value);
  }
  out.push_back('}');
  return out;
}

// Reads what encode_fields wrote (and any JSON object of strings; a repeated
// name's last value wins), with simdjson's On Demand API, as the JumpCloud
// adapter reads JumpCloud's users; nullopt for anything else (not UTF-8, a
// value that is not a string, trailing bytes). The parser and a padded copy
// of the text (simdjson reads SIMDJSON_PADDING bytes past the end; zeroed, so
// a truncated text cannot borrow a stale byte) are kept per thread.
std::optional<FlatMap<std::string>> parse_fields(std::string_view text) {
  namespace od = simdjson::ondemand;
  struct Buffers {
    od::parser parser;
    std::string padded;
  };
  thread_local Buffers buffers;
  auto& padded = buffers.padded;
  if (padded.size() < text.size() + simdjson::SIMDJSON_PADDING) {
    padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  }
  const auto end = std::copy(text.begin(), text.end(), padded.begin());
  std::fill(end, end + simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  od::object object;
  if (buffers.parser.iterate(padded.data(), text.size(), padded.size()).get(doc)
          != simdjson::SUCCESS
      || doc.get_object().get(object) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  FlatMap<std::string> fields;
  for (auto member : object) {
    od::field field;
    std::string_view name;
    std::string_view value;
    if (std::move(member).get(field) != simdjson::SUCCESS
        || field.unescaped_key().get(name) != simdjson::SUCCESS
        || field.value().get_string().get(value) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    fields.set(name, std::string(value));
  }
  const char* rest = nullptr; // OUT_OF_BOUNDS: nothing but whitespace is left
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    return std::nullopt;
  }
  return fields;
}

FlatMap<std::string> decode_fields(std::string_view text, std::string_view user_id) {
  auto fields = parse_fields(text);
  if (!fields) {
    throw StoreError("cached user " + std::string(user_id)
                     + " has unreadable fields (not a JSON object of strings)");
  }
  return std::move(*fields);
}

std::string field_changes_to_json(const std::vector<FieldChange>& changes) {
  auto array = nlohmann::json::array();
  for (const auto& change : changes) {
    nlohmann::json item = {{"name", change.name}, {"new", change.new_value}};
    item["old"] = change.old_value ? nlohmann::json(*change.old_value) : nlohmann::json(nullptr);
    array.push_back(std::move(item));
  }
  return array.dump();
}

std::vector<FieldChange> field_changes_from_json(const std::string& text) {
  const auto array = nlohmann::json::parse(text);
  std::vector<FieldChange> changes;
  changes.reserve(array.size());
  for (const auto& item : array) {
    FieldChange change;
    change.name = item.at("name").get<std::string>();
    change.new_value = item.at("new").get<std::string>();
    const auto& old_value = item.at("old");
    if (!old_value.is_null()) {
      change.old_value = old_value.get<std::string>();
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

// --- enums as text

Action action_from_text(const std::string& text) {
  const auto action = parse_action(text);
  if (!action) {
    throw StoreError("unknown action '" + text + "'");
  }
  return *action;
}

UserState user_state_from_text(const std::string& text, const std::string& user_id) {
  const auto state = parse_user_state(text);
  if (!state) {
    throw StoreError("cached user " + user_id + " has an unknown state '" + text + "'");
  }
  return *state;
}

// --- statements shared by several operations (the caller holds the lock and
// a transaction where it needs one)

void require_user_id(const DirectoryUser& user) {
  if (user.id.empty()) {
    throw StoreError("a JumpCloud user without an id cannot be cached");
  }
}

void require_link_ids(const Link& link) {
  if (link.employee_id.empty() || link.user_id.empty()) {
    throw StoreError("a link needs both a Bob id and a JumpCloud id (employee '" + link.employee_id
                     + "', user '" + link.user_id + "')");
  }
}

constexpr const char* k_insert_user =
    "INSERT OR REPLACE INTO users (id, state, fields, email_lower, employee_identifier, "
    "username_lower) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// Binds and runs k_insert_user with `fields` = encode_fields(user); the
// statement is reset for reuse.
void write_user(SQLite::Statement& insert, const DirectoryUser& user, const std::string& fields) {
  const std::string email = ascii_lower(user.get("email"));
  const std::string username = ascii_lower(user.get("username"));
  const std::string employee_identifier(user.get("employeeIdentifier"));
  insert.reset();
  insert.bindNoCopy(1, user.id);
  insert.bind(2, std::string(to_string(user.state)));
  insert.bindNoCopy(3, fields);
  insert.bindNoCopy(4, email);
  insert.bindNoCopy(5, employee_identifier);
  insert.bindNoCopy(6, username);
  insert.exec();
  insert.reset(); // drop the references to the local strings
}

void write_user(SQLite::Database& db, const DirectoryUser& user) {
  require_user_id(user);
  const std::string fields = encode_fields(user);
  SQLite::Statement insert(db, k_insert_user);
  write_user(insert, user, fields);
}

// Writes links with its two statements prepared once: rebuilding 100,000
// links from the link attribute would otherwise parse SQL 200,000 times.
class LinkWriter {
public:
  explicit LinkWriter(SQLite::Database& db)
      // One user belongs to one employee: relinking moves it.
      : m_drop(db, "DELETE FROM links WHERE user_id = ?1 AND employee_id <> ?2"),
        m_upsert(db,
                 "INSERT INTO links (employee_id, user_id, suspended_as_leaver, "
                 "updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (employee_id) DO "
                 "UPDATE SET user_id = excluded.user_id, suspended_as_leaver = "
                 "excluded.suspended_as_leaver, updated_at = excluded.updated_at") {}

  void write(const Link& link, const std::string& updated_at) {
    require_link_ids(link);
    m_drop.reset();
    m_drop.bind(1, link.user_id);
    m_drop.bind(2, link.employee_id);
    m_drop.exec();
    m_upsert.reset();
    m_upsert.bind(1, link.employee_id);
    m_upsert.bind(2, link.user_id);
    m_upsert.bind(3, link.suspended_as_leaver ? 1 : 0);
    m_upsert.bind(4, updated_at);
    m_upsert.exec();
  }

private:
  SQLite::Statement m_drop;
  SQLite::Statement m_upsert;
};

void write_link(SQLite::Database& db, const Link& link, const std::string& updated_at) {
  LinkWriter(db).write(link, updated_at);
}

void write_audit(SQLite::Database& db, const AuditRecord& record) {
  SQLite::Statement insert(db,
                           "INSERT INTO audit (time, run_id, action, employee_id, user_id, "
                           "fields, policy_hash, outcome, message) VALUES (?1, ?2, ?3, ?4, ?5, "
                           "?6, ?7, ?8, ?9)");
  insert.bind(1, record.time);
  insert.bind(2, record.run_id);
  insert.bind(3, std::string(to_string(record.action)));
  insert.bind(4, record.employee_id);
  insert.bind(5, record.user_id);
  insert.bind(6, field_changes_to_json(record.fields));
  insert.bind(7, record.policy_hash);
  insert.bind(8, record.outcome);
  insert.bind(9, record.message);
  insert.exec();
}

// `user_fields`: encode_fields(*change.user), made (and so checked) before.
void settle_in(SQLite::Database& db,
               const SettledChange& change,
               const std::string& user_fields,
               const std::string& now) {
  SQLite::Statement update(db,
                           "UPDATE journal SET state = ?1, settled_at = ?2, user_id = CASE WHEN "
                           "?3 <> '' THEN ?3 ELSE user_id END WHERE id = ?4 AND state = "
                           "'pending'");
  update.bind(1, change.ok ? "done" : "failed");
  update.bind(2, change.audit.time.empty() ? now : change.audit.time);
  update.bind(3, change.audit.user_id);
  update.bind(4, change.journal_id);
  if (update.exec() == 0) {
    SQLite::Statement select(db, "SELECT state FROM journal WHERE id = ?1");
    select.bind(1, change.journal_id);
    if (!select.executeStep()) {
      throw StoreError("no journal entry " + std::to_string(change.journal_id));
    }
    throw StoreError("journal entry " + std::to_string(change.journal_id) + " is already "
                     + select.getColumn(0).getString());
  }
  if (change.user) {
    SQLite::Statement insert(db, k_insert_user);
    write_user(insert, *change.user, user_fields);
  }
  if (change.link) {
    write_link(db, *change.link, now);
  }
  write_audit(db, change.audit);
}

} // namespace

std::string sqlite_detail::encode_user_fields(const DirectoryUser& user) {
  return encode_fields(user);
}

FlatMap<std::string> sqlite_detail::decode_user_fields(std::string_view text,
                                                       std::string_view user_id) {
  return decode_fields(text, user_id);
}

// What waits to be committed. An intent's thread waits for it (its id or
// error); a settle's does not.
struct SqliteStore::GroupCommit {
  struct Item {
    std::optional<JournalEntry> intent;
    std::optional<SettledChange> settle;
    std::string user_fields;  // the settle's user, encoded (checked before queueing)
    std::string now;          // a settle's time when its audit record has none
    std::int64_t id = 0;      // the intent's, once committed
    std::exception_ptr error; // the commit's failure
  };
  static constexpr auto k_max_delay = std::chrono::milliseconds(200);
  static constexpr std::size_t k_max_queued = 512;

  std::mutex mutex; // taken after the store's m_mutex, never before
  std::condition_variable_any wake;
  std::vector<std::shared_ptr<Item>> queue;
  std::chrono::steady_clock::time_point oldest; // of the queued settles
  std::size_t settles = 0;                      // queued
  std::unordered_set<std::int64_t> unsettled;   // intents added here, not yet settled
  std::exception_ptr deferred_error;            // a queued settle's failed commit
  std::int64_t commits = 0;
  std::jthread flusher; // started by the first queued settle
};

template<typename Body> auto SqliteStore::guarded(const char* operation, Body&& body) const {
  const std::lock_guard lock(m_mutex);
  const auto fail = [&](const char* what) {
    return StoreError("state database " + m_path + ": " + operation + ": " + what);
  };
  try {
    commit_queued(*m_db);
    return body(*m_db);
  } catch (const SQLite::Exception& e) {
    throw fail(e.what());
  } catch (const nlohmann::json::exception& e) {
    throw fail(e.what());
  } catch (const StoreError& e) {
    throw fail(e.what());
  }
}

void SqliteStore::commit_queued(SQLite::Database& db) const {
  std::vector<std::shared_ptr<GroupCommit::Item>> batch;
  {
    const std::lock_guard lock(m_group->mutex);
    batch.swap(m_group->queue);
    m_group->settles = 0;
  }
  if (batch.empty()) {
    return;
  }
  try {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    std::unique_ptr<SQLite::Statement> insert;
    for (auto& item : batch) {
      if (item->intent) {
        const auto& entry = *item->intent;
        if (!insert) {
          insert = std::make_unique<SQLite::Statement>(
              db,
              "INSERT INTO journal (run_id, action, employee_id, user_id, payload, created_at, "
              "state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')");
        }
        insert->reset();
        insert->bind(1, entry.run_id);
        insert->bind(2, std::string(to_string(entry.action)));
        insert->bind(3, entry.employee_id);
        insert->bind(4, entry.user_id);
        insert->bind(5, entry.payload);
        insert->bind(6, entry.created_at);
        insert->exec();
        item->id = db.getLastInsertRowid();
      } else {
        settle_in(db, *item->settle, item->user_fields, item->now);
      }
    }
    transaction.commit();
  } catch (const std::exception& e) {
    const auto error = std::make_exception_ptr(
        StoreError("state database " + m_path + ": commit of " + std::to_string(batch.size())
                   + " journal writes: " + e.what()));
    const std::lock_guard lock(m_group->mutex);
    for (auto& item : batch) {
      item->error = error;
      if (item->settle && !m_group->deferred_error) {
        m_group->deferred_error = error;
      }
    }
    return;
  }
  const std::lock_guard lock(m_group->mutex);
  ++m_group->commits;
  for (const auto& item : batch) {
    if (item->intent) {
      m_group->unsettled.insert(item->id);
    }
  }
}

std::int64_t SqliteStore::group_commits() const {
  const std::lock_guard lock(m_group->mutex);
  return m_group->commits;
}

void SqliteStore::start_flusher() {
  m_group->flusher = std::jthread([this](std::stop_token stop) {
    std::unique_lock lock(m_group->mutex);
    while (!stop.stop_requested()) {
      if (m_group->settles == 0) {
        m_group->wake.wait(lock, stop, [this] { return m_group->settles > 0; });
        continue;
      }
      const auto due = m_group->oldest + GroupCommit::k_max_delay;
      if (m_group->wake.wait_until(lock, stop, due, [] { return false; })
          || stop.stop_requested()) {
        continue;
      }
      lock.unlock();
      try {
        guarded("flush", [](SQLite::Database&) {});
      } catch (const StoreError&) {
        // commit_queued kept the error for the next flush() or settle()
      }
      lock.lock();
    }
  });
}

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path,
                                               OpenMode mode,
                                               const std::string& holder,
                                               WallClock clock) {
  if (path.empty()) {
    throw StoreError("state database path is empty");
  }
  const bool memory = path == k_memory_path;
  const bool writable = memory || mode == OpenMode::writer;
  Fd lock(-1);
  if (!memory && mode == OpenMode::writer) {
    create_private_file(path); // first: the lock is named by the file's resolved path
    lock = acquire_writer_lock(path, holder);
  } else if (!memory) {
    require_existing_file(path);
  }
  try {
    const int flags =
        writable ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE : SQLite::OPEN_READONLY;
    auto db = std::make_unique<SQLite::Database>(path, flags, k_busy_timeout_ms);
    db->exec("PRAGMA foreign_keys = ON");
    if (!memory) {
      check_integrity(*db, path);
    }
    if (writable) {
      configure_writer(*db, path, memory);
      sqlite::migrate(*db, path);
    } else {
      sqlite::require_current(*db, path);
    }
    return std::unique_ptr<SqliteStore>(
        new SqliteStore(path, mode, lock.release(), std::move(db), std::move(clock)));
  } catch (const SQLite::Exception& e) {
    throw StoreError("state database " + path + ": open: " + e.what());
  }
}

SqliteStore::SqliteStore(std::string path,
                         OpenMode mode,
                         int lock_fd,
                         std::unique_ptr<SQLite::Database> db,
                         WallClock clock)
    : m_path(std::move(path)),
      m_mode(mode),
      m_lock_fd(lock_fd),
      m_db(std::move(db)),
      m_clock(std::move(clock)),
      m_group(std::make_unique<GroupCommit>()) {}

std::string SqliteStore::now_utc() const {
  return format_utc(m_clock ? m_clock() : std::chrono::system_clock::now());
}

SqliteStore::~SqliteStore() {
  if (m_group->flusher.joinable()) {
    m_group->flusher.request_stop();
    m_group->flusher.join();
  }
  try {
    flush();
  } catch (const StoreError&) {
    // Not durable: the intents stay pending, and the next run's recovery
    // settles them from what JumpCloud holds.
  }
  m_db.reset(); // checkpoint and close before another writer may start
  if (m_lock_fd >= 0) {
    ::close(m_lock_fd); // releases the flock
  }
}

void SqliteStore::replace_users(const std::vector<DirectoryUser>& users,
                                const std::string& refreshed_at) {
  guarded("replace_users", [&](SQLite::Database& db) {
    // Encode first (an invalid user fails before any write), in id order; of
    // two users with one id the later wins.
    struct Row {
      const DirectoryUser* user;
      std::string fields;
    };
    std::vector<Row> rows;
    rows.reserve(users.size());
    for (const auto& user : users) {
      require_user_id(user);
      rows.push_back(Row{&user, encode_fields(user)});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return a.user->id < b.user->id;
    });
    const auto kept = std::unique(rows.rbegin(), rows.rend(), [](const Row& a, const Row& b) {
      return a.user->id == b.user->id;
    });
    rows.erase(rows.begin(), kept.base()); // unique() kept the last of each id at the end

    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    // A refresh mostly finds what is cached: merge both id-sorted lists and
    // write only the users that changed, appeared or vanished.
    std::vector<std::string> vanished;
    std::vector<const Row*> changed;
    {
      SQLite::Statement select(db, "SELECT id, state, fields FROM users ORDER BY id");
      auto next = rows.cbegin();
      while (select.executeStep()) {
        const auto column = [&](int i) {
          const auto value = select.getColumn(i);
          return std::string_view(value.getText(), static_cast<std::size_t>(value.getBytes()));
        };
        const auto id = column(0);
        for (; next != rows.cend() && std::string_view(next->user->id) < id; ++next) {
          changed.push_back(&*next);
        }
        if (next != rows.cend() && next->user->id == id) {
          if (column(1) != to_string(next->user->state) || column(2) != next->fields) {
            changed.push_back(&*next);
          }
          ++next;
        } else {
          vanished.emplace_back(id);
        }
      }
      for (; next != rows.cend(); ++next) {
        changed.push_back(&*next);
      }
    }
    SQLite::Statement remove(db, "DELETE FROM users WHERE id = ?1");
    for (const auto& id : vanished) {
      remove.bindNoCopy(1, id);
      remove.exec();
      remove.reset();
    }
    // Many rows to write (a first refresh): building the lookup indexes
    // afterwards is faster than updating them row by row.
    std::vector<std::pair<std::string, std::string>> indexes; // name, CREATE statement
    if (changed.size() >= k_bulk_rows) {
      SQLite::Statement select(db,
                               "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                               "tbl_name = 'users' AND sql IS NOT NULL");
      while (select.executeStep()) {
        indexes.emplace_back(select.getColumn(0).getString(), select.getColumn(1).getString());
      }
      for (const auto& [name, sql] : indexes) {
        db.exec("DROP INDEX \"" + name + "\"");
      }
    }
    {
      SQLite::Statement insert(db, k_insert_user);
      for (const auto* row : changed) {
        write_user(insert, *row->user, row->fields);
      }
    }
    for (const auto& [name, sql] : indexes) {
      db.exec(sql);
    }
    SQLite::Statement meta(db,
                           "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO "
                           "UPDATE SET value = excluded.value");
    meta.bind(1, k_last_full_refresh_key);
    meta.bind(2, refreshed_at);
    meta.exec();
    transaction.commit();
  });
}

void SqliteStore::upsert_user(const DirectoryUser& user) {
  guarded("upsert_user", [&](SQLite::Database& db) { write_user(db, user); });
}

std::vector<DirectoryUser> SqliteStore::load_users() const {
  return guarded("load_users", [&](SQLite::Database& db) {
    std::vector<DirectoryUser> users;
    users.reserve(static_cast<std::size_t>(db.execAndGet("SELECT count(*) FROM users").getInt64()));
    SQLite::Statement select(db, "SELECT id, state, fields FROM users ORDER BY id");
    while (select.executeStep()) {
      DirectoryUser user;
      user.id = select.getColumn(0).getString();
      user.state = user_state_from_text(select.getColumn(1).getString(), user.id);
      const auto fields = select.getColumn(2);
      user.fields = decode_fields(
          std::string_view(fields.getText(), static_cast<std::size_t>(fields.getBytes())), user.id);
      users.push_back(std::move(user));
    }
    return users;
  });
}

std::optional<std::string> SqliteStore::last_full_refresh() const {
  return guarded("last_full_refresh", [&](SQLite::Database& db) -> std::optional<std::string> {
    SQLite::Statement select(db, "SELECT value FROM meta WHERE key = ?1");
    select.bind(1, k_last_full_refresh_key);
    if (!select.executeStep()) {
      return std::nullopt;
    }
    return select.getColumn(0).getString();
  });
}

void SqliteStore::upsert_link(const Link& link) {
  guarded("upsert_link", [&](SQLite::Database& db) {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    write_link(db, link, now_utc());
    transaction.commit();
  });
}

void SqliteStore::upsert_links(const std::vector<Link>& links) {
  guarded("upsert_links", [&](SQLite::Database& db) {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto updated_at = now_utc();
    LinkWriter writer(db);
    for (const auto& link : links) {
      writer.write(link, updated_at);
    }
    transaction.commit();
  });
}

void SqliteStore::remove_link(const EmployeeId& employee_id) {
  guarded("remove_link", [&](SQLite::Database& db) {
    SQLite::Statement remove(db, "DELETE FROM links WHERE employee_id = ?1");
    remove.bind(1, employee_id);
    remove.exec();
  });
}

std::vector<Link> SqliteStore::load_links() const {
  return guarded("load_links", [&](SQLite::Database& db) {
    std::vector<Link> links;
    SQLite::Statement select(
        db, "SELECT employee_id, user_id, suspended_as_leaver FROM links ORDER BY employee_id");
    while (select.executeStep()) {
      links.push_back(Link{select.getColumn(0).getString(),
                           select.getColumn(1).getString(),
                           select.getColumn(2).getInt() != 0});
    }
    return links;
  });
}

std::int64_t SqliteStore::add_intent(const JournalEntry& entry) {
  auto item = std::make_shared<GroupCommit::Item>();
  item->intent = entry;
  {
    const std::lock_guard lock(m_group->mutex);
    m_group->queue.push_back(item);
  }
  // Whoever holds m_mutex now commits its batch; then this thread (or one
  // queued beside it) commits every item queued meanwhile, ours included.
  guarded("add_intent", [](SQLite::Database&) {});
  if (item->error) {
    std::rethrow_exception(item->error);
  }
  return item->id;
}

std::vector<JournalEntry> SqliteStore::pending_intents() const {
  return guarded("pending_intents", [&](SQLite::Database& db) {
    std::vector<JournalEntry> pending;
    SQLite::Statement select(db,
                             "SELECT id, run_id, action, employee_id, user_id, payload, "
                             "created_at, state FROM journal WHERE state = 'pending' ORDER BY id");
    while (select.executeStep()) {
      JournalEntry entry;
      entry.id = select.getColumn(0).getInt64();
      entry.run_id = select.getColumn(1).getString();
      entry.action = action_from_text(select.getColumn(2).getString());
      entry.employee_id = select.getColumn(3).getString();
      entry.user_id = select.getColumn(4).getString();
      entry.payload = select.getColumn(5).getString();
      entry.created_at = select.getColumn(6).getString();
      entry.state = select.getColumn(7).getString();
      pending.push_back(std::move(entry));
    }
    return pending;
  });
}

void SqliteStore::settle(const SettledChange& change) {
  // Everything that can refuse a settle but the database itself is checked
  // here, before it is queued: one bad settle must not fail the transaction
  // it would share with other workers' intents. Encoding the user here also
  // keeps that work out of the commit.
  std::string user_fields;
  try {
    if (change.user) {
      require_user_id(*change.user);
      user_fields = encode_fields(*change.user);
    }
    if (change.link) {
      require_link_ids(*change.link);
    }
  } catch (const StoreError& e) {
    throw StoreError("state database " + m_path + ": settle: " + e.what());
  }
  bool queued = false;
  bool commit_now = false;
  {
    const std::lock_guard lock(m_group->mutex);
    if (m_group->deferred_error) {
      std::rethrow_exception(std::exchange(m_group->deferred_error, nullptr));
    }
    // Only the first settle of an intent added by this store is queued: any
    // other (recovery's, a repeated one) is checked against the database now.
    if (m_group->unsettled.erase(change.journal_id) == 1) {
      auto item = std::make_shared<GroupCommit::Item>();
      item->settle = change;
      item->user_fields = std::move(user_fields);
      item->now = now_utc();
      if (m_group->settles++ == 0) {
        m_group->oldest = std::chrono::steady_clock::now();
      }
      m_group->queue.push_back(std::move(item));
      queued = true;
      commit_now =
          m_group->queue.size() >= GroupCommit::k_max_queued
          || std::chrono::steady_clock::now() - m_group->oldest >= GroupCommit::k_max_delay;
      if (!m_group->flusher.joinable()) {
        start_flusher(); // under the lock: two first settles start one thread
      }
    }
  }
  if (queued) {
    m_group->wake.notify_all();
    if (commit_now) {
      flush();
    }
    return;
  }
  guarded("settle", [&](SQLite::Database& db) {
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    settle_in(db, change, user_fields, now_utc());
    transaction.commit();
  });
}

void SqliteStore::flush() {
  guarded("flush", [](SQLite::Database&) {});
  const std::lock_guard lock(m_group->mutex);
  if (m_group->deferred_error) {
    std::rethrow_exception(std::exchange(m_group->deferred_error, nullptr));
  }
}

void SqliteStore::append_audit(const AuditRecord& record) {
  guarded("append_audit", [&](SQLite::Database& db) { write_audit(db, record); });
}

std::vector<AuditRecord> SqliteStore::audit(const EmployeeId& employee_id, int limit) const {
  return guarded("audit", [&](SQLite::Database& db) {
    // The newest `limit` (LIMIT -1: all), then back to oldest first.
    const std::string columns =
        "id, time, run_id, action, employee_id, user_id, fields, policy_hash, outcome, message";
    const std::string filter = employee_id.empty() ? "" : " WHERE employee_id = ?2";
    SQLite::Statement select(db,
                             "SELECT * FROM (SELECT " + columns + " FROM audit" + filter
                                 + " ORDER BY id DESC LIMIT ?1) ORDER BY id");
    select.bind(1, limit > 0 ? limit : -1);
    if (!employee_id.empty()) {
      select.bind(2, employee_id);
    }
    std::vector<AuditRecord> records;
    while (select.executeStep()) {
      AuditRecord record;
      record.id = select.getColumn(0).getInt64();
      record.time = select.getColumn(1).getString();
      record.run_id = select.getColumn(2).getString();
      record.action = action_from_text(select.getColumn(3).getString());
      record.employee_id = select.getColumn(4).getString();
      record.user_id = select.getColumn(5).getString();
      record.fields = field_changes_from_json(select.getColumn(6).getString());
      record.policy_hash = select.getColumn(7).getString();
      record.outcome = select.getColumn(8).getString();
      record.message = select.getColumn(9).getString();
      records.push_back(std::move(record));
    }
    return records;
  });
}

std::vector<EmployeeId> SqliteStore::employees_last_audited_as(Action action,
                                                               const std::string& outcome,
                                                               const std::string& message) const {
  return guarded("employees_last_audited_as", [&](SQLite::Database& db) {
    // The rows with that message first (few), then whether each is its
    // employee's newest (audit_employee index).
    SQLite::Statement select(db,
                             "SELECT a.employee_id FROM audit a WHERE a.action = ?1 AND a.outcome "
                             "= ?2 AND a.message = ?3 AND a.id = (SELECT MAX(b.id) FROM audit b "
                             "WHERE b.employee_id = a.employee_id) ORDER BY a.employee_id");
    select.bind(1, std::string(to_string(action)));
    select.bind(2, outcome);
    select.bind(3, message);
    std::vector<EmployeeId> out;
    while (select.executeStep()) {
      out.push_back(select.getColumn(0).getString());
    }
    return out;
  });
}

void SqliteStore::start_run(const RunRecord& run) {
  guarded("start_run", [&](SQLite::Database& db) {
    SQLite::Statement exists(db, "SELECT 1 FROM runs WHERE id = ?1");
    exists.bind(1, run.id);
    if (exists.executeStep()) {
      throw StoreError("run " + run.id + " is already recorded");
    }
    SQLite::Statement insert(db,
                             "INSERT INTO runs (id, started_at, finished_at, kind, policy_hash, "
                             "outcome, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert.bind(1, run.id);
    insert.bind(2, run.started_at);
    insert.bind(3, run.finished_at);
    insert.bind(4, run.kind);
    insert.bind(5, run.policy_hash);
    insert.bind(6, run.outcome);
    insert.bind(7, run.summary);
    insert.exec();
  });
}

void SqliteStore::finish_run(const RunRecord& run) {
  guarded("finish_run", [&](SQLite::Database& db) {
    SQLite::Statement update(db,
                             "UPDATE runs SET started_at = ?2, finished_at = ?3, kind = ?4, "
                             "policy_hash = ?5, outcome = ?6, summary = ?7 WHERE id = ?1");
    update.bind(1, run.id);
    update.bind(2, run.started_at);
    update.bind(3, run.finished_at);
    update.bind(4, run.kind);
    update.bind(5, run.policy_hash);
    update.bind(6, run.outcome);
    update.bind(7, run.summary);
    if (update.exec() == 0) {
      throw StoreError("no run " + run.id);
    }
  });
}

std::vector<RunRecord> SqliteStore::recent_runs(int limit) const {
  return guarded("recent_runs", [&](SQLite::Database& db) {
    SQLite::Statement select(db,
                             "SELECT id, started_at, finished_at, kind, policy_hash, outcome, "
                             "summary FROM runs ORDER BY rowid DESC LIMIT ?1");
    select.bind(1, limit > 0 ? limit : -1);
    std::vector<RunRecord> runs;
    while (select.executeStep()) {
      RunRecord run;
      run.id = select.getColumn(0).getString();
      run.started_at = select.getColumn(1).getString();
      run.finished_at = select.getColumn(2).getString();
      run.kind = select.getColumn(3).getString();
      run.policy_hash = select.getColumn(4).getString();
      run.outcome = select.getColumn(5).getString();
      run.summary = select.getColumn(6).getString();
      runs.push_back(std::move(run));
    }
    return runs;
  });
}

} // namespace bobsync::state
