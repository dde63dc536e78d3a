#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"

#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include <algorithm>
#include <functional>

namespace bobsync::controller {
namespace {

constexpr std::string_view k_list = "list users";
constexpr std::string_view k_get = "get user";
constexpr std::string_view k_find = "find users";
constexpr std::string_view k_create = "create user";
constexpr std::string_view k_update = "update user";

http::ApiClientOptions client_options(const JumpCloudSettings& settings) {
  http::ApiClientOptions options;
  options.api_name = "JumpCloud";
  options.retry = settings.retry;
  options.log = settings.log;
  options.on_response = settings.on_response;
  return options;
}

http::Redactor redactor_for(const JumpCloudSettings& settings) {
  std::vector<std::string> secrets = settings.extra_secrets;
  secrets.push_back(settings.api_key);
  return http::Redactor(std::move(secrets));
}

std::string strip_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

} // namespace

JumpCloudDirectory::JumpCloudDirectory(http::Transport& transport,
                                       Clock& clock,
                                       JumpCloudSettings settings)
    : m_settings(std::move(settings)),
      m_client(transport, clock, redactor_for(m_settings), client_options(m_settings)),
      m_write_gate(m_settings.write_concurrency) {
  m_settings.base_url = strip_trailing_slash(m_settings.base_url);
  m_settings.page_size = std::clamp(m_settings.page_size, 1, 100);
}

http::Request JumpCloudDirectory::request(std::string method,
                                          const std::string& path_and_query,
                                          std::string body) const {
  http::Request request;
  request.method = std::move(method);
  request.url = m_settings.base_url + path_and_query;
  request.headers = {{"x-api-key", m_settings.api_key}, {"Accept", "application/json"}};
  if (m_settings.org_id && !m_settings.org_id->empty()) {
    request.headers.emplace_back("x-org-id", *m_settings.org_id);
  }
  if (request.method != "GET") {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  request.body = std::move(body);
  request.timeout = m_settings.timeout;
  return request;
}

std::mutex& JumpCloudDirectory::user_lock(const state::UserId& id) {
  return m_user_locks[std::hash<std::string>{}(id) % m_user_locks.size()];
}

ApiResult<std::vector<state::DirectoryUser>>
JumpCloudDirectory::list_pages(std::string_view operation, const std::string& query) {
  std::vector<state::DirectoryUser> users;
  std::size_t previous_page = 0; // index in `users` of the previous page's first user
  const int limit = m_settings.page_size;
  for (long long skip = 0;;) {
    const std::string path = "/systemusers?limit=" + std::to_string(limit)
                             + "&skip=" + std::to_string(skip) + "&sort=_id" + query;
    auto response = m_client.send_json(operation, request("GET", path), http::Idempotency::read);
    if (!response) {
      return Unexpected<ApiError>{response.error()};
    }
    std::vector<state::DirectoryUser> page;
    page.reserve(static_cast<std::size_t>(limit));
    long long total = 0;
    std::string error;
    if (!users_from_page_text(response->body, page, total, error)) {
      return Unexpected<ApiError>{m_client.error(ErrorKind::protocol,
                                                 operation,
                                                 "response is not valid JSON (page at skip "
                                                     + std::to_string(skip) + "): " + error,
                                                 200)};
    }
    if (skip == 0) {
      users.reserve(static_cast<std::size_t>(std::max<long long>(0, total)));
    }
    // Pages are sorted by _id. A user created while paging with an _id below
    // the cursor shifts later pages, so a page may start with users the
    // previous page ended with: skip those. Anything else out of order means
    // the listing cannot be trusted. (A user deleted while paging can make
    // the next page skip one user; the next full listing sees it again.)
    auto disorder = [&] {
      return Unexpected<ApiError>{m_client.error(ErrorKind::protocol,
                                                 operation,
                                                 "users are not in _id order (page at skip "
                                                     + std::to_string(skip)
                                                     + "); refusing an incomplete listing",
                                                 200)};
    };
    for (std::size_t i = 1; i < page.size(); ++i) {
      if (!(page[i].id > page[i - 1].id)) {
        return disorder();
      }
    }
    const std::size_t page_start = users.size();
    for (auto& user : page) {
      if (!users.empty() && user.id <= users.back().id) {
        const auto first = users.begin() + static_cast<std::ptrdiff_t>(previous_page);
        const auto last = users.begin() + static_cast<std::ptrdiff_t>(page_start);
        const auto it = std::lower_bound(
            first, last, user.id, [](const auto& u, const std::string& id) { return u.id < id; });
        if (it == last || it->id != user.id) {
          return disorder();
        }
        continue; // a repeat
      }
      users.push_back(std::move(user));
    }
    previous_page = page_start;
    skip += static_cast<long long>(page.size());
    if (page.empty() || skip >= total) {
      return users;
    }
  }
}

ApiResult<std::vector<state::DirectoryUser>> JumpCloudDirectory::list_users() {
  return list_pages(k_list, "");
}

ApiResult<std::string> JumpCloudDirectory::get_user_text(std::string_view operation,
                                                         const state::UserId& id) {
  auto response = m_client.send(
      operation, request("GET", "/systemusers/" + http::url_encode(id)), http::Idempotency::read);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  // JumpCloud has answered an unknown id with an empty 200 in the past.
  const auto& body = response->body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Unexpected<ApiError>{m_client.error(
        ErrorKind::not_found, operation, "user " + id + " not found (empty response)", 200)};
  }
  if (!http::is_json_media_type(response->header("content-type"))) {
    const auto type = response->header("content-type");
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::protocol,
                       operation,
                       "response is not JSON (content-type "
                           + (type.empty() ? std::string("none") : http::media_type(type)) + ")",
                       response->status)};
  }
  return std::move(response->body);
}

ApiResult<state::DirectoryUser> JumpCloudDirectory::get_user(const state::UserId& id) {
  auto text = get_user_text(k_get, id);
  if (!text) {
    return Unexpected<ApiError>{text.error()};
  }
  auto user = user_from_json_text(*text);
  if (!user) {
    return Unexpected<ApiError>{m_client.error(ErrorKind::protocol, k_get, user.error(), 200)};
  }
  return std::move(user).value();
}

ApiResult<std::vector<state::DirectoryUser>>
JumpCloudDirectory::find_users(std::string_view field, std::string_view value) {
  const auto ref = parse_field_name(field);
  if (!ref || ref->kind != FieldRef::Kind::scalar) {
    return Unexpected<ApiError>{m_client.error(ErrorKind::rejected,
                                               k_find,
                                               "cannot filter on '" + std::string(field)
                                                   + "' (only top-level fields can be filtered)")};
  }
  const std::string filter = ref->key + ":$eq:" + std::string(value);
  return list_pages(k_find, "&filter=" + http::url_encode(filter));
}

ApiResult<state::DirectoryUser>
JumpCloudDirectory::create_user(const state::FlatMap<std::string>& fields, state::UserState state) {
  auto body = create_body(fields, state);
  if (!body) {
    return Unexpected<ApiError>{m_client.error(ErrorKind::rejected, k_create, body.error())};
  }
  const http::WriteGate::Slot slot(m_write_gate);
  auto response = m_client.send_json(
      k_create, request("POST", "/systemusers", std::move(body).value()), http::Idempotency::once);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  auto user = user_from_json_text(response->body);
  if (!user) {
    // The user exists now, but we cannot tell its id: the caller must look it up.
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::unknown_outcome,
                       k_create,
                       "created, but the response is unusable: " + user.error(),
                       response->status)};
  }
  return std::move(user).value();
}

ApiResult<state::DirectoryUser>
JumpCloudDirectory::update_user(const state::UserId& id,
                                const state::FlatMap<std::string>& changes,
                                std::optional<state::UserState> state) {
  if (state == state::UserState::staged) {
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::rejected,
                       k_update,
                       "user " + id + ": STAGED can only be set when a user is created")};
  }
  if (changes.empty() && !state) {
    return get_user(id);
  }
  const std::lock_guard per_user(user_lock(id));
  const http::WriteGate::Slot slot(m_write_gate);
  std::string current;
  if (touches_arrays(changes)) {
    auto text = get_user_text(k_update, id);
    if (!text) {
      return Unexpected<ApiError>{text.error()};
    }
    current = std::move(text).value();
  }
  auto body = update_body(changes, state, current);
  if (!body) {
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::rejected, k_update, "user " + id + ": " + body.error())};
  }
  auto response = m_client.send_json(
      k_update,
      request("PUT", "/systemusers/" + http::url_encode(id), std::move(body).value()),
      http::Idempotency::replayable);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  auto user = user_from_json_text(response->body);
  if (!user) {
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::unknown_outcome,
                       k_update,
                       "updated, but the response is unusable: " + user.error(),
                       response->status)};
  }
  return std::move(user).value();
}

} // namespace bobsync::controller
