#include "controller/adapters/bob/bob_field_catalog.hpp"

#include "controller/adapters/bob/bob_payload.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace bobsync::controller {
namespace {

constexpr std::string_view k_list_fields = "list fields";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

std::string string_or_empty(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

BobFieldCatalog::BobFieldCatalog(http::Transport& transport, Clock& clock, BobSettings settings)
    : m_settings(std::move(settings)),
      m_authorization(
          basic_authorization(m_settings.service_user_id, m_settings.service_user_token)),
      m_client(
          transport,
          clock,
          [&] {
            std::vector<std::string> secrets = m_settings.extra_secrets;
            secrets.push_back(m_settings.service_user_token);
            secrets.push_back(m_authorization.substr(std::string_view("Basic ").size()));
            return http::Redactor(std::move(secrets));
          }(),
          [&] {
            http::ApiClientOptions options;
            options.api_name = "Bob";
            options.endpoint = m_settings.url_origin.empty()
                                   ? m_settings.base_url
                                   : m_settings.base_url + " (" + m_settings.url_origin + ")";
            options.retry = m_settings.retry;
            options.log = m_settings.log;
            options.on_response = m_settings.on_response;
            options.on_attempt = m_settings.on_attempt;
            return options;
          }()) {
  while (!m_settings.base_url.empty() && m_settings.base_url.back() == '/') {
    m_settings.base_url.pop_back();
  }
}

ApiResult<std::vector<BobField>> BobFieldCatalog::list_fields() {
  http::Request request;
  request.method = "GET";
  request.url = m_settings.base_url + "/company/people/fields";
  request.headers = {{"Authorization", m_authorization}, {"Accept", "application/json"}};
  request.timeout = m_settings.read_timeout;
  request.stall_timeout = m_settings.stall_timeout;
  auto response = m_client.send_json(k_list_fields, request, http::Idempotency::read);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  std::string error;
  auto fields = parse_field_catalog(response->body, error);
  if (!fields) {
    return Unexpected<ApiError>{m_client.error(ErrorKind::protocol, k_list_fields, error, 200)};
  }
  return std::move(*fields);
}

std::optional<std::vector<BobField>> parse_field_catalog(std::string_view text,
                                                         std::string& error) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    error = "the field catalogue is not a JSON array";
    return std::nullopt;
  }
  std::vector<BobField> fields;
  fields.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& item = doc[i];
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
      error = "field " + std::to_string(i) + " of the catalogue has no string \"id\"";
      return std::nullopt;
    }
    BobField f;
    f.id = item["id"].get<std::string>();
    f.name = string_or_empty(item, "name");
    f.category = string_or_empty(item, "category");
    f.type = string_or_empty(item, "type");
    f.json_path = string_or_empty(item, "jsonPath");
    if (const auto it = item.find("typeData"); it != item.end() && it->is_object()) {
      f.list_id = string_or_empty(*it, "listId");
    }
    if (const auto it = item.find("historical"); it != item.end() && it->is_boolean()) {
      f.historical = it->get<bool>();
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

std::vector<BobField> search_fields(const std::vector<BobField>& fields, std::string_view text) {
  const auto needle = lower(text);
  std::vector<BobField> out;
  for (const auto& f : fields) {
    if (needle.empty() || lower(f.id).find(needle) != std::string::npos
        || lower(f.name).find(needle) != std::string::npos
        || lower(f.category).find(needle) != std::string::npos) {
      out.push_back(f);
    }
  }
  return out;
}

} // namespace bobsync::controller
