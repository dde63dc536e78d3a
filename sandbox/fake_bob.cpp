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
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
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
    parts.push_back(
        field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
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

// A value as stored: its type and text, viewing packed storage.
struct ValueView {
  BobValue::Type type = BobValue::Type::null_value;
  std::string_view text;
};

// Fixed slots, the ones the lifecycle reads.
constexpr int k_slot_start = 0;
constexpr int k_slot_termination = 1;
constexpr int k_slot_last_day = 2;
constexpr int k_slot_status = 3;
constexpr int k_slot_lifecycle = 4;
constexpr std::array<const char*, 5> k_fixed_slots = {
    k_start, k_termination, k_last_day, k_status, k_lifecycle};

// One employee, immutable once stored (a change stores a new copy), so a
// response can be streamed from a snapshot without holding the lock. Values
// are packed into one string: per slot a type byte, a 4-byte length and the
// text (100,000 employees fit in ~50 MB).
struct Stored {
  std::string id;
  std::string packed;
  bool auto_lifecycle = true; // status / lifecycleStatus follow the dates and the clock

  static std::string pack(const std::vector<BobValue>& values) {
    std::size_t used = values.size();
    while (used > 0 && values[used - 1].type == BobValue::Type::null_value) {
      --used;
    }
    std::string out;
    std::size_t size = 0;
    for (std::size_t i = 0; i < used; ++i) {
      size += 5 + values[i].text.size();
    }
    out.reserve(size);
    for (std::size_t i = 0; i < used; ++i) {
      out += static_cast<char>(values[i].type);
      const auto length = static_cast<std::uint32_t>(values[i].text.size());
      for (int b = 0; b < 4; ++b) {
        out += static_cast<char>((length >> (8U * static_cast<unsigned>(b))) & 0xFFU);
      }
      out += values[i].text;
    }
    return out;
  }

  void unpack(std::vector<ValueView>& out) const {
    out.clear();
    std::size_t i = 0;
    const std::string_view p(packed);
    while (i + 5 <= p.size()) {
      ValueView v;
      v.type = static_cast<BobValue::Type>(static_cast<unsigned char>(p[i]));
      std::uint32_t length = 0;
      for (int b = 0; b < 4; ++b) {
        length |= static_cast<std::uint32_t>(
                      static_cast<unsigned char>(p[i + 1 + static_cast<std::size_t>(b)]))
                  << (8U * static_cast<unsigned>(b));
      }
      v.text = p.substr(i + 5, length);
      out.push_back(v);
      i += 5 + length;
    }
  }

  std::vector<BobValue> values() const {
    std::vector<ValueView> views;
    unpack(views);
    std::vector<BobValue> out;
    out.reserve(views.size());
    for (const auto& v : views) {
      out.push_back({v.type, std::string(v.text)});
    }
    return out;
  }
};

using StoredPtr = std::shared_ptr<const Stored>;
using Items = std::unordered_map<std::string, std::string>;
using Lists = std::unordered_map<std::string, Items>; // field id -> item id -> name

ValueView view_at(const std::vector<ValueView>& values, int slot) {
  if (slot < 0 || static_cast<std::size_t>(slot) >= values.size()) {
    return {};
  }
  return values[static_cast<std::size_t>(slot)];
}

// {lifecycleStatus, status} of an auto-lifecycle employee on `day`.
std::pair<const char*, const char*> lifecycle_on(const std::vector<ValueView>& values,
                                                 const std::string& day) {
  const auto start = view_at(values, k_slot_start);
  const auto termination = view_at(values, k_slot_termination);
  if (termination.type != BobValue::Type::null_value && !termination.text.empty()
      && termination.text <= day) {
    return {"terminated", "Inactive"};
  }
  if (start.type != BobValue::Type::null_value && !start.text.empty() && start.text > day) {
    return {"hired", "Inactive"};
  }
  return {"employed", "Active"};
}

// The value of `slot` as served today: the id, a computed lifecycle, or the stored value.
ValueView
served(const Stored& e, const std::vector<ValueView>& values, int slot, const std::string& day) {
  if (slot == k_slot_id) {
    return {BobValue::Type::string, e.id};
  }
  if (e.auto_lifecycle && (slot == k_slot_status || slot == k_slot_lifecycle)) {
    const auto [lifecycle, status] = lifecycle_on(values, day);
    return {BobValue::Type::string, slot == k_slot_status ? status : lifecycle};
  }
  return view_at(values, slot);
}

bool active_on(const Stored& e, const std::vector<ValueView>& values, const std::string& day) {
  const auto status = served(e, values, k_slot_status, day);
  return status.type == BobValue::Type::null_value || status.text != "Inactive";
}

struct Node {
  std::map<std::string, Node> children;
  int slot = k_slot_absent;
  const Items* list = nullptr;
  bool leaf = false;
};

struct FlatEntry {
  std::string key; // "/work/title"
  int slot = k_slot_absent;
  const Items* list = nullptr;
  bool operator<(const FlatEntry& other) const { return key < other.key; }
};

// How to render the employees of one request; owns a snapshot of the lists.
struct Shape {
  Node nested;
  std::vector<FlatEntry> flat;
  HumanMode mode = HumanMode::none;
  std::shared_ptr<const Lists> lists;
  std::string day;
};

std::string human_text(const ValueView& v, const Items* list) {
  if (list != nullptr) {
    const auto item = list->find(std::string(v.text));
    if (item != list->end()) {
      return item->second;
    }
  }
  switch (v.type) {
  case BobValue::Type::boolean:
    return v.text == "true" ? "Yes" : "No";
  case BobValue::Type::string:
    if (is_date(v.text)) {
      return std::string(v.text.substr(8, 2)) + "/" + std::string(v.text.substr(5, 2)) + "/"
             + std::string(v.text.substr(0, 4));
    }
    return std::string(v.text);
  case BobValue::Type::number:
  case BobValue::Type::null_value:
    return std::string(v.text);
  }
  return std::string(v.text); // unreachable
}

void emit_value(std::string& out, const ValueView& v, const Items* list, bool as_human) {
  if (as_human) {
    detail::append_json_string(out, human_text(v, list));
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

// Renders employees as Bob does: flat "/cat/field": {"value"} keys for
// non-null values, the nested shape (root fields at the top), and the
// humanReadable node; top-level keys sorted, as in Bob's answers.
class Renderer {
public:
  explicit Renderer(const Shape& shape)
      : m_shape(shape) {}

  void employee(std::string& out, const Stored& e) {
    e.unpack(m_values);
    out += '{';
    bool first = true;
    const bool replace = m_shape.mode == HumanMode::replace;
    for (const auto& entry : m_shape.flat) {
      const auto v = served(e, m_values, entry.slot, m_shape.day);
      if (v.type == BobValue::Type::null_value) {
        continue;
      }
      if (!first) {
        out += ',';
      }
      first = false;
      detail::append_json_string(out, entry.key);
      out += ":{\"value\":";
      emit_value(out, v, entry.list, replace);
      out += '}';
    }
    bool human_done = m_shape.mode != HumanMode::append;
    for (const auto& [key, node] : m_shape.nested.children) {
      if (!human_done && key > "humanReadable") {
        human(out, e, first);
        human_done = true;
      }
      member(out, key, node, e, replace, first);
    }
    if (!human_done) {
      human(out, e, first);
    }
    out += '}';
  }

private:
  void human(std::string& out, const Stored& e, bool& first) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += "\"humanReadable\":{";
    bool inner_first = true;
    for (const auto& [key, node] : m_shape.nested.children) {
      member(out, key, node, e, true, inner_first);
    }
    out += '}';
  }

  // One `"key": value` of a nested object. In human form nulls and objects
  // without any value are left out, as Bob does.
  void member(std::string& out,
              const std::string& key,
              const Node& node,
              const Stored& e,
              bool human_form,
              bool& first) {
    const std::size_t mark = out.size();
    if (!first) {
      out += ',';
    }
    detail::append_json_string(out, key);
    out += ':';
    if (node.leaf) {
      const auto v = served(e, m_values, node.slot, m_shape.day);
      if (human_form && v.type == BobValue::Type::null_value) {
        out.resize(mark);
        return;
      }
      emit_value(out, v, node.list, human_form && v.type != BobValue::Type::null_value);
    } else {
      out += '{';
      bool inner_first = true;
      for (const auto& [child_key, child] : node.children) {
        member(out, child_key, child, e, human_form, inner_first);
      }
      if (human_form && inner_first) {
        out.resize(mark);
        return;
      }
      out += '}';
    }
    first = false;
  }

  const Shape& m_shape;
  std::vector<ValueView> m_values;
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
  std::vector<StoredPtr> employees;
  std::unordered_map<std::string, std::size_t> by_id;
  std::shared_ptr<const Lists> lists = std::make_shared<Lists>();
  std::set<std::string, std::less<>> hidden;
  std::vector<BobFieldMeta> catalogue = default_field_catalogue();
  std::deque<std::chrono::system_clock::time_point> searches;
  std::vector<SentWebhook> webhooks;
  std::uint64_t next_id = 3332883854254950000ULL;
  std::atomic<int> search_count{0};

  Impl() {
    for (const char* field : k_fixed_slots) {
      slot_for(field);
    }
  }

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

  // Applies `fields` to a copy of `base` (or a new record) and packs it.
  StoredPtr build(const std::string& id,
                  const Stored* base,
                  const std::vector<std::pair<std::string, BobValue>>& fields) {
    auto stored = std::make_shared<Stored>();
    stored->id = id;
    std::vector<BobValue> values;
    if (base != nullptr) {
      values = base->values();
      stored->auto_lifecycle = base->auto_lifecycle;
    }
    for (const auto& [field, value] : fields) {
      if (field == "root.id") {
        continue;
      }
      const int slot = slot_for(field);
      if (values.size() <= static_cast<std::size_t>(slot)) {
        values.resize(static_cast<std::size_t>(slot) + 1);
      }
      values[static_cast<std::size_t>(slot)] = value;
      if (field == k_status || field == k_lifecycle) {
        stored->auto_lifecycle = false;
      }
    }
    stored->packed = Stored::pack(values);
    return stored;
  }

  BobEmployee to_public(const Stored& e) const {
    BobEmployee out;
    out.id = e.id;
    const auto day = today();
    std::vector<ValueView> values;
    e.unpack(values);
    for (std::size_t slot = 0; slot < slot_names.size(); ++slot) {
      const int s = static_cast<int>(slot);
      const auto v = served(e, values, s, day);
      if (v.type != BobValue::Type::null_value) {
        out.fields.emplace_back(slot_names[slot], BobValue{v.type, std::string(v.text)});
      }
    }
    return out;
  }

  void put(StoredPtr stored) {
    const auto it = by_id.find(stored->id);
    if (it != by_id.end()) {
      employees[it->second] = std::move(stored);
      return;
    }
    by_id.emplace(stored->id, employees.size());
    employees.push_back(std::move(stored));
  }

  void reindex() {
    by_id.clear();
    for (std::size_t i = 0; i < employees.size(); ++i) {
      by_id.emplace(employees[i]->id, i);
    }
  }

  StoredPtr find(const std::string& id_or_email) const {
    const auto it = by_id.find(id_or_email);
    if (it != by_id.end()) {
      return employees[it->second];
    }
    if (id_or_email.find('@') != std::string::npos) {
      const int slot = existing_slot("root.email");
      std::vector<ValueView> values;
      for (const auto& e : employees) {
        e->unpack(values);
        if (view_at(values, slot).text == id_or_email) {
          return e;
        }
      }
    }
    return nullptr;
  }

  Shape shape_for(const std::vector<std::string>& fields, HumanMode mode) const {
    Shape shape;
    shape.mode = mode;
    shape.lists = lists;
    shape.day = today();
    auto list_of = [&](const std::string& field) -> const Items* {
      const auto it = shape.lists->find(field);
      return it == shape.lists->end() ? nullptr : &it->second;
    };
    auto add = [&](const std::string& field, bool with_flat) {
      const int slot = existing_slot(field);
      Node* node = &shape.nested;
      for (const auto& part : nested_path(field)) {
        node = &node->children[part];
      }
      node->leaf = true;
      node->slot = slot;
      node->list = list_of(field);
      if (with_flat) {
        shape.flat.push_back({flat_key(field), slot, node->list});
      }
    };
    add("root.id", false);
    for (const auto& field : fields) {
      if (hidden.count(field) == 0) {
        add(field, true);
      }
    }
    std::sort(shape.flat.begin(), shape.flat.end());
    shape.flat.erase(
        std::unique(shape.flat.begin(),
                    shape.flat.end(),
                    [](const FlatEntry& a, const FlatEntry& b) { return a.key == b.key; }),
        shape.flat.end());
    return shape;
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
    std::string body = "{\"companyId\":" + std::to_string(company) + ",\"type\":"
                       + detail::json_quote(type) + ",\"triggeredBy\":\"system\",\"triggeredAt\":"
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
    return {"root.id",
            "root.email",
            "root.firstName",
            "root.surname",
            "root.displayName",
            "root.secondName",
            "root.companyId",
            "root.creationDateTime",
            "root.avatarUrl"};
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

// A people request (search or read one): its body, the fields asked for and
// the human-readable mode. Answers 400 and gives nullopt when the body is not
// a JSON object or names them wrongly. An empty body counts as {} only where
// Bob accepts none (`empty_is_object`).
struct PeopleRequest {
  json body;
  std::vector<std::string> fields;
  HumanMode mode = HumanMode::none;
};

std::optional<PeopleRequest>
read_people_request(const std::string& text, bool empty_is_object, httplib::Response& response) {
  auto body =
      json::parse(text.empty() && empty_is_object ? std::string("{}") : text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    reply_json(response, 400, error_body("badRequest", "request body must be a JSON object"));
    return std::nullopt;
  }
  std::string error;
  auto fields = requested_fields(body, error);
  const auto mode = human_mode(body);
  if (!error.empty() || !mode) {
    reply_json(
        response,
        400,
        error_body("badRequest",
                   error.empty() ? "humanReadable must be APPEND, REPLACE or empty" : error));
    return std::nullopt;
  }
  return PeopleRequest{std::move(body), std::move(fields), *mode};
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
    const std::string credentials =
        impl.options.service_user_id + ":" + impl.options.service_user_token;
    impl.expected_authorization +=
        base64(reinterpret_cast<const unsigned char*>(credentials.data()), credentials.size());
  }
  auto& http = impl.server.http();

  http.set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
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
          reply_json(response,
                     401,
                     error_body("unauthorized", "Unauthorized: invalid service user credentials"));
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });

  http.Post(
      "/v1/people/search", [this](const httplib::Request& request, httplib::Response& response) {
        auto& self = *m_impl;
        ++self.search_count;
        const auto now = self.now();
        {
          const std::lock_guard lock(self.mutex);
          const int limit = self.options.search_requests_per_minute;
          if (limit > 0) {
            while (!self.searches.empty()
                   && now - self.searches.front() >= std::chrono::minutes(1)) {
              self.searches.pop_front();
            }
            if (static_cast<int>(self.searches.size()) >= limit) {
              const auto reset = std::chrono::ceil<std::chrono::seconds>(
                  (self.searches.front() + std::chrono::minutes(1)).time_since_epoch());
              reply_json(response,
                         429,
                         error_body("rateLimit",
                                    "Too many requests: people search allows "
                                        + std::to_string(limit) + " requests per minute"));
              response.set_header("X-RateLimit-Limit", std::to_string(limit));
              response.set_header("X-RateLimit-Remaining", "0");
              response.set_header("X-RateLimit-Reset", std::to_string(reset.count()));
              return;
            }
            self.searches.push_back(now);
          }
        }
        const auto people = read_people_request(request.body, false, response);
        if (!people) {
          return;
        }
        const auto& body = people->body;
        const auto& fields = people->fields;
        const auto mode = people->mode;
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
            reply_json(response,
                       400,
                       error_body("badRequest", "filters: at most one filter is supported"));
            return;
          }
          if (filters->size() == 1) {
            const auto& f = (*filters)[0];
            const auto path = f.value("fieldPath", std::string());
            const auto op = f.value("operator", std::string());
            const auto values = f.find("values");
            if ((path != "root.id" && path != "root.email") || op != "equals" || values == f.end()
                || !values->is_array() || values->empty()) {
              reply_json(
                  response,
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

        // Snapshot under the lock; render outside it, streaming in chunks, so a
        // 100,000-employee answer is never built whole.
        struct Stream {
          Shape shape;
          std::vector<StoredPtr> employees;
          std::size_t next = 0;
          bool started = false;
        };
        auto stream = std::make_shared<Stream>();
        {
          const std::lock_guard lock(self.mutex);
          stream->shape = self.shape_for(fields, mode);
          const int email_slot = self.existing_slot("root.email");
          std::vector<ValueView> values;
          stream->employees.reserve(self.employees.size());
          for (const auto& e : self.employees) {
            if (!show_inactive || filter) {
              e->unpack(values);
            }
            if (!show_inactive && !active_on(*e, values, stream->shape.day)) {
              continue;
            }
            if (filter) {
              const auto key = filter->first == "root.id"
                                   ? std::string(e->id)
                                   : std::string(view_at(values, email_slot).text);
              if (filter->second.count(key) == 0) {
                continue;
              }
            }
            stream->employees.push_back(e);
          }
        }
        response.status = 200;
        if (self.server.body_fault_pending()) {
          // The pending fault rewrites the body: build it whole.
          Renderer renderer(stream->shape);
          std::string out = "{\"employees\":[";
          for (std::size_t i = 0; i < stream->employees.size(); ++i) {
            if (i > 0) {
              out += ',';
            }
            renderer.employee(out, *stream->employees[i]);
          }
          out += "]}";
          detail::reply(response, 200, std::move(out));
          return;
        }
        response.set_chunked_content_provider(
            detail::k_json_type, [stream](std::size_t /*offset*/, httplib::DataSink& sink) {
              constexpr std::size_t k_chunk = 256 * 1024;
              std::string out;
              out.reserve(k_chunk + 4096);
              if (!stream->started) {
                stream->started = true;
                out += "{\"employees\":[";
              }
              Renderer renderer(stream->shape);
              while (stream->next < stream->employees.size() && out.size() < k_chunk) {
                if (stream->next > 0) {
                  out += ',';
                }
                renderer.employee(out, *stream->employees[stream->next]);
                stream->employees[stream->next].reset(); // served: let it go
                ++stream->next;
              }
              if (stream->next == stream->employees.size()) {
                out += "]}";
                if (!sink.write(out.data(), out.size())) {
                  return false;
                }
                sink.done();
                return true;
              }
              return sink.write(out.data(), out.size());
            });
      });

  http.Get("/v1/company/people/fields",
           [this](const httplib::Request& /*request*/, httplib::Response& response) {
             std::string body;
             {
               const std::lock_guard lock(m_impl->mutex);
               body = field_catalogue_json(m_impl->catalogue);
             }
             detail::reply(response, 200, std::move(body));
           });

  http.Post(R"(/v1/people/([^/]+))",
            [this](const httplib::Request& request, httplib::Response& response) {
              auto& self = *m_impl;
              const auto people = read_people_request(request.body, true, response);
              if (!people) {
                return;
              }
              const auto& fields = people->fields;
              const auto mode = people->mode;
              const std::string identifier = request.matches[1].str();
              StoredPtr e;
              Shape shape;
              {
                const std::lock_guard lock(self.mutex);
                e = self.find(identifier);
                shape = self.shape_for(fields, mode);
              }
              if (e == nullptr) {
                reply_json(
                    response, 404, error_body("notFound", "Employee " + identifier + " not found"));
                return;
              }
              std::string out;
              Renderer(shape).employee(out, *e);
              detail::reply(response, 200, std::move(out));
            });

  // ---- admin -----------------------------------------------------------------
  http.Get("/_admin/employees",
           [this](const httplib::Request& /*request*/, httplib::Response& response) {
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
  http.Get(R"(/_admin/employees/([^/]+))",
           [this](const httplib::Request& request, httplib::Response& response) {
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
  http.Post(
      "/_admin/employees", [this](const httplib::Request& request, httplib::Response& response) {
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
  http.Patch(R"(/_admin/employees/([^/]+))",
             [this](const httplib::Request& request, httplib::Response& response) {
               const auto body = json::parse(request.body, nullptr, false);
               if (body.is_discarded() || !body.is_object()) {
                 reply_json(response,
                            400,
                            error_body("badRequest", "body must be {\"<field>\": value, ...}"));
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
  http.Post(
      R"(/_admin/employees/([^/]+)/terminate)",
      [this](const httplib::Request& request, httplib::Response& response) {
        const auto body = json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("terminationDate")
            || !body["terminationDate"].is_string()) {
          reply_json(
              response,
              400,
              error_body("badRequest",
                         "body must be {\"terminationDate\": \"YYYY-MM-DD\", \"lastDayOfWork\"?}"));
          return;
        }
        std::optional<std::string> last;
        if (body.contains("lastDayOfWork") && body["lastDayOfWork"].is_string()) {
          last = body["lastDayOfWork"].get<std::string>();
        }
        if (!terminate(
                request.matches[1].str(), body["terminationDate"].get<std::string>(), last)) {
          reply_json(response, 404, error_body("notFound", "no such employee"));
          return;
        }
        reply_json(response, 200, {{"id", request.matches[1].str()}});
      });
  http.Delete(R"(/_admin/employees/([^/]+))",
              [this](const httplib::Request& request, httplib::Response& response) {
                if (!remove(request.matches[1].str())) {
                  reply_json(response, 404, error_body("notFound", "no such employee"));
                  return;
                }
                reply_json(response, 200, {{"id", request.matches[1].str()}});
              });
  http.Get("/_admin/webhooks",
           [this](const httplib::Request& /*request*/, httplib::Response& response) {
             json out = json::array();
             for (const auto& w : webhooks()) {
               out.push_back({{"type", w.type},
                              {"employeeId", w.employee_id},
                              {"status", w.status},
                              {"error", w.error},
                              {"body", w.body}});
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
  if (seed.contains("fields")) {
    if (!seed["fields"].is_array()) {
      throw std::runtime_error("Bob seed: \"fields\" must be an array of catalogue entries");
    }
    std::size_t at = 0;
    for (const auto& f : seed["fields"]) {
      const std::string where = "Bob seed: fields[" + std::to_string(at++) + "]";
      if (!f.is_object() || !f.contains("id") || !f["id"].is_string()
          || !valid_field_id(f["id"].get<std::string>())) {
        throw std::runtime_error(where + ": needs a dot field id in \"id\"");
      }
      BobFieldMeta meta;
      meta.id = f["id"].get<std::string>();
      meta.name = f.value("name", meta.id);
      meta.category = f.value("category", meta.id.substr(0, meta.id.find('.')));
      meta.type = f.value("type", "text");
      meta.list_id = f.value("listId", "");
      meta.historical = f.value("historical", false);
      add_field(std::move(meta));
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
  auto lists = std::make_shared<Lists>(*m_impl->lists); // copy on write: responses hold snapshots
  auto& list = (*lists)[field_id];
  for (const auto& [item, name] : items) {
    list[item] = name;
  }
  m_impl->lists = std::move(lists);
}

void FakeBob::add_field(BobFieldMeta field) {
  const std::lock_guard lock(m_impl->mutex);
  auto& catalogue = m_impl->catalogue;
  const auto it = std::find_if(
      catalogue.begin(), catalogue.end(), [&](const BobFieldMeta& f) { return f.id == field.id; });
  if (it != catalogue.end()) {
    *it = std::move(field);
  } else {
    catalogue.push_back(std::move(field));
  }
}

void FakeBob::remove_field(const std::string& field_id) {
  const std::lock_guard lock(m_impl->mutex);
  auto& catalogue = m_impl->catalogue;
  catalogue.erase(std::remove_if(catalogue.begin(),
                                 catalogue.end(),
                                 [&](const BobFieldMeta& f) { return f.id == field_id; }),
                  catalogue.end());
}

std::vector<BobFieldMeta> FakeBob::field_catalogue() const {
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->catalogue;
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
  m_impl->put(m_impl->build(employee.id, nullptr, employee.fields));
}

std::optional<BobEmployee> FakeBob::employee(const std::string& id) const {
  const std::lock_guard lock(m_impl->mutex);
  const auto it = m_impl->by_id.find(id);
  if (it == m_impl->by_id.end()) {
    return std::nullopt;
  }
  return m_impl->to_public(*m_impl->employees[it->second]);
}

std::vector<BobEmployee> FakeBob::employees() const {
  const std::lock_guard lock(m_impl->mutex);
  std::vector<BobEmployee> out;
  out.reserve(m_impl->employees.size());
  for (const auto& e : m_impl->employees) {
    out.push_back(m_impl->to_public(*e));
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
    auto stored = m_impl->build(id, nullptr, employee.fields);
    std::vector<ValueView> values;
    stored->unpack(values);
    joined = active_on(*stored, values, m_impl->today());
    m_impl->put(std::move(stored));
  }
  m_impl->send_webhook("employee.created", id, json::object());
  if (joined) {
    m_impl->send_webhook("employee.joined", id, json::object());
  }
  return id;
}

bool FakeBob::change(const std::string& id,
                     const std::vector<std::pair<std::string, BobValue>>& fields) {
  json updated = json::array();
  {
    const std::lock_guard lock(m_impl->mutex);
    const auto it = m_impl->by_id.find(id);
    if (it == m_impl->by_id.end()) {
      return false;
    }
    auto& slot = m_impl->employees[it->second];
    slot = m_impl->build(id, slot.get(), fields);
    for (const auto& [field, value] : fields) {
      if (field != "root.id") {
        updated.push_back(field);
      }
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
    const auto it = m_impl->by_id.find(id);
    if (it == m_impl->by_id.end()) {
      return false;
    }
    auto& slot = m_impl->employees[it->second];
    effective = termination_date <= m_impl->today();
    std::vector<std::pair<std::string, BobValue>> fields = {
        {k_termination, BobValue::string(termination_date)},
        {k_last_day, BobValue::string(last_day_of_work.value_or(termination_date))}};
    if (!slot->auto_lifecycle && effective) {
      fields.emplace_back(k_lifecycle, BobValue::string("terminated"));
      fields.emplace_back(k_status, BobValue::string("Inactive"));
    }
    slot = m_impl->build(id, slot.get(), fields);
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
