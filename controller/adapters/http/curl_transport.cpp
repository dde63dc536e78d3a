#include "controller/adapters/http/curl_transport.hpp"

#include "state/util/ascii.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <mutex>
#include <vector>

namespace bobsync::controller::http {
namespace {

std::once_flag g_curl_global_init;

bool is_loopback_host(std::string_view host) {
  const auto h = ascii_lower(host);
  if (h == "localhost" || h == "[::1]" || h == "::1") {
    return true;
  }
  // 127.0.0.0/8 in dotted-quad form.
  unsigned a = 0;
  unsigned b = 0;
  unsigned c = 0;
  unsigned d = 0;
  char tail = 0;
  // NOLINTNEXTLINE(cert-err34-c): the result count is checked
  if (std::sscanf(h.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4) {
    return a == 127 && b <= 255 && c <= 255 && d <= 255;
  }
  return false;
}

// One curl share object: DNS cache and TLS sessions, each behind its own
// mutex. Not the connection cache: libcurl does not support sharing
// connections between concurrent threads (CURLSHOPT_SHARE(3); the listing's
// and the applier's threads did, and the controller crashed now and then
// with a corrupted heap). Each pooled easy handle keeps its own connections
// across requests instead (curl_easy_reset leaves them alive).
class Share {
public:
  Share() {
    m_handle = curl_share_init();
    curl_share_setopt(m_handle, CURLSHOPT_LOCKFUNC, &Share::lock);
    curl_share_setopt(m_handle, CURLSHOPT_UNLOCKFUNC, &Share::unlock);
    curl_share_setopt(m_handle, CURLSHOPT_USERDATA, this);
    curl_share_setopt(m_handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(m_handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Share() { curl_share_cleanup(m_handle); }
  Share(const Share&) = delete;
  Share& operator=(const Share&) = delete;

  CURLSH* handle() const { return m_handle; }

private:
  static void lock(CURL* /*easy*/, curl_lock_data data, curl_lock_access /*access*/, void* user) {
    static_cast<Share*>(user)->m_locks.at(static_cast<std::size_t>(data)).lock();
  }
  static void unlock(CURL* /*easy*/, curl_lock_data data, void* user) {
    static_cast<Share*>(user)->m_locks.at(static_cast<std::size_t>(data)).unlock();
  }

  CURLSH* m_handle = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> m_locks;
};

struct Collector {
  Response* response = nullptr;
  CURL* easy = nullptr;
  const Request* request = nullptr;
  std::size_t max_bytes = 0;
  std::size_t received = 0;
  bool too_large = false;
  bool reserved = false;
  bool aborted = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* collector = static_cast<Collector*>(user);
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after 100 Continue, for example): start over.
    collector->response->headers.clear();
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    collector->response->headers.emplace_back(ascii_lower(ascii_trim(line.substr(0, colon))),
                                              ascii_trim(line.substr(colon + 1)));
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* collector = static_cast<Collector*>(user);
  const std::size_t n = size * count;
  auto& body = collector->response->body;
  if (collector->received + n > collector->max_bytes) {
    collector->too_large = true;
    return 0; // aborts the transfer with CURLE_WRITE_ERROR
  }
  collector->received += n;
  if (collector->request->on_body) {
    long status = 0;
    curl_easy_getinfo(collector->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299) {
      collector->response->status = static_cast<int>(status);
      if (!collector->request->on_body(*collector->response, std::string_view(data, n))) {
        collector->aborted = true;
        return 0;
      }
      return n;
    }
  }
  if (!collector->reserved) {
    collector->reserved = true;
    curl_off_t length = -1;
    if (curl_easy_getinfo(collector->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK
        && length > 0 && static_cast<std::size_t>(length) <= collector->max_bytes) {
      body.reserve(static_cast<std::size_t>(length));
    }
  }
  body.append(data, n);
  return n;
}

bool one_of(CURLcode code, std::initializer_list<CURLcode> codes) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// libcurl's CURLcode is a third-party enum with ~100 values: an if-chain
// keeps -Wswitch-enum meaningful for our own enums.
FailureKind failure_kind(CURLcode code, bool too_large, bool aborted) {
  if (too_large) {
    return FailureKind::too_large;
  }
  if (aborted) {
    return FailureKind::aborted;
  }
  if (one_of(code, {CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT})) {
    return FailureKind::bad_url;
  }
  if (one_of(code,
             {CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT})) {
    return FailureKind::connect;
  }
  if (one_of(code,
             {CURLE_SSL_CONNECT_ERROR,
              CURLE_PEER_FAILED_VERIFICATION,
              CURLE_SSL_CERTPROBLEM,
              CURLE_SSL_CIPHER,
              CURLE_SSL_CACERT_BADFILE,
              CURLE_SSL_ENGINE_NOTFOUND,
              CURLE_SSL_ENGINE_SETFAILED,
              CURLE_SSL_ENGINE_INITFAILED,
              CURLE_SSL_CRL_BADFILE,
              CURLE_SSL_ISSUER_ERROR,
              CURLE_SSL_PINNEDPUBKEYNOTMATCH,
              CURLE_SSL_INVALIDCERTSTATUS,
              CURLE_SSL_SHUTDOWN_FAILED,
              CURLE_SSL_CLIENTCERT,
              CURLE_USE_SSL_FAILED})) {
    return FailureKind::tls;
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return FailureKind::timeout;
  }
  if (one_of(code,
             {CURLE_GOT_NOTHING,
              CURLE_RECV_ERROR,
              CURLE_SEND_ERROR,
              CURLE_PARTIAL_FILE,
              CURLE_HTTP2,
              CURLE_HTTP2_STREAM,
              CURLE_HTTP3,
              CURLE_QUIC_CONNECT_ERROR})) {
    return FailureKind::connection_lost;
  }
  return FailureKind::other;
}

} // namespace

std::optional<std::string> check_url_allowed(std::string_view url) {
  CURLU* parsed = curl_url();
  const std::string text(url);
  if (curl_url_set(parsed, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    curl_url_cleanup(parsed);
    return std::string("malformed URL");
  }
  char* scheme = nullptr;
  char* host = nullptr;
  char* user = nullptr;
  curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(parsed, CURLUPART_HOST, &host, 0);
  const bool has_user = curl_url_get(parsed, CURLUPART_USER, &user, 0) == CURLUE_OK;
  const std::string s = scheme != nullptr ? ascii_lower(scheme) : std::string();
  const std::string h = host != nullptr ? std::string(host) : std::string();
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_url_cleanup(parsed);

  if (has_user) {
    return std::string("URLs must not carry credentials (user:password@host)");
  }
  if (s == "https") {
    return std::nullopt;
  }
  if (s == "http") {
    if (is_loopback_host(h)) {
      return std::nullopt;
    }
    return "plain http:// is only allowed to a loopback host (127.0.0.0/8, ::1, localhost), "
           "not to "
           + h + "; use https://";
  }
  return "unsupported URL scheme '" + s + "' (use https://)";
}

std::string url_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += k_hex[c >> 4U];
      out += k_hex[c & 0x0FU];
    }
  }
  return out;
}

struct CurlTransport::Impl {
  CurlOptions options;
  Share share;
  std::mutex pool_mutex;
  std::vector<CURL*> pool;

  CURL* acquire() {
    {
      const std::lock_guard lock(pool_mutex);
      if (!pool.empty()) {
        CURL* easy = pool.back();
        pool.pop_back();
        return easy;
      }
    }
    return curl_easy_init();
  }

  // At most this many handles (and so idle connections) are kept between
  // requests; a burst of concurrent requests (a listing's pages) opens more,
  // and the handles beyond it are closed as they come back.
  static constexpr std::size_t k_max_idle = 4;

  void release(CURL* easy) {
    curl_easy_reset(easy);
    {
      const std::lock_guard lock(pool_mutex);
      if (pool.size() < k_max_idle) {
        pool.push_back(easy);
        return;
      }
    }
    curl_easy_cleanup(easy);
  }

  ~Impl() {
    for (CURL* easy : pool) {
      curl_easy_cleanup(easy);
    }
  }
};

CurlTransport::CurlTransport(CurlOptions options) {
  std::call_once(g_curl_global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  m_impl = std::make_unique<Impl>();
  m_impl->options = std::move(options);
}

CurlTransport::~CurlTransport() = default;

TransportResult CurlTransport::send(const Request& request) {
  if (auto problem = check_url_allowed(request.url)) {
    return Unexpected<TransportError>{{FailureKind::bad_url, false, *problem}};
  }
  CURL* easy = m_impl->acquire();
  if (easy == nullptr) {
    return Unexpected<TransportError>{{FailureKind::other, false, "cannot create a curl handle"}};
  }
  struct Release {
    Impl* impl;
    CURL* easy;
    ~Release() { impl->release(easy); }
  } release{m_impl.get(), easy};

  const auto& options = m_impl->options;
  Response response;
  Collector collector;
  collector.response = &response;
  collector.easy = easy;
  collector.request = &request;
  collector.max_bytes = options.max_response_bytes;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:"); // no 100-continue round trip
  struct FreeHeaders {
    curl_slist* list;
    ~FreeHeaders() { curl_slist_free_all(list); }
  } free_headers{headers};

  curl_easy_setopt(easy, CURLOPT_SHARE, m_impl->share.handle());
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str());
  }
  curl_easy_setopt(easy,
                   CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(options.connect_timeout, request.timeout).count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (request.stall_timeout.count() > 0) {
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(
        easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.stall_timeout.count()));
  }
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  // One idle connection per pooled handle (a create's fresh connection
  // replaces the one it had): idle keep-alive connections hold a thread
  // each on servers that serve a connection per thread.
  curl_easy_setopt(easy, CURLOPT_MAXCONNECTS, 1L);
  if (request.fresh_connection) {
    // libcurl 7.88 re-sends only on a reused connection (Curl_retry_request
    // checks conn->bits.reuse); CURLOPT_FORBID_RETRY_ON_REUSE needs 8.16.
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
  if (options.accept_gzip) {
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &collector);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &collector);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer.data());

  if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method != "POST") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(
        easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  }

  const CURLcode code = curl_easy_perform(easy);
  if (code != CURLE_OK) {
    long request_size = 0;
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
    auto kind = failure_kind(code, collector.too_large, collector.aborted);
    if (kind == FailureKind::timeout && request.stall_timeout.count() > 0
        && std::string_view(error_buffer.data()).find("too slow") != std::string_view::npos) {
      // The low-speed limit and the total timeout share one CURLcode; only
      // the message ("Operation too slow. Less than 1 bytes/sec ...") differs.
      kind = FailureKind::stalled;
    }
    const bool sent = kind != FailureKind::connect && kind != FailureKind::tls
                      && kind != FailureKind::bad_url && request_size > 0;
    std::string detail = error_buffer[0] != '\0' ? std::string(error_buffer.data())
                                                 : std::string(curl_easy_strerror(code));
    if (kind == FailureKind::stalled) {
      detail = "no data for " + std::to_string(request.stall_timeout.count()) + " s";
    } else if (kind == FailureKind::too_large) {
      detail = "response larger than " + std::to_string(options.max_response_bytes) + " bytes";
    } else if (kind == FailureKind::aborted) {
      detail = "the receiver stopped reading the response";
    }
    return Unexpected<TransportError>{{kind, sent, std::move(detail)}};
  }
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::string_view Response::header(std::string_view name) const {
  const auto wanted = ascii_lower(name);
  for (const auto& [n, v] : headers) {
    if (ascii_lower(n) == wanted) {
      return v;
    }
  }
  return {};
}

std::string media_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  return ascii_lower(ascii_trim(content_type.substr(0, semicolon)));
}

bool is_json_media_type(std::string_view content_type) {
  const auto type = media_type(content_type);
  if (type == "application/json") {
    return true;
  }
  return type.rfind("application/", 0) == 0 && type.size() > 5
         && type.compare(type.size() - 5, 5, "+json") == 0;
}

} // namespace bobsync::controller::http
