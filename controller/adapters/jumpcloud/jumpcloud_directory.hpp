#pragma once

// Directory over JumpCloud's v1 system users API (x-api-key).

#include "controller/adapters/http/api_client.hpp"
#include "controller/adapters/http/rate_limiter.hpp"
#include "controller/adapters/http/transport.hpp"
#include "controller/ports/clock.hpp"
#include "controller/ports/directory.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

struct JumpCloudSettings {
  std::string base_url = "https://console.jumpcloud.com/api";
  std::string api_key;                      // secret: redacted everywhere
  std::optional<std::string> org_id;        // sent as x-org-id (multi-tenant admins)
  int page_size = 100;                      // JumpCloud's maximum
  int write_concurrency = 4;                // concurrent POST/PUT at most
  int list_concurrency = 8;                 // pages of a listing read at once at most
  std::chrono::milliseconds timeout{30000}; // one request, whole exchange
  std::chrono::seconds stall_timeout{20};   // no byte either way for this long ends a try
  std::string url_origin;                   // named by connection errors, e.g.
                                            // "JUMPCLOUD_API_URL / target.jumpcloud.url"
  http::RetryPolicy retry;                  // budget: 60 s per request and its retries
  std::vector<std::string> extra_secrets;
  std::function<void(std::string_view line)> log;
  std::function<void(std::string_view operation, int status)> on_response;
  std::function<void(const http::AttemptInfo& attempt)> on_attempt; // metrics, per HTTP attempt
  // Users read so far by list_users and the totalCount its first page
  // announced, once per page (pages are read concurrently: the calls are
  // serialised but may come from several threads): a terminal's progress line.
  std::function<void(long long read, long long total)> on_list_progress;
};

// Lists with GET /systemusers?limit=100&skip=N&sort=_id: the first page gives
// totalCount, then the other ceil(totalCount/100) - 1 pages are read at most
// list_concurrency at a time (pages are independent), so N users cost about
// ceil(N/100) / list_concurrency round trips. Pages are read without a JSON
// document (users_from_page_text). The listing is used only when complete
// and consistent, otherwise it fails (protocol) and nothing is returned:
// every page reports the same totalCount (a user created or deleted while
// listing shifts the pages), every page but the last is full, the users add
// up to totalCount, and ids are unique and in _id order. A totalCount above
// 10,000,000 (or negative) is refused before anything is sized from it, and
// no more pages than the first totalCount announces are read.
// find_users pages the same way with filter=<field>:$eq:<value>. create_user
// POSTs (state + consistent suspended); update_user PUTs only the changes,
// after reading the user when phoneNumbers/attributes change (arrays are
// replaced whole, so they are merged with what the user has); STAGED is
// refused on update. Reads are retried on 429/5xx/connection failures; a PUT
// on 429/5xx; a create only on 429 (a create answered 5xx or lost after
// sending is unknown_outcome: the caller looks the user up before trying
// again; a 400 "already exists" is conflict). At most write_concurrency
// writes run at once, fewer while JumpCloud answers 429 (http::WriteGate
// halves the limit, then raises it by one every 20 successful writes), and
// writes to one user are serialized. Errors read
// "JumpCloud <operation>: ...". Thread-safe.
class JumpCloudDirectory final : public Directory {
public:
  JumpCloudDirectory(http::Transport& transport, Clock& clock, JumpCloudSettings settings);

  ApiResult<std::vector<state::DirectoryUser>> list_users() override;
  ApiResult<state::DirectoryUser> get_user(const state::UserId& id) override;
  ApiResult<std::vector<state::DirectoryUser>> find_users(std::string_view field,
                                                          std::string_view value) override;
  ApiResult<state::DirectoryUser> create_user(const state::FlatMap<std::string>& fields,
                                              state::UserState state) override;
  ApiResult<state::DirectoryUser> update_user(const state::UserId& id,
                                              const state::FlatMap<std::string>& changes,
                                              std::optional<state::UserState> state) override;

  // The writes allowed in flight now (write_concurrency unless 429s lowered it).
  int write_concurrency_limit() const;

private:
  void adapt_write_concurrency(std::string_view operation, int status);
  http::Request
  request(std::string method, const std::string& path_and_query, std::string body = {}) const;
  struct Page {
    long long skip = 0;
    long long total = 0;
    std::vector<state::DirectoryUser> users;
  };
  ApiResult<Page> read_page(std::string_view operation, const std::string& query, long long skip);
  ApiResult<std::vector<state::DirectoryUser>> list_pages(std::string_view operation,
                                                          const std::string& query);
  ApiResult<std::string> get_user_text(std::string_view operation, const state::UserId& id);
  std::mutex& user_lock(const state::UserId& id);

  JumpCloudSettings m_settings;
  http::ApiClient m_client;
  http::WriteGate m_write_gate;
  std::array<std::mutex, 64> m_user_locks; // striped by user id
};

} // namespace bobsync::controller
