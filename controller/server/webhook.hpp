#pragma once

// Bob webhooks (v2): authenticating a request and reading the one thing the
// controller needs from it, the employee id. Pure functions; OpenSSL stays in
// the .cpp. Thread-safe (no shared state).

#include <cstddef>
#include <string>
#include <string_view>

namespace bobsync::controller::server {

// Bodies above this size are refused (413) before they are read.
inline constexpr std::size_t k_max_webhook_body_bytes = 1024 * 1024;

// True when `signature_header` (the value of the Bob-Signature header) is
// Base64(HMAC-SHA512(secret, raw_body)), standard alphabet; the padding may
// be left out and surrounding spaces are ignored. The 64 MAC bytes are
// compared in constant time (CRYPTO_memcmp). False for an empty secret (an
// unconfigured secret never authenticates anything), an empty or non-Base64
// header, or a MAC of the wrong length. `raw_body` must be the exact bytes
// received, never re-serialised JSON.
bool verify_bob_signature(std::string_view secret,
                          std::string_view raw_body,
                          std::string_view signature_header);

// The header value Bob sends for `raw_body`: Base64(HMAC-SHA512(secret, body))
// with padding (88 characters). For tests, benchmarks and the sandbox.
std::string bob_signature(std::string_view secret, std::string_view raw_body);

enum class BobEventKind {
  ping,        // Bob's connection test: the body `Ping test` or {"text":"Ping test"}
  employee,    // employee.* with an employee id (created, updated, joined, left, ...)
  table_entry, // table.entry.* with an employee id
  unknown,     // a well-formed event of a type the controller does not act on
  malformed,   // not JSON, not an object, no string `type`, an employee or table
               // event without a usable employee id, too deeply nested
};

std::string_view to_string(BobEventKind kind);

struct BobEvent {
  BobEventKind kind = BobEventKind::malformed;
  // The `type` field as sent (longer than 128 bytes: malformed); empty for a
  // ping or when there was none.
  std::string type;
  // data.employeeId (v2), or employee.id of a legacy v1 body; set only for
  // `employee` and `table_entry`. Only ASCII letters, digits, '-' and '_',
  // 1 to 64 characters: anything else makes the event malformed.
  std::string employee_id;
  // For `malformed`: what was wrong, safe to log (never echoes the body).
  std::string error;
};

// Reads Bob's v2 envelope {"type", "data": {"employeeId", ...}, ...} with a
// streaming parser: no document is built, nesting deeper than 64 levels and
// duplicate `type` / `employeeId` keys are malformed. Does not authenticate:
// call verify_bob_signature first. The payload's other fields are ignored on
// purpose: the controller re-reads the employee from Bob, so a replayed body
// can only cause another read of the same employee.
BobEvent parse_bob_event(std::string_view body);

// True for the event types bobsync knows by name (employee.created, .updated,
// .deleted, .joined, .left, .inactivated, .activated, .temporaryLeave,
// .access.revoked.immediately, table.entry.created, .updated, .deleted). The
// metrics label other types "other" to keep the label set bounded.
bool is_known_bob_event_type(std::string_view type);

} // namespace bobsync::controller::server
