#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"

#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace bobsync::controller {
namespace {

// A listing announcing more users than this is refused: no directory bobsync
// serves is that large, and a lying totalCount must not size any allocation.
constexpr long long k_max_listed_users = 10'000'000;

constexpr std::string_view k_list = "list users";
constexpr std::string_view k_get = "get user";
constexpr std::string_view k_find = "find users";
constexpr std::string_view k_create = "create user";
constexpr std::string_view k_update = "update user";

// `on_response` is called with every answer, after the settings' own.
http::ApiClientOptions client_options(const JumpCloudSettings& settings,
                                      std::function<void(std::string_view, int)> on_response) {
  http::ApiClientOptions options;
  options.api_name = "JumpCloud";
  options.endpoint = settings.url_origin.empty()
                         ? settings.base_url
                         : settings.base_url + " (" + settings.url_origin + ")";
  options.retry = settings.retry;
  options.log = settings.log;
  options.on_response = [settings_hook = settings.on_response,
                         hook = std::move(on_response)](std::string_view operation, int status) {
    if (settings_hook) {
      settings_hook(operation, status);
    }
    hook(operation, status);
  };
  options.on_attempt = settings.on_attempt;
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
      m_client(transport,
               clock,
               redactor_for(m_settings),
               client_options(m_settings,
                              [this](std::string_view operation, int status) {
                                adapt_write_concurrency(operation, status);
                              })),
      m_write_gate(m_settings.write_concurrency,
                   http::WriteGate::k_default_raise_after,
                   [log = m_settings.log](int old_limit, int new_limit) {
                     if (log) {
                       log("JumpCloud write concurrency " + std::to_string(old_limit) + " -> "
                           + std::to_string(new_limit)
                           + (new_limit < old_limit ? " (answered 429 Too Many Requests)"
                                                    : " (writes succeed again)"));
                     }
                   }) {
  m_settings.base_url = strip_trailing_slash(m_settings.base_url);
  m_settings.page_size = std::clamp(m_settings.page_size, 1, 100);
}

void JumpCloudDirectory::adapt_write_concurrency(std::string_view operation, int status) {
  if (operation != k_create && operation != k_update) {
    return; // reads are not bounded by the gate
  }
  if (status == 429) {
    m_write_gate.rate_limited();
  } else if (status >= 200 && status <= 299) {
    m_write_gate.succeeded();
  }
}

int JumpCloudDirectory::write_concurrency_limit() const {
  return m_write_gate.limit();
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
  request.stall_timeout = m_settings.stall_timeout;
  return request;
}

std::mutex& JumpCloudDirectory::user_lock(const state::UserId& id) {
  return m_user_locks[std::hash<std::string>{}(id) % m_user_locks.size()];
}

ApiResult<JumpCloudDirectory::Page> JumpCloudDirectory::read_page(std::string_view operation,
                                                                  const std::string& query,
                                                                  long long skip) {
  const std::string path = "/systemusers?limit=" + std::to_string(m_settings.page_size)
                           + "&skip=" + std::to_string(skip) + "&sort=_id" + query;
  auto response = m_client.send_json(operation, request("GET", path), http::Idempotency::read);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  Page page;
  page.skip = skip;
  page.users.reserve(static_cast<std::size_t>(m_settings.page_size));
  std::string error;
  if (!users_from_page_text(response->body, page.users, page.total, error)) {
    return Unexpected<ApiError>{m_client.error(ErrorKind::protocol,
                                               operation,
                                               "response is not valid JSON (page at skip "
                                                   + std::to_string(skip) + "): " + error,
                                               200)};
  }
  return page;
}

ApiResult<std::vector<state::DirectoryUser>>
JumpCloudDirectory::list_pages(std::string_view operation, const std::string& query) {
  const long long limit = m_settings.page_size;
  auto refuse = [&](const std::string& why) {
    return Unexpected<ApiError>{m_client.error(
        ErrorKind::protocol, operation, why + "; refusing the listing (nothing was changed)", 200)};
  };
  // The first page says how many users there are; the other pages are
  // independent (skip), so they are read concurrently.
  auto first = read_page(operation, query, 0);
  if (!first) {
    return Unexpected<ApiError>{first.error()};
  }
  const long long total = first->total;
  if (total < 0) {
    return refuse("totalCount " + std::to_string(total) + " is not a number of users");
  }
  if (total > k_max_listed_users) {
    return refuse("totalCount " + std::to_string(total) + " is more than bobsync accepts (at most "
                  + std::to_string(k_max_listed_users) + " users)");
  }
  const long long page_count = std::max<long long>(1, (total + limit - 1) / limit);
  // The full listing reports its progress (a terminal's progress line);
  // the lookups of find_users do not.
  std::mutex progress_mutex;
  long long users_read = 0;
  auto progress = [&](std::size_t page_users) {
    if (operation == k_list && m_settings.on_list_progress) {
      const std::lock_guard lock(progress_mutex);
      users_read += static_cast<long long>(page_users);
      m_settings.on_list_progress(std::min(users_read, total), total);
    }
  };
  std::vector<std::optional<Page>> pages(static_cast<std::size_t>(page_count));
  progress(first->users.size());
  pages[0] = std::move(first).value();
  if (page_count > 1) {
    std::atomic<long long> next{1};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    std::optional<ApiError> error;
    auto fail = [&](ApiError e) {
      const std::lock_guard lock(error_mutex);
      if (!error) {
        error = std::move(e);
      }
      failed = true;
    };
    auto worker = [&] {
      for (long long i = next++; i < page_count && !failed; i = next++) {
        try {
          auto page = read_page(operation, query, i * limit);
          if (!page) {
            fail(page.error());
            return;
          }
          progress(page->users.size());
          pages[static_cast<std::size_t>(i)] = std::move(page).value();
        } catch (const std::exception& e) {
          fail(m_client.error(ErrorKind::protocol, operation, e.what()));
          return;
        }
      }
    };
    const auto threads = static_cast<int>(
        std::min<long long>(std::max(1, m_settings.list_concurrency), page_count - 1));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) {
      pool.emplace_back(worker);
    }
    worker();
    for (auto& thread : pool) {
      thread.join();
    }
    if (error) {
      return Unexpected<ApiError>{std::move(*error)};
    }
  }

  // Complete and consistent, or not used at all: every page reports the same
  // totalCount (a user created or deleted meanwhile shifts the pages), every
  // page but the last is full, and the users add up to totalCount.
  long long read = 0;
  for (const auto& page : pages) {
    if (page->total != total) {
      return refuse("totalCount changed while listing (" + std::to_string(total) + " at skip 0, "
                    + std::to_string(page->total) + " at skip " + std::to_string(page->skip)
                    + "): users were created or deleted meanwhile; the next pass lists again");
    }
    read += static_cast<long long>(page->users.size());
  }
  for (const auto& page : pages) {
    const long long expected = std::min(limit, total - page->skip);
    const auto size = static_cast<long long>(page->users.size());
    if (size != expected) {
      const std::string where = "page at skip " + std::to_string(page->skip) + " has "
                                + std::to_string(size) + " users, expected "
                                + std::to_string(expected);
      if (read < total) {
        return refuse("incomplete listing: " + std::to_string(read) + " users read, totalCount "
                      + std::to_string(total) + " (" + where + ")");
      }
      return refuse("inconsistent listing: " + where + " (totalCount " + std::to_string(total)
                    + ")");
    }
  }
  std::vector<state::DirectoryUser> users;
  users.reserve(static_cast<std::size_t>(read));
  for (auto& page : pages) {
    for (auto& user : page->users) {
      if (!users.empty() && !(users.back().id < user.id)) {
        if (users.back().id == user.id) {
          return refuse("user " + user.id + " is listed twice (page at skip "
                        + std::to_string(page->skip) + ")");
        }
        return refuse("users are not in _id order (page at skip " + std::to_string(page->skip)
                      + ")");
      }
      users.push_back(std::move(user));
    }
    page.reset();
  }
  return users;
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
