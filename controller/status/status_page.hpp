#pragma once

// The read-only status page of `bobsync run` (GET / on the listener):
// server-rendered HTML with a small inline stylesheet and no script. It shows
// names and emails, so it is served only when a token is configured
// (BOBSYNC_STATUS_TOKEN or BOBSYNC_STATUS_TOKEN_FILE) and then only to
// requests carrying `Authorization: Bearer <token>` (compared in constant
// time). Everything printed is HTML-escaped.

#include "state/store.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller::status {

// A starter whose account will be created / activated, or a leaver whose
// account will be suspended, on a later date.
struct UpcomingChange {
  std::string employee_id;
  std::string name;
  std::string email;
  std::string what; // "create" | "activate" | "suspend"
  std::string when; // date (and time) it will happen
};

struct OpenConflict {
  std::string employee_id;
  std::string name;
  std::string email;
  std::string reason;
  std::string fix; // what to change in Bob or JumpCloud
};

struct BlockedReason {
  bool bad_read = false; // false: a safety limit
  std::string message;
};

// Everything one rendering shows; built by the caller from the store and the
// loop.
struct StatusSnapshot {
  std::string now;         // ISO 8601, the controller clock
  std::string policy_path; // for the unblock command
  std::string policy_hash;
  std::vector<std::string> policy_rejected; // diagnostics of the last rejected reload
  std::string last_error;                   // of the last failed pass, if any
  bool blocked = false;
  std::vector<BlockedReason> blocked_by;
  std::vector<state::RunRecord> runs; // newest first
  // False: the caller cannot tell what is coming or which conflicts are open
  // (the page says so and points at `bobsync plan`), instead of "none".
  bool plan_known = false;
  std::vector<UpcomingChange> upcoming;
  std::vector<OpenConflict> conflicts;
  std::string employee_filter;           // "" : all employees
  std::vector<state::AuditRecord> audit; // newest last (as the store returns them)
  int audit_limit = 0;
};

std::string html_escape(std::string_view text);
// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);
// Decodes a percent-encoded query value ('+' is a space). Invalid escapes are kept as they are.
std::string url_decode(std::string_view text);

std::string render_status_page(const StatusSnapshot& snapshot);

// True when `authorization` is exactly "Bearer <token>"; constant time in the
// length of the header for a given token. An empty token never matches.
bool bearer_matches(std::string_view authorization, std::string_view token);

struct StatusRequest {
  std::string authorization; // the Authorization header, "" when absent
  std::string employee;      // the ?employee= filter, decoded
};

struct StatusReply {
  int status = 200;
  std::string body; // text/html
};

// How many rows the page shows at most (the page must stay fast with a large
// audit log).
inline constexpr int k_max_runs = 20;
inline constexpr int k_max_audit_rows = 200;

// The handler behind GET /: 401 without the right bearer token, 400 for an
// overlong filter, otherwise the page built from `snapshot(employee_filter)`.
class StatusPage {
public:
  using SnapshotFn = std::function<StatusSnapshot(const std::string& employee_filter)>;
  StatusPage(std::string token, SnapshotFn snapshot);
  StatusReply serve(const StatusRequest& request) const;

private:
  std::string m_token;
  SnapshotFn m_snapshot;
};

} // namespace bobsync::controller::status
