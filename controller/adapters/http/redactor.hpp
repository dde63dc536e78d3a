#pragma once

// Keeps secrets out of every log line and error message.

#include "controller/adapters/http/transport.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller::http {

// Replaces every configured secret with "***". Immutable after construction,
// so one instance can be shared by threads. Every message a client builds
// from server text, curl text or request data goes through redact().
class Redactor {
public:
  Redactor() = default;
  // Empty strings are ignored.
  explicit Redactor(std::vector<std::string> secrets);

  // A copy with `secret` added (e.g. the Base64 form of a credential).
  Redactor with(std::string secret) const;

  std::string redact(std::string_view text) const;

  // True for header names whose values are credentials (Authorization,
  // x-api-key, Cookie, Proxy-Authorization, Bob-Signature), any case.
  static bool is_sensitive_header(std::string_view name);

  // "name: value" lines, sensitive values shown as ***, others redacted.
  std::string describe(const Headers& headers) const;

private:
  std::vector<std::string> m_secrets; // longest first, so overlapping secrets are hidden whole
};

} // namespace bobsync::controller::http
