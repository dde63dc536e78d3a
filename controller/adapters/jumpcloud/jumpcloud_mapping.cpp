#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <simdjson.h>

namespace bobsync::controller {
namespace {

using nlohmann::json;

constexpr std::string_view k_phone_prefix = "phoneNumbers[type=";
constexpr std::string_view k_attribute_prefix = "attributes[name=";

constexpr std::array<std::string_view, 12> k_unmapped = {
    "_id",
    "state",
    "suspended",
    "organization",
    "created",
    "creationSource",
    "password_date",
    "password_expiration_date",
    "password_expired",
    "account_locked_date",
    "badLoginAttempts",
    "totp_enabled",
};

bool is_identifier(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool clears_with_null(std::string_view name) {
  return name == "manager" || name == "alternateEmail";
}

std::string scalar_text(const json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_boolean()) {
    return value.get<bool>() ? "true" : "false";
  }
  return value.dump();
}

json parse_object(std::string_view text, std::string& error) {
  auto parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    error = "not valid JSON";
    return json();
  }
  if (!parsed.is_object()) {
    error = "not a JSON object";
    return json();
  }
  return parsed;
}

// Applies the changes of one kind (phone or attribute) to a current array.
json merge_array(const json* current,
                 const state::FlatMap<std::string>& changes,
                 FieldRef::Kind kind) {
  const char* key_name = kind == FieldRef::Kind::phone ? "type" : "name";
  const char* value_name = kind == FieldRef::Kind::phone ? "number" : "value";
  json out = json::array();
  if (current != nullptr && current->is_array()) {
    for (const auto& entry : *current) {
      if (!entry.is_object() || !entry.contains(key_name)) {
        continue;
      }
      json kept = json::object();
      kept[key_name] = entry[key_name];
      if (entry.contains(value_name) && !entry[value_name].is_null()) {
        kept[value_name] = entry[value_name].is_string() ? entry[value_name]
                                                         : json(scalar_text(entry[value_name]));
      } else {
        kept[value_name] = "";
      }
      out.push_back(std::move(kept));
    }
  }
  for (const auto& [name, value] : changes) {
    const auto ref = parse_field_name(name);
    if (!ref || ref->kind != kind) {
      continue;
    }
    json merged = json::array();
    bool placed = false;
    for (auto& entry : out) {
      const bool same =
          entry[key_name].is_string() && entry[key_name].get_ref<const std::string&>() == ref->key;
      if (!same) {
        merged.push_back(std::move(entry));
      } else if (!placed && !value.empty()) {
        entry[value_name] = value;
        merged.push_back(std::move(entry));
        placed = true;
      }
    }
    if (!placed && !value.empty()) {
      merged.push_back({{key_name, ref->key}, {value_name, value}});
    }
    out = std::move(merged);
  }
  return out;
}

bool is_unmapped(std::string_view key) {
  return std::find(k_unmapped.begin(), k_unmapped.end(), key) != k_unmapped.end();
}

namespace od = simdjson::ondemand;

constexpr int k_max_depth = 128; // of a value the reader does not keep

// The strict reader of JumpCloud users, on simdjson's On Demand API, shared
// by a page of GET /systemusers and a single user, so both map a user
// alike. On Demand checks only what is read, so the reader reads every
// value: those it does not keep are checked by skip() (strings unescaped,
// numbers parsed, literals matched, nesting bounded), and simdjson's first
// stage checks the whole input is UTF-8 without raw control characters in
// strings. Errors name the byte where reading stopped.
//
// The input is copied into a padded buffer (simdjson reads up to
// SIMDJSON_PADDING bytes past the end); buffer and parser belong to the
// calling thread and are reused, so a listing allocates them once per thread.
class UserReader {
public:
  explicit UserReader(std::string_view text)
      : m_buffers(buffers()),
        m_size(text.size()) {
    auto& padded = m_buffers.padded;
    if (padded.size() < text.size() + simdjson::SIMDJSON_PADDING) {
      padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
    }
    // The padding is zeroed, not left as the last input had it: simdjson
    // peeks at the byte after the last token, and a stale '}' or ',' there
    // would make a truncated input look longer (simdjson issue #1834).
    const auto end = std::copy(text.begin(), text.end(), padded.begin());
    std::fill(end, end + simdjson::SIMDJSON_PADDING, '\0');
  }

  // Indexes the input; false (error() set) when it is not UTF-8, has an
  // unclosed string or a control character in one, or is empty.
  bool start() {
    const auto& padded = m_buffers.padded;
    if (const auto e = m_buffers.parser.iterate(padded.data(), m_size, padded.size()).get(m_doc)) {
      m_error = simdjson::error_message(e); // the first stage does not say where
      return false;
    }
    m_started = true;
    return true;
  }
  od::document& document() { return m_doc; }
  // Nothing but whitespace is left (simdjson 3.0's document has no at_end()).
  bool at_end() {
    const char* location = nullptr;
    return m_doc.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
  }

  bool fail(std::string_view message) { return fail_at(message, offset()); }
  bool fail_at(std::string_view message, std::size_t offset) {
    if (m_error.empty()) {
      m_error = std::string(message) + " at byte " + std::to_string(offset);
    }
    return false;
  }
  bool fail(simdjson::error_code code) { return fail(simdjson::error_message(code)); }
  // `wrong_type` when the value is valid but not what was asked for.
  bool fail(simdjson::error_code code, std::string_view wrong_type) {
    return code == simdjson::INCORRECT_TYPE ? fail(wrong_type) : fail(code);
  }
  const std::string& error() const { return m_error; }
  // The last failure was a user without a string `_id` (valid JSON otherwise).
  bool missing_id() const { return m_missing_id; }

  // Calls `member(key, value)` for each member of an object, key unescaped
  // (and so checked); false at the first error or false from `member`.
  template<typename F> bool members(od::object& object, F&& member) {
    for (auto result : object) {
      od::field field;
      std::string_view key;
      if (const auto e = std::move(result).get(field)) {
        return fail(e);
      }
      if (const auto e = field.unescaped_key().get(key)) {
        return fail(e);
      }
      if (!member(key, field.value())) {
        return false;
      }
    }
    return true;
  }
  template<typename F> bool elements(od::array& array, F&& element) {
    for (auto result : array) {
      od::value value;
      if (const auto e = std::move(result).get(value)) {
        return fail(e);
      }
      if (!element(value)) {
        return false;
      }
    }
    return true;
  }

  // A value the reader does not keep: read through and checked.
  bool skip(od::value& value, int depth = 0) {
    if (depth > k_max_depth) {
      return fail("nesting too deep");
    }
    od::json_type type{};
    if (const auto e = value.type().get(type)) {
      return fail(e);
    }
    auto nested = [&](od::value& inner) { return skip(inner, depth + 1); };
    switch (type) {
    case od::json_type::object: {
      od::object object;
      if (const auto e = value.get_object().get(object)) {
        return fail(e);
      }
      return members(object, [&](std::string_view, od::value& inner) { return nested(inner); });
    }
    case od::json_type::array: {
      od::array array;
      if (const auto e = value.get_array().get(array)) {
        return fail(e);
      }
      return elements(array, nested);
    }
    case od::json_type::string:
    case od::json_type::number:
    case od::json_type::boolean:
    case od::json_type::null: {
      std::optional<std::string> ignored;
      return scalar(value, ignored);
    }
    }
    return fail("invalid value");
  }

  // A value as flat field text: strings unescaped, numbers as their JSON
  // text, booleans "true"/"false"; nullopt for null, objects and arrays
  // (read through by skip()). `is_string`: the value was a string.
  bool scalar(od::value& value, std::optional<std::string>& out, bool* is_string = nullptr) {
    out.reset();
    od::json_type type{};
    if (const auto e = value.type().get(type)) {
      return fail(e);
    }
    if (is_string != nullptr) {
      *is_string = type == od::json_type::string;
    }
    switch (type) {
    case od::json_type::object:
    case od::json_type::array:
      return skip(value);
    case od::json_type::string: {
      std::string_view text;
      if (const auto e = value.get_string().get(text)) {
        return fail(e);
      }
      out.emplace(text);
      return true;
    }
    case od::json_type::number: {
      // The token as written, up to the whitespace before the next one.
      auto text = value.raw_json_token();
      text = text.substr(0, text.find_last_not_of(" \t\n\r") + 1);
      // Checked as a double, which any JSON number is (an integer past
      // 64 bits too); a number out of a double's range is refused.
      double number = 0;
      if (const auto e = value.get_double().get(number)) {
        return fail(e);
      }
      out.emplace(text);
      return true;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (const auto e = value.get_bool().get(flag)) {
        return fail(e);
      }
      out.emplace(flag ? "true" : "false");
      return true;
    }
    case od::json_type::null: {
      bool null = false;
      if (const auto e = value.is_null().get(null)) {
        return fail(e);
      }
      return null || fail("invalid value");
    }
    }
    return fail("invalid value");
  }

  // One user object: its fields mapped into `user` (see the header), the
  // state resolved; false when it has no string `_id`.
  bool user(od::object& object, state::DirectoryUser& user) {
    std::optional<std::string> state_text;
    std::optional<bool> suspended;
    bool has_id = false;
    if (!members(object, [&](std::string_view key, od::value& value) {
          return member(key, value, user, state_text, suspended, has_id);
        })) {
      return false;
    }
    if (!has_id || user.id.empty()) {
      m_missing_id = true;
      return fail("user has no string \"_id\"");
    }
    const auto parsed = state_text ? state::parse_user_state(*state_text) : std::nullopt;
    user.state = parsed ? *parsed
                        : (suspended.value_or(false) ? state::UserState::suspended
                                                     : state::UserState::activated);
    return true;
  }

private:
  struct Buffers {
    od::parser parser;
    std::string padded;
  };
  static Buffers& buffers() {
    thread_local Buffers buffers;
    return buffers;
  }

  std::size_t offset() {
    const char* location = nullptr;
    if (!m_started || m_doc.current_location().get(location) != simdjson::SUCCESS) {
      return m_size;
    }
    return static_cast<std::size_t>(location - m_buffers.padded.data());
  }

  // A later scalar of the same name replaces an earlier one; null, objects
  // and arrays leave the field as it was.
  bool member(std::string_view key,
              od::value& value,
              state::DirectoryUser& user,
              std::optional<std::string>& state_text,
              std::optional<bool>& suspended,
              bool& has_id) {
    if (key == "_id") {
      std::optional<std::string> id;
      if (!scalar(value, id, &has_id)) {
        return false;
      }
      if (has_id && id) {
        user.id = std::move(*id);
      }
      return true;
    }
    if (key == "state") {
      return scalar(value, state_text);
    }
    if (key == "suspended") {
      std::optional<std::string> flag;
      if (!scalar(value, flag)) {
        return false;
      }
      if (flag == "true" || flag == "false") {
        suspended = *flag == "true";
      }
      return true;
    }
    if (key == "phoneNumbers" || key == "attributes") {
      return entries(value, key == "phoneNumbers", user);
    }
    if (is_unmapped(key)) {
      return skip(value);
    }
    std::optional<std::string> text;
    if (!scalar(value, text)) {
      return false;
    }
    if (text) {
      user.fields.set(key, std::move(*text));
    }
    return true;
  }

  // phoneNumbers / attributes: [{"type"|"name": s, "number"|"value": v}, ...];
  // the first entry of a type / name wins.
  bool entries(od::value& value, bool phone, state::DirectoryUser& user) {
    od::json_type type{};
    if (const auto e = value.type().get(type)) {
      return fail(e);
    }
    if (type != od::json_type::array) {
      return skip(value);
    }
    od::array array;
    if (const auto e = value.get_array().get(array)) {
      return fail(e);
    }
    const std::string_view key_name = phone ? "type" : "name";
    const std::string_view value_name = phone ? "number" : "value";
    return elements(array, [&](od::value& entry) {
      od::json_type entry_type{};
      if (const auto e = entry.type().get(entry_type)) {
        return fail(e);
      }
      if (entry_type != od::json_type::object) {
        return skip(entry);
      }
      od::object object;
      if (const auto e = entry.get_object().get(object)) {
        return fail(e);
      }
      std::optional<std::string> key;
      std::optional<std::string> text;
      bool key_is_string = false;
      if (!members(object, [&](std::string_view name, od::value& member_value) {
            return name == key_name     ? scalar(member_value, key, &key_is_string)
                   : name == value_name ? scalar(member_value, text)
                                        : skip(member_value);
          })) {
        return false;
      }
      if (key && key_is_string && text) {
        const auto field = phone ? phone_field(*key) : state::attribute_field(*key);
        if (!user.fields.contains(field)) {
          user.fields.set(field, std::move(*text));
        }
      }
      return true;
    });
  }

  Buffers& m_buffers;
  std::size_t m_size;
  od::document m_doc;
  bool m_started = false;
  bool m_missing_id = false;
  std::string m_error;
};

} // namespace

bool users_from_page_text(std::string_view text,
                          std::vector<state::DirectoryUser>& users,
                          long long& total_count,
                          std::string& error) {
  UserReader reader(text);
  bool has_total = false;
  bool has_results = false;
  auto page_member = [&](std::string_view key, od::value& value) {
    if (key == "totalCount") {
      std::int64_t total = 0;
      if (value.get_int64().get(total) != simdjson::SUCCESS) {
        return reader.fail("totalCount is not an integer");
      }
      total_count = total;
      has_total = true;
      return true;
    }
    if (key == "results") {
      has_results = true;
      od::array results;
      if (const auto e = value.get_array().get(results)) {
        return reader.fail(e, "expected '['");
      }
      return reader.elements(results, [&](od::value& element) {
        od::object object;
        if (const auto e = element.get_object().get(object)) {
          return reader.fail(e, "a user is not a JSON object");
        }
        state::DirectoryUser user;
        if (!reader.user(object, user)) {
          return false;
        }
        users.push_back(std::move(user));
        return true;
      });
    }
    return reader.skip(value);
  };
  const bool ok = [&] {
    if (!reader.start()) {
      return false;
    }
    od::object page;
    if (const auto e = reader.document().get_object().get(page)) {
      if (e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
        // simdjson checks the last byte first.
        return reader.fail_at("truncated, or trailing characters after the page", text.size());
      }
      return reader.fail(e, "expected '{'");
    }
    return reader.members(page, page_member);
  }();
  if (!ok || !reader.at_end()) {
    error = ok ? "trailing characters after the page" : reader.error();
    return false;
  }
  if (!has_total || !has_results) {
    error = "unexpected response shape: expected {\"totalCount\": n, \"results\": [...]}";
    return false;
  }
  return true;
}

std::optional<FieldRef> parse_field_name(std::string_view name) {
  auto bracketed = [&](std::string_view prefix, FieldRef::Kind kind) -> std::optional<FieldRef> {
    if (name.size() <= prefix.size() + 1 || name.substr(0, prefix.size()) != prefix
        || name.back() != ']') {
      return std::nullopt;
    }
    const auto key = name.substr(prefix.size(), name.size() - prefix.size() - 1);
    if (key.empty() || key.find_first_of("[]") != std::string_view::npos) {
      return std::nullopt;
    }
    return FieldRef{kind, std::string(key)};
  };
  if (name.rfind(k_phone_prefix, 0) == 0) {
    return bracketed(k_phone_prefix, FieldRef::Kind::phone);
  }
  if (name.rfind(k_attribute_prefix, 0) == 0) {
    return bracketed(k_attribute_prefix, FieldRef::Kind::attribute);
  }
  if (!is_identifier(name) || name == "_id" || name == "state" || name == "suspended") {
    return std::nullopt;
  }
  return FieldRef{FieldRef::Kind::scalar, std::string(name)};
}

std::string phone_field(std::string_view type) {
  return std::string(k_phone_prefix) + std::string(type) + "]";
}

bool touches_arrays(const state::FlatMap<std::string>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const auto& entry) {
    const auto ref = parse_field_name(entry.first);
    return ref && ref->kind != FieldRef::Kind::scalar;
  });
}

Expected<state::DirectoryUser, std::string> user_from_json_text(std::string_view text) {
  UserReader reader(text);
  od::object object;
  if (!reader.start()) {
    return Unexpected<std::string>{"user is not valid JSON"};
  }
  if (reader.document().get_object().get(object) != simdjson::SUCCESS) {
    od::json_type type{};
    const bool other_value = reader.document().type().get(type) == simdjson::SUCCESS
                             && type != od::json_type::object && json::accept(text);
    return Unexpected<std::string>{other_value ? "user is not a JSON object"
                                               : "user is not valid JSON"};
  }
  state::DirectoryUser user;
  if (!reader.user(object, user)) {
    return Unexpected<std::string>{reader.missing_id() && reader.at_end()
                                       ? "user has no string \"_id\""
                                       : "user is not valid JSON: " + reader.error()};
  }
  if (!reader.at_end()) {
    return Unexpected<std::string>{"user is not valid JSON: trailing characters after the user"};
  }
  return user;
}

Expected<std::string, std::string> create_body(const state::FlatMap<std::string>& fields,
                                               state::UserState state) {
  json body = json::object();
  bool phones = false;
  bool attributes = false;
  for (const auto& [name, value] : fields) {
    const auto ref = parse_field_name(name);
    if (!ref) {
      return Unexpected<std::string>{"invalid JumpCloud field name '" + std::string(name) + "'"};
    }
    switch (ref->kind) {
    case FieldRef::Kind::scalar:
      if (!value.empty()) {
        body[ref->key] = value;
      }
      break;
    case FieldRef::Kind::phone:
      phones = true;
      break;
    case FieldRef::Kind::attribute:
      attributes = true;
      break;
    }
  }
  if (!body.contains("email") || !body.contains("username")) {
    return Unexpected<std::string>{"a new user needs an email and a username"};
  }
  if (phones) {
    auto merged = merge_array(nullptr, fields, FieldRef::Kind::phone);
    if (!merged.empty()) {
      body["phoneNumbers"] = std::move(merged);
    }
  }
  if (attributes) {
    auto merged = merge_array(nullptr, fields, FieldRef::Kind::attribute);
    if (!merged.empty()) {
      body["attributes"] = std::move(merged);
    }
  }
  body["state"] = std::string(state::to_string(state));
  body["suspended"] = state == state::UserState::suspended;
  return body.dump();
}

Expected<std::string, std::string> update_body(const state::FlatMap<std::string>& changes,
                                               std::optional<state::UserState> state,
                                               std::string_view current_user_json) {
  json body = json::object();
  bool phones = false;
  bool attributes = false;
  for (const auto& [name, value] : changes) {
    const auto ref = parse_field_name(name);
    if (!ref) {
      return Unexpected<std::string>{"invalid JumpCloud field name '" + std::string(name) + "'"};
    }
    switch (ref->kind) {
    case FieldRef::Kind::scalar:
      if (value.empty() && clears_with_null(ref->key)) {
        body[ref->key] = nullptr;
      } else {
        body[ref->key] = value;
      }
      break;
    case FieldRef::Kind::phone:
      phones = true;
      break;
    case FieldRef::Kind::attribute:
      attributes = true;
      break;
    }
  }
  if (phones || attributes) {
    if (current_user_json.empty()) {
      return Unexpected<std::string>{
          "changing phoneNumbers or attributes needs the user's current arrays"};
    }
    std::string error;
    const auto current = parse_object(current_user_json, error);
    if (!error.empty()) {
      return Unexpected<std::string>{"the current user is " + error};
    }
    if (phones) {
      const auto it = current.find("phoneNumbers");
      body["phoneNumbers"] =
          merge_array(it != current.end() ? &*it : nullptr, changes, FieldRef::Kind::phone);
    }
    if (attributes) {
      const auto it = current.find("attributes");
      body["attributes"] =
          merge_array(it != current.end() ? &*it : nullptr, changes, FieldRef::Kind::attribute);
    }
  }
  if (state) {
    switch (*state) {
    case state::UserState::staged:
      return Unexpected<std::string>{
          "STAGED can only be set when a user is created (PUT accepts ACTIVATED or SUSPENDED)"};
    case state::UserState::activated:
    case state::UserState::suspended:
      body["state"] = std::string(state::to_string(*state));
      body["suspended"] = *state == state::UserState::suspended;
      break;
    }
  }
  return body.dump();
}

} // namespace bobsync::controller
