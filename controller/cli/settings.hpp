#pragma once

// Start-up settings: the policy file, secrets from the environment, the
// evaluation time. Failures throw Fatal with a message that says what to do.

#include "policies/policy.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace bobsync::cli {

// A start-up error the user must fix; main prints it and exits 1.
class Fatal : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Reads a secret from the environment variable NAME, or from the file named
// by NAME_FILE (trailing newline stripped). nullopt when neither is set.
// Throws Fatal when NAME_FILE names an unreadable file. The value is never
// logged.
std::optional<std::string> read_secret(const std::string& name);

// As read_secret, but throws Fatal naming both variables when unset.
std::string require_secret(const std::string& name);

// Parses --now / BOBSYNC_NOW: an ISO 8601 timestamp (2026-11-27T09:30:00Z,
// 2026-11-27T09:30:00+01:00) or a bare date (2026-11-27 = 12:00 UTC on that
// day, the same calendar day in almost every time zone). Throws Fatal.
std::chrono::system_clock::time_point parse_now(const std::string& text);

// The whole file; throws Fatal naming the path when it cannot be read.
std::string read_file(const std::string& path);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(const std::string& data);

// The URL environment overrides (BOB_API_URL, JUMPCLOUD_API_URL) applied to a
// parsed policy.
void apply_url_overrides(policies::Policy& policy);

} // namespace bobsync::cli
