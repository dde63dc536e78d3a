#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <optional>

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

// A strict single-pass JSON reader over a page of users.
class Cursor {
public:
  explicit Cursor(std::string_view text)
      : m_text(text) {}

  bool fail(const std::string& message) {
    if (m_error.empty()) {
      m_error = message + " at byte " + std::to_string(m_pos);
    }
    return false;
  }
  const std::string& error() const { return m_error; }

  void ws() {
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      ++m_pos;
    }
  }
  bool peek(char c) {
    ws();
    return m_pos < m_text.size() && m_text[m_pos] == c;
  }
  char next_char() {
    ws();
    return m_pos < m_text.size() ? m_text[m_pos] : '\0';
  }
  bool expect(char c) {
    if (peek(c)) {
      ++m_pos;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }
  bool at_end() {
    ws();
    return m_pos == m_text.size();
  }

  // A string, escapes decoded (\uXXXX with surrogate pairs -> UTF-8).
  bool string(std::string& out) {
    out.clear();
    if (!expect('"')) {
      return false;
    }
    while (m_pos < m_text.size()) {
      // Copy the run up to the next quote or backslash in one go.
      std::size_t run = m_pos;
      while (run < m_text.size() && m_text[run] != '"' && m_text[run] != '\\') {
        if (static_cast<unsigned char>(m_text[run]) < 0x20) {
          m_pos = run;
          return fail("control character in a string");
        }
        ++run;
      }
      out.append(m_text.substr(m_pos, run - m_pos));
      m_pos = run;
      if (m_pos >= m_text.size()) {
        break;
      }
      if (m_text[m_pos] == '"') {
        ++m_pos;
        return true;
      }
      ++m_pos; // backslash
      if (m_pos >= m_text.size()) {
        break;
      }
      const char e = m_text[m_pos++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        unsigned code = 0;
        if (!hex4(code)) {
          return false;
        }
        if (code >= 0xD800 && code <= 0xDBFF) {
          unsigned low = 0;
          if (m_text.substr(m_pos, 2) != "\\u" || (m_pos += 2, !hex4(low)) || low < 0xDC00
              || low > 0xDFFF) {
            return fail("bad surrogate pair");
          }
          code = 0x10000 + ((code - 0xD800) << 10U) + (low - 0xDC00);
        } else if (code >= 0xDC00 && code <= 0xDFFF) {
          return fail("bad surrogate pair");
        }
        append_utf8(out, code);
        break;
      }
      default:
        return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }

  // true/false/null or a number: its text.
  bool primitive(std::string& out) {
    ws();
    const std::size_t start = m_pos;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                      || c == '.' || c == '+' || c == '-';
      if (!ok) {
        break;
      }
      ++m_pos;
    }
    out.assign(m_text.substr(start, m_pos - start));
    if (out == "true" || out == "false" || out == "null") {
      return true;
    }
    auto parsed = json::parse(out, nullptr, false);
    if (out.empty() || parsed.is_discarded() || !parsed.is_number()) {
      m_pos = start;
      return fail("invalid value");
    }
    return true;
  }

  bool skip_value(int depth = 0) {
    if (depth > 128) {
      return fail("nesting too deep");
    }
    const char c = next_char();
    if (c == '"') {
      return string(m_scratch);
    }
    if (c == '{') {
      ++m_pos;
      if (peek('}')) {
        ++m_pos;
        return true;
      }
      while (true) {
        if (!string(m_scratch) || !expect(':') || !skip_value(depth + 1)) {
          return false;
        }
        if (peek(',')) {
          ++m_pos;
          continue;
        }
        return expect('}');
      }
    }
    if (c == '[') {
      ++m_pos;
      if (peek(']')) {
        ++m_pos;
        return true;
      }
      while (true) {
        if (!skip_value(depth + 1)) {
          return false;
        }
        if (peek(',')) {
          ++m_pos;
          continue;
        }
        return expect(']');
      }
    }
    return primitive(m_scratch);
  }

  // Members of an object: calls `member(key)` positioned at each value; the
  // callback must consume the value.
  template<typename F> bool object(F&& member) {
    if (!expect('{')) {
      return false;
    }
    if (peek('}')) {
      ++m_pos;
      return true;
    }
    std::string key;
    while (true) {
      if (!string(key) || !expect(':') || !member(key)) {
        return false;
      }
      if (peek(',')) {
        ++m_pos;
        continue;
      }
      return expect('}');
    }
  }

  template<typename F> bool array(F&& element) {
    if (!expect('[')) {
      return false;
    }
    if (peek(']')) {
      ++m_pos;
      return true;
    }
    while (true) {
      if (!element()) {
        return false;
      }
      if (peek(',')) {
        ++m_pos;
        continue;
      }
      return expect(']');
    }
  }

private:
  bool hex4(unsigned& code) {
    if (m_pos + 4 > m_text.size()) {
      return fail("bad \\u escape");
    }
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = m_text[m_pos++];
      code <<= 4U;
      if (h >= '0' && h <= '9') {
        code |= static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        code |= static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        code |= static_cast<unsigned>(h - 'A' + 10);
      } else {
        return fail("bad \\u escape");
      }
    }
    return true;
  }

  static void append_utf8(std::string& out, unsigned code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0U | (code >> 6U));
      out += static_cast<char>(0x80U | (code & 0x3FU));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0U | (code >> 12U));
      out += static_cast<char>(0x80U | ((code >> 6U) & 0x3FU));
      out += static_cast<char>(0x80U | (code & 0x3FU));
    } else {
      out += static_cast<char>(0xF0U | (code >> 18U));
      out += static_cast<char>(0x80U | ((code >> 12U) & 0x3FU));
      out += static_cast<char>(0x80U | ((code >> 6U) & 0x3FU));
      out += static_cast<char>(0x80U | (code & 0x3FU));
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  std::string m_error;
  std::string m_scratch;
};

// A scalar member value as the flat field text: strings decoded, numbers and
// booleans as their JSON text; nullopt for null, objects and arrays (skipped).
bool scalar_member(Cursor& cursor, std::optional<std::string>& out) {
  out.reset();
  const char c = cursor.next_char();
  if (c == '{' || c == '[') {
    return cursor.skip_value();
  }
  std::string text;
  if (c == '"') {
    if (!cursor.string(text)) {
      return false;
    }
    out = std::move(text);
    return true;
  }
  if (!cursor.primitive(text)) {
    return false;
  }
  if (text != "null") {
    out = std::move(text);
  }
  return true;
}

// phoneNumbers / attributes: [{"type"|"name": s, "number"|"value": v}, ...]
bool entries_member(Cursor& cursor, bool phone, state::DirectoryUser& user) {
  if (cursor.next_char() != '[') {
    return cursor.skip_value();
  }
  const char* key_name = phone ? "type" : "name";
  const char* value_name = phone ? "number" : "value";
  return cursor.array([&] {
    if (cursor.next_char() != '{') {
      return cursor.skip_value();
    }
    std::optional<std::string> key;
    std::optional<std::string> value;
    bool key_is_string = false;
    const bool ok = cursor.object([&](const std::string& member) {
      if (member == key_name) {
        key_is_string = cursor.next_char() == '"';
        return scalar_member(cursor, key);
      }
      if (member == value_name) {
        return scalar_member(cursor, value);
      }
      return cursor.skip_value();
    });
    if (ok && key && key_is_string && value) {
      const auto field = phone ? phone_field(*key) : state::attribute_field(*key);
      if (!user.fields.contains(field)) {
        user.fields.set(field, std::move(*value));
      }
    }
    return ok;
  });
}

bool user_member(Cursor& cursor,
                 const std::string& key,
                 state::DirectoryUser& user,
                 std::optional<std::string>& state_text,
                 std::optional<bool>& suspended,
                 bool& has_id) {
  if (key == "_id") {
    has_id = cursor.next_char() == '"';
    std::optional<std::string> id;
    if (!scalar_member(cursor, id)) {
      return false;
    }
    if (has_id && id) {
      user.id = std::move(*id);
    }
    return true;
  }
  if (key == "state") {
    return scalar_member(cursor, state_text);
  }
  if (key == "suspended") {
    std::optional<std::string> flag;
    if (!scalar_member(cursor, flag)) {
      return false;
    }
    if (flag == "true" || flag == "false") {
      suspended = *flag == "true";
    }
    return true;
  }
  if (key == "phoneNumbers" || key == "attributes") {
    return entries_member(cursor, key == "phoneNumbers", user);
  }
  if (is_unmapped(key)) {
    return cursor.skip_value();
  }
  std::optional<std::string> value;
  if (!scalar_member(cursor, value)) {
    return false;
  }
  if (value) {
    user.fields.set(key, std::move(*value));
  }
  return true;
}

} // namespace

bool users_from_page_text(std::string_view text,
                          std::vector<state::DirectoryUser>& users,
                          long long& total_count,
                          std::string& error) {
  Cursor cursor(text);
  bool has_total = false;
  bool has_results = false;
  const bool ok = cursor.object([&](const std::string& key) {
    if (key == "totalCount") {
      std::string number;
      if (!cursor.primitive(number)) {
        return false;
      }
      const auto parsed = json::parse(number, nullptr, false);
      if (!parsed.is_number_integer()) {
        return cursor.fail("totalCount is not an integer");
      }
      total_count = parsed.get<long long>();
      has_total = true;
      return true;
    }
    if (key == "results") {
      has_results = true;
      return cursor.array([&] {
        if (cursor.next_char() != '{') {
          return cursor.fail("a user is not a JSON object");
        }
        state::DirectoryUser user;
        std::optional<std::string> state_text;
        std::optional<bool> suspended;
        bool has_id = false;
        if (!cursor.object([&](const std::string& member) {
              return user_member(cursor, member, user, state_text, suspended, has_id);
            })) {
          return false;
        }
        if (!has_id || user.id.empty()) {
          return cursor.fail("user has no string \"_id\"");
        }
        const auto parsed = state_text ? state::parse_user_state(*state_text) : std::nullopt;
        user.state = parsed ? *parsed
                            : (suspended.value_or(false) ? state::UserState::suspended
                                                         : state::UserState::activated);
        users.push_back(std::move(user));
        return true;
      });
    }
    return cursor.skip_value();
  });
  if (!ok || !cursor.at_end()) {
    error = ok ? "trailing characters after the page" : cursor.error();
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

namespace {

Expected<state::DirectoryUser, std::string> user_from_json(const json& object) {
  if (!object.is_object()) {
    return Unexpected<std::string>{"user is not a JSON object"};
  }
  const auto id = object.find("_id");
  if (id == object.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return Unexpected<std::string>{"user has no string \"_id\""};
  }
  state::DirectoryUser user;
  user.id = id->get<std::string>();

  const auto state_it = object.find("state");
  std::optional<state::UserState> parsed_state;
  if (state_it != object.end() && state_it->is_string()) {
    parsed_state = state::parse_user_state(state_it->get_ref<const std::string&>());
  }
  if (parsed_state) {
    user.state = *parsed_state;
  } else {
    const auto suspended = object.find("suspended");
    user.state = suspended != object.end() && suspended->is_boolean() && suspended->get<bool>()
                     ? state::UserState::suspended
                     : state::UserState::activated;
  }

  for (const auto& [key, value] : object.items()) {
    if (std::find(k_unmapped.begin(), k_unmapped.end(), key) != k_unmapped.end()) {
      continue;
    }
    if (key == "phoneNumbers" || key == "attributes") {
      if (!value.is_array()) {
        continue;
      }
      const bool phone = key == "phoneNumbers";
      const char* key_name = phone ? "type" : "name";
      const char* value_name = phone ? "number" : "value";
      for (const auto& entry : value) {
        if (!entry.is_object()) {
          continue;
        }
        const auto k = entry.find(key_name);
        const auto v = entry.find(value_name);
        if (k == entry.end() || !k->is_string() || v == entry.end() || v->is_null()
            || v->is_object() || v->is_array()) {
          continue;
        }
        const auto field = phone ? phone_field(k->get_ref<const std::string&>())
                                 : state::attribute_field(k->get_ref<const std::string&>());
        if (!user.fields.contains(field)) {
          user.fields.set(field, scalar_text(*v));
        }
      }
      continue;
    }
    if (value.is_null() || value.is_object() || value.is_array()) {
      continue;
    }
    user.fields.set(key, scalar_text(value));
  }
  return user;
}

} // namespace

Expected<state::DirectoryUser, std::string> user_from_json_text(std::string_view text) {
  std::string error;
  const auto object = parse_object(text, error);
  if (!error.empty()) {
    return Unexpected<std::string>{"user is " + error};
  }
  return user_from_json(object);
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
