#include "controller/adapters/bob/bob_hr_source.hpp"

#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "policies/bob_record.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace bobsync::controller {
namespace {

constexpr std::string_view k_search = "people search";
constexpr std::string_view k_read_one = "read employee";

std::string strip_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

std::vector<std::string> with_id(const std::vector<std::string>& fields) {
  std::vector<std::string> out = fields;
  if (std::find(out.begin(), out.end(), "root.id") == out.end()) {
    out.insert(out.begin(), "root.id");
  }
  return out;
}

http::ApiClientOptions client_options(const BobSettings& settings) {
  http::ApiClientOptions options;
  options.api_name = "Bob";
  options.retry = settings.retry;
  options.log = settings.log;
  options.on_response = settings.on_response;
  return options;
}

http::Redactor redactor_for(const BobSettings& settings, const std::string& authorization) {
  std::vector<std::string> secrets = settings.extra_secrets;
  secrets.push_back(settings.service_user_token);
  // The Base64 credential (and its token-bearing tail) would reveal the token.
  secrets.push_back(authorization.substr(std::string_view("Basic ").size()));
  return http::Redactor(std::move(secrets));
}

} // namespace

BobHrSource::BobHrSource(http::Transport& transport, http::Clock& clock, BobSettings settings)
    : m_settings(std::move(settings)),
      m_authorization(
          basic_authorization(m_settings.service_user_id, m_settings.service_user_token)),
      m_client(transport, clock, redactor_for(m_settings, m_authorization),
               client_options(m_settings)),
      m_search_limiter(clock,
                       m_settings.search_requests_per_minute,
                       std::chrono::milliseconds(60000)) {
  m_settings.base_url = strip_trailing_slash(m_settings.base_url);
}

http::Request BobHrSource::request(const std::string& path,
                                   std::string body,
                                   std::chrono::milliseconds timeout) const {
  http::Request request;
  request.method = "POST";
  request.url = m_settings.base_url + path;
  request.headers = {{"Authorization", m_authorization},
                     {"Accept", "application/json"},
                     {"Content-Type", "application/json"}};
  request.body = std::move(body);
  request.timeout = timeout;
  return request;
}

ApiResult<std::vector<state::Employee>>
BobHrSource::list_employees(const std::vector<std::string>& fields) {
  const nlohmann::json body = {
      {"fields", with_id(fields)}, {"showInactive", true}, {"humanReadable", "APPEND"}};
  auto response = m_client.send_json(k_search,
                                     request("/people/search", body.dump(), m_settings.search_timeout),
                                     http::Idempotency::read,
                                     &m_search_limiter);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  std::vector<state::Employee> employees;
  {
    const std::string text = std::move(response->body); // freed at the end of this block
    std::vector<std::string_view> objects;
    std::string error;
    if (!split_search_response(text, objects, error)) {
      return Unexpected<ApiError>{m_client.error(
          ErrorKind::protocol, k_search, "response is not a valid people list: " + error, 200)};
    }
    employees.reserve(objects.size());
    for (std::size_t i = 0; i < objects.size(); ++i) {
      auto employee = policies::employee_from_json_text(objects[i], fields, error);
      if (!employee) {
        return Unexpected<ApiError>{
            m_client.error(ErrorKind::protocol,
                           k_search,
                           "employee " + std::to_string(i + 1) + " of "
                               + std::to_string(objects.size()) + ": " + error,
                           200)};
      }
      employees.push_back(std::move(*employee));
    }
  }
  auto absent = fields_absent_for_all(employees, fields);
  const std::lock_guard lock(m_mutex);
  m_last_absent = std::move(absent);
  return employees;
}

ApiResult<std::optional<state::Employee>>
BobHrSource::get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) {
  const nlohmann::json body = {{"fields", with_id(fields)}, {"humanReadable", "APPEND"}};
  auto response = m_client.send_json(k_read_one,
                                     request("/people/" + http::url_encode(id),
                                             body.dump(),
                                             m_settings.read_timeout),
                                     http::Idempotency::read);
  if (!response) {
    if (response.error().kind == ErrorKind::not_found) {
      return std::optional<state::Employee>();
    }
    return Unexpected<ApiError>{response.error()};
  }
  std::string error;
  auto employee = policies::employee_from_json_text(response->body, fields, error);
  if (!employee) {
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::protocol, k_read_one, "employee " + id + ": " + error, 200)};
  }
  return std::optional<state::Employee>(std::move(*employee));
}

std::vector<std::string> BobHrSource::last_absent_fields() const {
  const std::lock_guard lock(m_mutex);
  return m_last_absent;
}

std::vector<std::string> fields_absent_for_all(const std::vector<state::Employee>& employees,
                                               const std::vector<std::string>& requested) {
  std::vector<std::string> absent;
  if (employees.empty()) {
    return absent;
  }
  for (const auto& field : requested) {
    if (field == "root.id"
        || std::find(absent.begin(), absent.end(), field) != absent.end()) {
      continue;
    }
    const bool seen = std::any_of(employees.begin(), employees.end(), [&](const auto& e) {
      return e.fields.contains(field);
    });
    if (!seen) {
      absent.push_back(field);
    }
  }
  return absent;
}

} // namespace bobsync::controller
