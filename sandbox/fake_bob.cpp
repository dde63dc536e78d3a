#include "sandbox/fake_bob.hpp"

#include "sandbox/server_support.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace bobsync::sandbox {
namespace {

using nlohmann::json;

constexpr int k_slot_id = -2;     // root.id: the employee's id
constexpr int k_slot_absent = -1; // a field no employee has: null
constexpr const char* k_status = "internal.status";
constexpr const char* k_lifecycle = "internal.lifecycleStatus";
constexpr const char* k_start = "work.startDate";
constexpr const char* k_termination = "internal.terminationDate";
constexpr const char* k_last_day = "employee.lastDayOfWork";

enum class HumanMode { none, append, replace };

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hmac_sha512_base64(const std::string& key, const std::string& body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha512(),
       key.data(),
       static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()),
       body.size(),
       mac.data(),
       &length);
  return base64(mac.data(), length);
}

bool is_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return false;
  }
  for (const std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
  }
  return true;
}

bool valid_field_id(std::string_view id) {
  static const std::regex k_pattern("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)+");
  return std::regex_match(id.begin(), id.end(), k_pattern);
}

// Path of a field inside the nested shape: root.x -> [x]; a.b.c -> [a, b, c].
std::vector<std::string> nested_path(const std::string& field) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = field.find('.', start);
    parts.push_back(field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  if (parts.size() > 1 && parts.front() == "root") {
    parts.erase(parts.begin());
  }
  return parts;
}

std::string flat_key(const std::string& field) {
  std::string key = "/" + field;
  std::replace(key.begin(), key.end(), '.', '/');
  return key;
}

BobValue value_from_json(const json& value, const std::string& where) {
  if (value.is_null()) {
    return BobValue::null();
  }
  if (value.is_string()) {
    return BobValue::string(value.get<std::string>());
  }
  if (value.is_boolean()) {
    return BobValue::boolean(value.get<bool>());
  }
  if (value.is_number()) {
    return BobValue::number(value.dump());
  }
  throw std::runtime_error(where + ": values must be strings, numbers, booleans or null");
}

json value_to_json(const BobValue& value) {
  switch (value.type) {
  case BobValue::Type::null_value:
    return nullptr;
  case BobValue::Type::string:
    return value.text;
  case BobValue::Type::number:
    return json::parse(value.text, nullptr, false);
  case BobValue::Type::boolean:
    return value.text == "true";
  }
  return nullptr; // unreachable
}

struct Node {
  std::map<std::string, Node> children;
  int slot = k_slot_absent;
  bool leaf = false;
};

struct Stored {
  std::string id;
  std::vector<BobValue> values; // by slot
  bool auto_lifecycle = true;   // status / lifecycleStatus follow the dates and the clock
};

} // namespace

const BobValue* BobEmployee::find(std::string_view field) const {
  for (const auto& [name, value] : fields) {
    if (name == field) {
      return &value;
    }
  }
  return nullptr;
}

void BobEmployee::set(std::string_view field, BobValue value) {
  for (auto& [name, existing] : fields) {
    if (name == field) {
      existing = std::move(value);
      return;
    }
  }
  fields.emplace_back(std::string(field), std::move(value));
}

struct FakeBob::Impl {
  FakeBobOptions options;
  std::string expected_authorization;
  detail::FakeServer server{"FakeBob"};

  mutable std::mutex mutex;
  std::vector<std::string> slot_names;
  std::unordered_map<std::string, int> slots;
  std::vector<Stored> employees;
  std::unordered_map<std::string, std::size_t> by_id;
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> lists;
  std::set<std::string, std::less<>> hidden;
  std::deque<std::chrono::system_clock::time_point> searches;
  std::vector<SentWebhook> webhooks;
  std::uint64_t next_id = 3332883854254950000ULL;
  std::atomic<int> search_count{0};

  std::chrono::system_clock::time_point now() const {
    return options.clock ? options.clock() : std::chrono::system_clock::now();
  }
  std::string today() const { return detail::utc_date(now()); }

  // --- store (mutex held) ---------------------------------------------------

  int slot_for(const std::string& field) {
    if (field == "root.id") {
      return k_slot_id;
    }
    const auto it = slots.find(field);
    if (it != slots.end()) {
      return it->second;
    }
    const int slot = static_cast<int>(slot_names.size());
    slot_names.push_back(field);
    slots.emplace(field, slot);
    return slot;
  }

  int existing_slot(const std::string& field) const {
    if (field == "root.id") {
      return k_slot_id;
    }
    const auto it = slots.find(field);
    return it == slots.end() ? k_slot_absent : it->second;
  }

  static const BobValue& stored_value(const Stored& e, int slot) {
    static const BobValue k_null;
    if (slot < 0 || static_cast<std::size_t>(slot) >= e.values.size()) {
      return k_null;
    }
    return e.values[static_cast<std::size_t>(slot)];
  }

  std::string_view text_of(const Stored& e, const char* field) const {
    const auto& v = stored_value(e, existing_slot(field));
    return v.type == BobValue::Type::null_value ? std::string_view() : std::string_view(v.text);
  }

  // The lifecycle an auto employee has today: {lifecycleStatus, status}.
  std::pair<std::string, std::string> lifecycle_of(const Stored& e, const std::string& day) const {
    const auto start = text_of(e, k_start);
    const auto termination = text_of(e, k_termination);
    if (!termination.empty() && termination <= day) {
      return {"terminated", "Inactive"};
    }
    if (!start.empty() && start > day) {
      return {"hired", "Inactive"};
    }
    return {"employed", "Active"};
  }

  BobValue value(const Stored& e, int slot, const std::string& day) const {
    if (slot == k_slot_id) {
      return BobValue::string(e.id);
    }
    if (e.auto_lifecycle && slot >= 0) {
      const auto& name = slot_names[static_cast<std::size_t>(slot)];
      if (name == k_status) {
        return BobValue::string(lifecycle_of(e, day).second);
      }
      if (name == k_lifecycle) {
        return BobValue::string(lifecycle_of(e, day).first);
      }
    }
    return stored_value(e, slot);
  }

  bool is_active(const Stored& e, const std::string& day) const {
    const int slot = existing_slot(k_status);
    if (e.auto_lifecycle) {
      return lifecycle_of(e, day).second == "Active";
    }
    const auto& v = stored_value(e, slot);
    return v.type == BobValue::Type::null_value || v.text != "Inactive";
  }

  std::string human(const BobValue& v, int slot) const {
    if (slot >= 0) {
      const auto list = lists.find(slot_names[static_cast<std::size_t>(slot)]);
      if (list != lists.end()) {
        const auto item = list->second.find(v.text);
        if (item != list->second.end()) {
          return item->second;
        }
      }
    }
    switch (v.type) {
    case BobValue::Type::boolean:
      return v.text == "true" ? "Yes" : "No";
    case BobValue::Type::string:
      if (is_date(v.text)) {
        return v.text.substr(8, 2) + "/" + v.text.substr(5, 2) + "/" + v.text.substr(0, 4);
      }
      return v.text;
    case BobValue::Type::number:
    case BobValue::Type::null_value:
      return v.text;
    }
    return v.text; // unreachable
  }

  Stored to_stored(const BobEmployee& employee) {
    Stored stored;
    stored.id = employee.id;
    for (const auto& [field, value] : employee.fields) {
      if (field == "root.id") {
        continue;
      }
      const int slot = slot_for(field);
      if (stored.values.size() <= static_cast<std::size_t>(slot)) {
        stored.values.resize(static_cast<std::size_t>(slot) + 1);
      }
      stored.values[static_cast<std::size_t>(slot)] = value;
    }
    stored.auto_lifecycle = employee.find(k_status) == nullptr && employee.find(k_lifecycle) == nullptr;
    return stored;
  }

  BobEmployee to_public(const Stored& e) const {
    BobEmployee out;
    out.id = e.id;
    const auto day = today();
    for (std::size_t slot = 0; slot < slot_names.size(); ++slot) {
      const auto& name = slot_names[slot];
      if (e.auto_lifecycle && (name == k_status || name == k_lifecycle)) {
        out.fields.emplace_back(name, value(e, static_cast<int>(slot), day));
        continue;
      }
      if (slot < e.values.size() && e.values[slot].type != BobValue::Type::null_value) {
        out.fields.emplace_back(name, e.values[slot]);
      }
    }
    return out;
  }

  void put(Stored stored) {
    const auto it = by_id.find(stored.id);
    if (it != by_id.end()) {
      employees[it->second] = std::move(stored);
      return;
    }
    by_id.emplace(stored.id, employees.size());
    employees.push_back(std::move(stored));
  }

  void reindex() {
    by_id.clear();
    for (std::size_t i = 0; i < employees.size(); ++i) {
      by_id.emplace(employees[i].id, i);
    }
  }

  Stored* find(const std::string& id_or_email) {
    const auto it = by_id.find(id_or_email);
    if (it != by_id.end()) {
      return &employees[it->second];
    }
    if (id_or_email.find('@') != std::string::npos) {
      const int slot = existing_slot("root.email");
      for (auto& e : employees) {
        if (stored_value(e, slot).text == id_or_email) {
          return &e;
        }
      }
    }
    return nullptr;
  }

  // --- responses --------------------------------------------------------------

  struct Shape {
    Node nested;                              // machine (or human, REPLACE) tree
    std::vector<std::pair<std::string, int>> flat; // "/cat/field" -> slot
    HumanMode mode = HumanMode::none;
  };

  Shape shape_for(const std::vector<std::string>& fields, HumanMode mode) const {
    Shape shape;
    shape.mode = mode;
    auto add = [&](const std::string& field, bool with_flat) {
      const int slot = existing_slot(field);
      Node* node = &shape.nested;
      for (const auto& part : nested_path(field)) {
        node = &node->children[part];
      }
      node->leaf = true;
      node->slot = slot;
      if (with_flat) {
        shape.flat.emplace_back(flat_key(field), slot);
      }
    };
    add("root.id", false);
    for (const auto& field : fields) {
      if (hidden.count(field) != 0) {
        continue;
      }
      add(field, true);
    }
    std::sort(shape.flat.begin(), shape.flat.end());
    shape.flat.erase(std::unique(shape.flat.begin(), shape.flat.end()), shape.flat.end());
    return shape;
  }

  void emit_value(std::string& out, const BobValue& v, int slot, bool as_human) const {
    if (as_human) {
      detail::append_json_string(out, human(v, slot));
      return;
    }
    switch (v.type) {
    case BobValue::Type::null_value:
      out += "null";
      return;
    case BobValue::Type::string:
      detail::append_json_string(out, v.text);
      return;
    case BobValue::Type::number:
    case BobValue::Type::boolean:
      out += v.text;
      return;
    }
  }

  // One member `"key": value` of a nested object. In human form nulls and
  // objects without any value are left out, as Bob does.
  void emit_member(std::string& out,
                   const std::string& key,
                   const Node& node,
                   const Stored& e,
                   const std::string& day,
                   bool human_form,
                   bool& first) const {
    const std::size_t mark = out.size();
    if (!first) {
      out += ',';
    }
    detail::append_json_string(out, key);
    out += ':';
    if (node.leaf) {
      const auto v = value(e, node.slot, day);
      if (human_form && v.type == BobValue::Type::null_value) {
        out.resize(mark);
        return;
      }
      emit_value(out, v, node.slot, human_form && v.type != BobValue::Type::null_value);
    } else {
      out += '{';
      bool inner_first = true;
      for (const auto& [child_key, child] : node.children) {
        emit_member(out, child_key, child, e, day, human_form, inner_first);
      }
      if (human_form && inner_first) {
        out.resize(mark);
        return;
      }
      out += '}';
    }
    first = false;
  }

  void emit_employee(std::string& out, const Shape& shape, const Stored& e, const std::string& day) const {
    // Top-level keys in sorted order, as Bob sends them: flat "/..." keys sort
    // before the nested ones; "humanReadable" sits among them.
    out += '{';
    bool first = true;
    const bool replace = shape.mode == HumanMode::replace;
    for (const auto& [key, slot] : shape.flat) {
      const auto v = value(e, slot, day);
      if (v.type == BobValue::Type::null_value) {
        continue;
      }
      if (!first) {
        out += ',';
      }
      first = false;
      detail::append_json_string(out, key);
      out += ":{\"value\":";
      emit_value(out, v, slot, replace);
      out += '}';
    }
    bool human_done = shape.mode != HumanMode::append;
    for (const auto& [key, node] : shape.nested.children) {
      if (!human_done && key > "humanReadable") {
        emit_human(out, shape, e, day, first);
        human_done = true;
      }
      emit_member(out, key, node, e, day, replace, first);
    }
    if (!human_done) {
      emit_human(out, shape, e, day, first);
    }
    out += '}';
  }

  void emit_human(std::string& out, const Shape& shape, const Stored& e, const std::string& day, bool& first) const {
    if (!first) {
      out += ',';
    }
    first = false;
    out += "\"humanReadable\":{";
    bool inner_first = true;
    for (const auto& [key, node] : shape.nested.children) {
      emit_member(out, key, node, e, day, true, inner_first);
    }
    out += '}';
  }

  // --- webhooks -------------------------------------------------------------

  SentWebhook send_webhook(const std::string& type, const std::string& employee_id, json data) {
    data["employeeId"] = employee_id;
    std::string url;
    std::string secret;
    long long company = 0;
    {
      const std::lock_guard lock(mutex);
      url = options.webhook_url;
      secret = options.webhook_secret;
      company = options.company_id;
    }
    // Key order as in Bob's documented envelope.
    std::string body = "{\"companyId\":" + std::to_string(company) + ",\"type\":" + detail::json_quote(type)
                       + ",\"triggeredBy\":\"system\",\"triggeredAt\":"
                       + detail::json_quote(detail::utc_timestamp(now(), false))
                       + ",\"version\":\"v2\",\"data\":" + data.dump() + "}";
    SentWebhook sent;
    sent.type = type;
    sent.employee_id = employee_id;
    sent.signature = hmac_sha512_base64(secret, body);
    sent.body = body;
    if (url.empty()) {
      sent.error = "no webhook URL configured";
    } else {
      deliver(url, sent);
    }
    const std::lock_guard lock(mutex);
    webhooks.push_back(sent);
    return sent;
  }

  static void deliver(const std::string& url, SentWebhook& sent) {
    static const std::regex k_url("(https?://[^/]+)(/.*)?");
    std::smatch match;
    if (!std::regex_match(url, match, k_url)) {
      sent.error = "malformed webhook URL";
      return;
    }
    httplib::Client client(match[1].str());
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    const std::string path = match[2].matched ? match[2].str() : "/";
    auto result = client.Post(path.c_str(),
                              httplib::Headers{{"Bob-Signature", sent.signature}},
                              sent.body,
                              "application/json");
    if (!result) {
      sent.error = httplib::to_string(result.error());
      return;
    }
    sent.status = result->status;
  }
};

namespace {

json error_body(const std::string& key, const std::string& message) {
  return {{"key", key}, {"error", message}};
}

void reply_json(httplib::Response& response, int status, const json& body) {
  detail::reply(response, status, body.dump());
}

std::optional<HumanMode> human_mode(const json& body) {
  const auto it = body.find("humanReadable");
  if (it == body.end() || it->is_null()) {
    return HumanMode::none;
  }
  if (!it->is_string()) {
    return std::nullopt;
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text.empty()) {
    return HumanMode::none;
  }
  if (text == "APPEND") {
    return HumanMode::append;
  }
  if (text == "REPLACE") {
    return HumanMode::replace;
  }
  return std::nullopt;
}

// The fields of a request body; Bob's basic set when absent. Sets `error`.
std::vector<std::string> requested_fields(const json& body, std::string& error) {
  const auto it = body.find("fields");
  if (it == body.end() || it->is_null()) {
    return {"root.id", "root.email", "root.firstName", "root.surname", "root.displayName",
            "root.secondName", "root.companyId", "root.creationDateTime", "root.avatarUrl"};
  }
  if (!it->is_array()) {
    error = "fields must be an array of field ids";
    return {};
  }
  std::vector<std::string> fields;
  for (const auto& f : *it) {
    if (!f.is_string() || !valid_field_id(f.get_ref<const std::string&>())) {
      error = "invalid field id " + f.dump() + " (use dot notation, e.g. work.title)";
      return {};
    }
    fields.push_back(f.get<std::string>());
  }
  return fields;
}

} // namespace

FakeBob::FakeBob(FakeBobOptions options)
    : m_impl(std::make_unique<Impl>()) {
  auto& impl = *m_impl;
  impl.options = std::move(options);
  for (const char* field : {k_start, k_termination, k_last_day, k_status, k_lifecycle}) {
    impl.slot_for(field);
  }
  impl.expected_authorization = "Basic ";
  {
    const std::string credentials = impl.options.service_user_id + ":" + impl.options.service_user_token;
    impl.expected_authorization +=
        base64(reinterpret_cast<const unsigned char*>(credentials.data()), credentials.size());
  }
  auto& http = impl.server.http();

  http.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    auto& self = *m_impl;
    if (request.path.rfind("/_admin", 0) == 0) {
      if (!detail::is_loopback_peer(request)) {
        reply_json(response, 403, error_body("forbidden", "admin endpoints are loopback only"));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (self.server.before_handling(request, response)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    if (request.get_header_value("Authorization") != self.expected_authorization) {
      reply_json(response, 401, error_body("unauthorized", "Unauthorized: invalid service user credentials"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http.Post("/v1/people/search", [this](const httplib::Request& request, httplib::Response& response) {
    auto& self = *m_impl;
    ++self.search_count;
    const auto now = self.now();
    {
      const std::lock_guard lock(self.mutex);
      const int limit = self.options.search_requests_per_minute;
      if (limit > 0) {
        while (!self.searches.empty() && now - self.searches.front() >= std::chrono::minutes(1)) {
          self.searches.pop_front();
        }
        if (static_cast<int>(self.searches.size()) >= limit) {
          const auto reset = std::chrono::ceil<std::chrono::seconds>(
              (self.searches.front() + std::chrono::minutes(1)).time_since_epoch());
          reply_json(response,
                     429,
                     error_body("rateLimit",
                                "Too many requests: people search allows " + std::to_string(limit)
                                    + " requests per minute"));
          response.set_header("X-RateLimit-Limit", std::to_string(limit));
          response.set_header("X-RateLimit-Remaining", "0");
          response.set_header("X-RateLimit-Reset", std::to_string(reset.count()));
          return;
        }
        self.searches.push_back(now);
      }
    }
    const auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      reply_json(response, 400, error_body("badRequest", "request body must be a JSON object"));
      return;
    }
    std::string error;
    const auto fields = requested_fields(body, error);
    const auto mode = human_mode(body);
    if (!error.empty() || !mode) {
      reply_json(response, 400, error_body("badRequest", error.empty() ? "humanReadable must be APPEND, REPLACE or empty" : error));
      return;
    }
    const auto show = body.find("showInactive");
    if (show != body.end() && !show->is_boolean()) {
      reply_json(response, 400, error_body("badRequest", "showInactive must be a boolean"));
      return;
    }
    const bool show_inactive = show != body.end() && show->get<bool>();
    // Filters: at most one, on root.id or root.email, operator equals.
    std::optional<std::pair<std::string, std::set<std::string>>> filter;
    const auto filters = body.find("filters");
    if (filters != body.end() && !filters->is_null()) {
      if (!filters->is_array() || filters->size() > 1) {
        reply_json(response, 400, error_body("badRequest", "filters: at most one filter is supported"));
        return;
      }
      if (filters->size() == 1) {
        const auto& f = (*filters)[0];
        const auto path = f.value("fieldPath", std::string());
        const auto op = f.value("operator", std::string());
        const auto values = f.find("values");
        if ((path != "root.id" && path != "root.email") || op != "equals" || values == f.end()
            || !values->is_array() || values->empty()) {
          reply_json(response,
                     400,
                     error_body("badRequest",
                                "filters: fieldPath must be root.id or root.email, operator equals, "
                                "values non-empty"));
          return;
        }
        std::set<std::string> wanted;
        for (const auto& v : *values) {
          if (v.is_string()) {
            wanted.insert(v.get<std::string>());
          }
        }
        filter.emplace(path, std::move(wanted));
      }
    }

    auto out = std::make_unique<std::string>();
    {
      const std::lock_guard lock(self.mutex);
      const auto shape = self.shape_for(fields, *mode);
      const auto day = self.today();
      const int email_slot = self.existing_slot("root.email");
      out->reserve(std::max<std::size_t>(64, self.employees.size() * 512));
      *out += "{\"employees\":[";
      bool first = true;
      for (const auto& e : self.employees) {
        if (!show_inactive && !self.is_active(e, day)) {
          continue;
        }
        if (filter) {
          const std::string& key = filter->first == "root.id" ? e.id : Impl::stored_value(e, email_slot).text;
          if (filter->second.count(key) == 0) {
            continue;
          }
        }
        if (!first) {
          *out += ',';
        }
        first = false;
        self.emit_employee(*out, shape, e, day);
      }
      *out += "]}";
    }
    detail::reply(response, 200, std::move(*out));
  });

  http.Post(R"(/v1/people/([^/]+))", [this](const httplib::Request& request, httplib::Response& response) {
    auto& self = *m_impl;
    const auto body = json::parse(request.body.empty() ? std::string("{}") : request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      reply_json(response, 400, error_body("badRequest", "request body must be a JSON object"));
      return;
    }
    std::string error;
    const auto fields = requested_fields(body, error);
    const auto mode = human_mode(body);
    if (!error.empty() || !mode) {
      reply_json(response, 400, error_body("badRequest", error.empty() ? "humanReadable must be APPEND, REPLACE or empty" : error));
      return;
    }
    const std::string identifier = request.matches[1].str();
    std::string out;
    {
      const std::lock_guard lock(self.mutex);
      const Stored* e = self.find(identifier);
      if (e == nullptr) {
        reply_json(response, 404, error_body("notFound", "Employee " + identifier + " not found"));
        return;
      }
      self.emit_employee(out, self.shape_for(fields, *mode), *e, self.today());
    }
    detail::reply(response, 200, std::move(out));
  });

  // ---- admin -----------------------------------------------------------------
  http.Get("/_admin/employees", [this](const httplib::Request& /*request*/, httplib::Response& response) {
    json out = json::array();
    for (const auto& e : employees()) {
      json object = {{"id", e.id}};
      for (const auto& [field, value] : e.fields) {
        object[field] = value_to_json(value);
      }
      out.push_back(std::move(object));
    }
    reply_json(response, 200, out);
  });
  http.Get(R"(/_admin/employees/([^/]+))", [this](const httplib::Request& request, httplib::Response& response) {
    const auto e = employee(request.matches[1].str());
    if (!e) {
      reply_json(response, 404, error_body("notFound", "no such employee"));
      return;
    }
    json object = {{"id", e->id}};
    for (const auto& [field, value] : e->fields) {
      object[field] = value_to_json(value);
    }
    reply_json(response, 200, object);
  });
  http.Post("/_admin/employees", [this](const httplib::Request& request, httplib::Response& response) {
    const auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      reply_json(response, 400, error_body("badRequest", "body must be an employee object"));
      return;
    }
    BobEmployee e;
    try {
      for (const auto& [key, value] : body.items()) {
        if (key == "id") {
          e.id = value.is_string() ? value.get<std::string>() : value.dump();
        } else {
          e.set(key, value_from_json(value, key));
        }
      }
    } catch (const std::exception& ex) {
      reply_json(response, 400, error_body("badRequest", ex.what()));
      return;
    }
    const auto id = hire(std::move(e));
    reply_json(response, 201, {{"id", id}});
  });
  http.Patch(R"(/_admin/employees/([^/]+))", [this](const httplib::Request& request, httplib::Response& response) {
    const auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      reply_json(response, 400, error_body("badRequest", "body must be {\"<field>\": value, ...}"));
      return;
    }
    std::vector<std::pair<std::string, BobValue>> changes;
    try {
      for (const auto& [key, value] : body.items()) {
        changes.emplace_back(key, value_from_json(value, key));
      }
    } catch (const std::exception& ex) {
      reply_json(response, 400, error_body("badRequest", ex.what()));
      return;
    }
    if (!change(request.matches[1].str(), changes)) {
      reply_json(response, 404, error_body("notFound", "no such employee"));
      return;
    }
    reply_json(response, 200, {{"id", request.matches[1].str()}});
  });
  http.Post(R"(/_admin/employees/([^/]+)/terminate)", [this](const httplib::Request& request, httplib::Response& response) {
    const auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("terminationDate")
        || !body["terminationDate"].is_string()) {
      reply_json(response, 400, error_body("badRequest", "body must be {\"terminationDate\": \"YYYY-MM-DD\", \"lastDayOfWork\"?}"));
      return;
    }
    std::optional<std::string> last;
    if (body.contains("lastDayOfWork") && body["lastDayOfWork"].is_string()) {
      last = body["lastDayOfWork"].get<std::string>();
    }
    if (!terminate(request.matches[1].str(), body["terminationDate"].get<std::string>(), last)) {
      reply_json(response, 404, error_body("notFound", "no such employee"));
      return;
    }
    reply_json(response, 200, {{"id", request.matches[1].str()}});
  });
  http.Delete(R"(/_admin/employees/([^/]+))", [this](const httplib::Request& request, httplib::Response& response) {
    if (!remove(request.matches[1].str())) {
      reply_json(response, 404, error_body("notFound", "no such employee"));
      return;
    }
    reply_json(response, 200, {{"id", request.matches[1].str()}});
  });
  http.Get("/_admin/webhooks", [this](const httplib::Request& /*request*/, httplib::Response& response) {
    json out = json::array();
    for (const auto& w : webhooks()) {
      out.push_back({{"type", w.type}, {"employeeId", w.employee_id}, {"status", w.status}, {"error", w.error}, {"body", w.body}});
    }
    reply_json(response, 200, out);
  });
  detail::install_fault_admin(http, impl.server);

  impl.server.start(impl.options.host, impl.options.port);
}

FakeBob::~FakeBob() {
  m_impl->server.stop();
}

std::string FakeBob::base_url() const {
  return "http://" + m_impl->server.host() + ":" + std::to_string(m_impl->server.port()) + "/v1";
}

int FakeBob::port() const {
  return m_impl->server.port();
}

void FakeBob::load_seed(std::string_view json_text) {
  const auto seed = json::parse(json_text, nullptr, false);
  if (seed.is_discarded() || !seed.is_object()) {
    throw std::runtime_error("Bob seed: not a JSON object");
  }
  if (seed.contains("companyId") && seed["companyId"].is_number_integer()) {
    const std::lock_guard lock(m_impl->mutex);
    m_impl->options.company_id = seed["companyId"].get<long long>();
  }
  if (seed.contains("lists")) {
    if (!seed["lists"].is_object()) {
      throw std::runtime_error("Bob seed: \"lists\" must map field ids to {itemId: name}");
    }
    for (const auto& [field, items] : seed["lists"].items()) {
      if (!items.is_object()) {
        throw std::runtime_error("Bob seed: lists." + field + " must be {itemId: name}");
      }
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const auto& [item, name] : items.items()) {
        if (!name.is_string()) {
          throw std::runtime_error("Bob seed: lists." + field + "." + item + " must be a string");
        }
        pairs.emplace_back(item, name.get<std::string>());
      }
      define_list(field, pairs);
    }
  }
  if (seed.contains("hiddenFields")) {
    for (const auto& f : seed["hiddenFields"]) {
      if (f.is_string()) {
        hide_field(f.get<std::string>());
      }
    }
  }
  if (!seed.contains("employees") || !seed["employees"].is_array()) {
    throw std::runtime_error("Bob seed: \"employees\" must be an array");
  }
  std::size_t index = 0;
  for (const auto& object : seed["employees"]) {
    const std::string where = "Bob seed: employees[" + std::to_string(index++) + "]";
    if (!object.is_object() || !object.contains("id") || !object["id"].is_string()
        || object["id"].get_ref<const std::string&>().empty()) {
      throw std::runtime_error(where + ": needs a string \"id\"");
    }
    BobEmployee e;
    e.id = object["id"].get<std::string>();
    for (const auto& [key, value] : object.items()) {
      if (key == "id") {
        continue;
      }
      if (!valid_field_id(key)) {
        throw std::runtime_error(where + ": \"" + key + "\" is not a dot field id");
      }
      e.set(key, value_from_json(value, where + "." + key));
    }
    put_employee(std::move(e));
  }
}

void FakeBob::define_list(const std::string& field_id,
                          const std::vector<std::pair<std::string, std::string>>& items) {
  const std::lock_guard lock(m_impl->mutex);
  auto& list = m_impl->lists[field_id];
  for (const auto& [item, name] : items) {
    list[item] = name;
  }
}

void FakeBob::hide_field(const std::string& field_id) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->hidden.insert(field_id);
}

void FakeBob::show_field(const std::string& field_id) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->hidden.erase(field_id);
}

void FakeBob::put_employee(BobEmployee employee) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->put(m_impl->to_stored(employee));
}

std::optional<BobEmployee> FakeBob::employee(const std::string& id) const {
  const std::lock_guard lock(m_impl->mutex);
  const auto it = m_impl->by_id.find(id);
  if (it == m_impl->by_id.end()) {
    return std::nullopt;
  }
  return m_impl->to_public(m_impl->employees[it->second]);
}

std::vector<BobEmployee> FakeBob::employees() const {
  const std::lock_guard lock(m_impl->mutex);
  std::vector<BobEmployee> out;
  out.reserve(m_impl->employees.size());
  for (const auto& e : m_impl->employees) {
    out.push_back(m_impl->to_public(e));
  }
  return out;
}

std::size_t FakeBob::employee_count() const {
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->employees.size();
}

void FakeBob::reserve(std::size_t count) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->employees.reserve(count);
  m_impl->by_id.reserve(count);
}

std::string FakeBob::hire(BobEmployee employee) {
  bool joined = false;
  std::string id;
  {
    const std::lock_guard lock(m_impl->mutex);
    if (employee.id.empty()) {
      do {
        employee.id = std::to_string(m_impl->next_id++);
      } while (m_impl->by_id.count(employee.id) != 0);
    }
    id = employee.id;
    auto stored = m_impl->to_stored(employee);
    const auto day = m_impl->today();
    joined = m_impl->is_active(stored, day);
    m_impl->put(std::move(stored));
  }
  m_impl->send_webhook("employee.created", id, json::object());
  if (joined) {
    m_impl->send_webhook("employee.joined", id, json::object());
  }
  return id;
}

bool FakeBob::change(const std::string& id, const std::vector<std::pair<std::string, BobValue>>& fields) {
  json updated = json::array();
  {
    const std::lock_guard lock(m_impl->mutex);
    Stored* e = m_impl->find(id);
    if (e == nullptr || e->id != id) {
      return false;
    }
    for (const auto& [field, value] : fields) {
      if (field == "root.id") {
        continue;
      }
      const int slot = m_impl->slot_for(field);
      if (e->values.size() <= static_cast<std::size_t>(slot)) {
        e->values.resize(static_cast<std::size_t>(slot) + 1);
      }
      e->values[static_cast<std::size_t>(slot)] = value;
      if (field == k_status || field == k_lifecycle) {
        e->auto_lifecycle = false;
      }
      updated.push_back(field);
    }
  }
  m_impl->send_webhook("employee.updated", id, {{"fieldUpdates", updated}});
  return true;
}

bool FakeBob::terminate(const std::string& id,
                        const std::string& termination_date,
                        const std::optional<std::string>& last_day_of_work) {
  bool effective = false;
  {
    const std::lock_guard lock(m_impl->mutex);
    Stored* e = m_impl->find(id);
    if (e == nullptr || e->id != id) {
      return false;
    }
    auto set = [&](const char* field, const std::string& value) {
      const int slot = m_impl->slot_for(field);
      if (e->values.size() <= static_cast<std::size_t>(slot)) {
        e->values.resize(static_cast<std::size_t>(slot) + 1);
      }
      e->values[static_cast<std::size_t>(slot)] = BobValue::string(value);
    };
    set(k_termination, termination_date);
    set(k_last_day, last_day_of_work.value_or(termination_date));
    const auto day = m_impl->today();
    effective = termination_date <= day;
    if (!e->auto_lifecycle && effective) {
      set(k_lifecycle, "terminated");
      set(k_status, "Inactive");
    }
  }
  m_impl->send_webhook(
      "table.entry.created", id, {{"tableId", "lifecycle"}, {"effectiveDate", termination_date}});
  if (effective) {
    m_impl->send_webhook("employee.left", id, json::object());
    m_impl->send_webhook("employee.inactivated", id, json::object());
  }
  return true;
}

bool FakeBob::remove(const std::string& id) {
  {
    const std::lock_guard lock(m_impl->mutex);
    const auto it = m_impl->by_id.find(id);
    if (it == m_impl->by_id.end()) {
      return false;
    }
    m_impl->employees.erase(m_impl->employees.begin() + static_cast<std::ptrdiff_t>(it->second));
    m_impl->reindex();
  }
  m_impl->send_webhook("employee.deleted", id, json::object());
  return true;
}

void FakeBob::set_webhook(std::string url, std::string secret) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->options.webhook_url = std::move(url);
  m_impl->options.webhook_secret = std::move(secret);
}

std::vector<SentWebhook> FakeBob::webhooks() const {
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->webhooks;
}

FaultPlan& FakeBob::faults() {
  return m_impl->server.faults();
}

RequestStats& FakeBob::stats() {
  return m_impl->server.stats();
}

int FakeBob::search_count() const {
  return m_impl->search_count.load();
}

} // namespace bobsync::sandbox
