#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include "controller/adapters/json/strict_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
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

namespace od = strict_json::od;

// Reads JumpCloud users with the adapters' strict reader, shared by a page
// of GET /systemusers and a single user, so both map a user alike.
class UserReader : public strict_json::StrictReader {
public:
  using StrictReader::StrictReader;

  // The last failure was a user without a string `_id` (valid JSON otherwise).
  bool missing_id() const { return m_missing_id; }

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
    user.fields.shrink_to_fit(); // kept for the whole pass, 100,000 of them
    return true;
  }

private:
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
      od::json_type type{};
      if (!scalar(value, id, &type)) {
        return false;
      }
      has_id = type == od::json_type::string;
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
      od::json_type key_type{};
      if (!members(object, [&](std::string_view name, od::value& member_value) {
            return name == key_name     ? scalar(member_value, key, &key_type)
                   : name == value_name ? scalar(member_value, text)
                                        : skip(member_value);
          })) {
        return false;
      }
      if (key && key_type == od::json_type::string && text) {
        const auto field = phone ? phone_field(*key) : state::attribute_field(*key);
        if (!user.fields.contains(field)) {
          user.fields.set(field, std::move(*text));
        }
      }
      return true;
    });
  }

  bool m_missing_id = false;
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
