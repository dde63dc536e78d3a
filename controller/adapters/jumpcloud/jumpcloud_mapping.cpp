#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include "controller/adapters/jumpcloud/jumpcloud_json.hpp"

#include <algorithm>
#include <array>

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
      const bool same = entry[key_name].is_string()
                        && entry[key_name].get_ref<const std::string&>() == ref->key;
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

} // namespace

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

std::string attribute_field(std::string_view name) {
  return std::string(k_attribute_prefix) + std::string(name) + "]";
}

bool touches_arrays(const state::FlatMap<std::string>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const auto& entry) {
    const auto ref = parse_field_name(entry.first);
    return ref && ref->kind != FieldRef::Kind::scalar;
  });
}

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
        if (k == entry.end() || !k->is_string() || v == entry.end() || v->is_null()) {
          continue;
        }
        const auto field = phone ? phone_field(k->get_ref<const std::string&>())
                                 : attribute_field(k->get_ref<const std::string&>());
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
      return Unexpected<std::string>{"invalid JumpCloud field name '" + name + "'"};
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
      return Unexpected<std::string>{"invalid JumpCloud field name '" + name + "'"};
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
