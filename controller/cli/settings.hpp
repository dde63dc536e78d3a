#pragma once

// Start-up settings: the policy file, secrets from the environment, the
// evaluation time. Failures throw Fatal with a message that says what to do.

#include "policies/policy.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace bobsync::cli {

// A start-up error the user must fix; main prints it and exits 1.
class Fatal : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The most read_file reads of a policy, a secret file and a saved plan.
inline constexpr std::size_t k_max_policy_bytes = std::size_t{1} << 20U;       // 1 MiB
inline constexpr std::size_t k_max_secret_file_bytes = std::size_t{64} << 10U; // 64 KiB
inline constexpr std::size_t k_max_plan_bytes = std::size_t{1} << 30U;         // 1 GiB

// The range of --now / BOBSYNC_NOW (inclusive years).
inline constexpr int k_min_now_year = 1970;
inline constexpr int k_max_now_year = 2199;

// Reads a secret from the environment variable NAME, or from the file named
// by NAME_FILE (trailing newline stripped). nullopt when neither is set.
// Throws Fatal when NAME_FILE names an unreadable file, and when the value
// holds a control character (CR, LF, tab...): the message names the
// variable, never the value. The value is never logged.
std::optional<std::string> read_secret(const std::string& name);

// As read_secret, but throws Fatal naming both variables when unset.
std::string require_secret(const std::string& name);

// Parses --now / BOBSYNC_NOW: an ISO 8601 timestamp (2026-11-27T09:30:00Z,
// 2026-11-27T09:30:00+01:00) or a bare date (2026-11-27 = 12:00 UTC on that
// day, the same calendar day in almost every time zone). Throws Fatal, also
// for a year outside k_min_now_year..k_max_now_year.
std::chrono::system_clock::time_point parse_now(const std::string& text);

// The whole of a regular file of at most `max_bytes`. Throws Fatal naming
// the path and what is wrong: missing, unreadable (permission), a
// directory, not a regular file (a device such as /dev/zero, a FIFO), or
// larger than the limit (never more than max_bytes + 1 bytes are read).
std::string read_file(const std::string& path, std::size_t max_bytes);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(const std::string& data);

// The URL environment overrides (BOB_API_URL, JUMPCLOUD_API_URL) applied to a
// parsed policy.
void apply_url_overrides(policies::Policy& policy);

} // namespace bobsync::cli
