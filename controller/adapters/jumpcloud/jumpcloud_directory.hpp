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
  std::string api_key;               // secret: redacted everywhere
  std::optional<std::string> org_id; // sent as x-org-id (multi-tenant admins)
  int page_size = 100;               // JumpCloud's maximum
  int write_concurrency = 4;         // concurrent POST/PUT at most
  std::chrono::milliseconds timeout{30000};
  http::RetryPolicy retry;
  std::vector<std::string> extra_secrets;
  std::function<void(std::string_view line)> log;
  std::function<void(std::string_view operation, int status)> on_response;
};

// Lists with GET /systemusers?limit=100&skip=N&sort=_id until skip reaches
// totalCount (or a page comes back empty): ceil(N/100) requests for N users
// (one when there are none). Pages are read without a JSON document
// (users_from_page_text); users repeated by a shifted page are reported once,
// and users out of _id order fail the listing (protocol) rather than return
// an incomplete one.
// find_users pages the same way with filter=<field>:$eq:<value>. create_user
// POSTs (state + consistent suspended); update_user PUTs only the changes,
// after reading the user when phoneNumbers/attributes change (arrays are
// replaced whole, so they are merged with what the user has); STAGED is
// refused on update. Reads are retried on 429/5xx/connection failures; a PUT
// on 429/5xx; a create only on 429 (a create answered 5xx or lost after
// sending is unknown_outcome: the caller looks the user up before trying
// again; a 400 "already exists" is conflict). At most write_concurrency
// writes run at once, and writes to one user are serialized. Errors read
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

private:
  http::Request
  request(std::string method, const std::string& path_and_query, std::string body = {}) const;
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
