#pragma once

// Transport over libcurl. <curl/curl.h> stays in the .cpp.

#include "controller/adapters/http/transport.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bobsync::controller::http {

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::size_t max_response_bytes = std::size_t{1} << 30; // 1 GiB
  std::string ca_file;     // extra CA bundle; empty = the system store
  bool accept_gzip = true; // sends Accept-Encoding: gzip and decodes
  std::string user_agent = "bobsync/0.1";
};

// libcurl with TLS verification always on (peer and host; there is no switch
// to turn it off). Plain http:// is accepted only for loopback hosts
// (127.0.0.0/8, ::1, localhost); any other http:// URL is refused before a
// connection is attempted. Redirects are not followed. Connections, DNS
// answers and TLS sessions are shared by every thread through one curl share
// object, and easy handles are pooled, so keep-alive connections are reused
// across calls and threads, except by a Request with fresh_connection (a
// non-idempotent write), which libcurl then never re-sends on its own.
// Thread-safe.
class CurlTransport final : public Transport {
public:
  explicit CurlTransport(CurlOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  TransportResult send(const Request& request) override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// nullopt when `url` may be used (https://, or http:// to a loopback host);
// otherwise the reason, for an error message.
std::optional<std::string> check_url_allowed(std::string_view url);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

} // namespace bobsync::controller::http
