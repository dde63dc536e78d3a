#include "policies/bob_record.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <utility>

namespace bobsync::policies {
namespace {

using Json = nlohmann::json;

// No error message quotes more than this much of Bob's answer.
constexpr std::size_t k_max_excerpt = 200;

std::string excerpt(std::string_view text) {
  if (text.size() <= k_max_excerpt) {
    return std::string(text);
  }
  return std::string(text.substr(0, k_max_excerpt)) + "...";
}

// Where one requested field can be found in an employee object.
struct FieldPath {
  std::string id;                  // "work.title"
  std::vector<std::string> nested; // {"work", "title"}; root.x -> {"x"}
  std::vector<std::string> human;  // {"humanReadable", "work", "title"}
  std::string flat;                // "/work/title"
};

std::vector<FieldPath> compile_paths(const std::vector<std::string>& field_ids) {
  std::vector<FieldPath> paths;
  paths.reserve(field_ids.size());
  for (const auto& id : field_ids) {
    FieldPath path;
    path.id = id;
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (true) {
      const auto dot = id.find('.', start);
      segments.push_back(id.substr(start, dot == std::string::npos ? dot : dot - start));
      if (dot == std::string::npos) {
        break;
      }
      start = dot + 1;
    }
    path.flat.reserve(id.size() + 1);
    for (const auto& s : segments) {
      path.flat += '/';
      path.flat += s;
    }
    const bool root = segments.size() > 1 && segments.front() == "root";
    path.nested.assign(segments.begin() + (root ? 1 : 0), segments.end());
    path.human.reserve(path.nested.size() + 1);
    path.human.emplace_back("humanReadable");
    path.human.insert(path.human.end(), path.nested.begin(), path.nested.end());
    paths.push_back(std::move(path));
  }
  return paths;
}

// Result of following a path: the key is missing (`absent`), or the path
// ends at a value (possibly null). A null met halfway counts as null: the
// parent object was sent empty.
struct Lookup {
  bool present = false;
  const Json* value = nullptr; // nullptr with present == true: null on the way
};

Lookup walk(const Json& root, const std::vector<std::string>& path) {
  const Json* node = &root;
  for (const auto& segment : path) {
    if (node->is_null()) {
      return {true, nullptr};
    }
    if (!node->is_object()) {
      return {};
    }
    const auto it = node->find(segment);
    if (it == node->end()) {
      return {};
    }
    node = &*it;
  }
  return {true, node};
}

Lookup flat_value(const Json& object, const std::string& key) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return {};
  }
  if (it->is_object()) {
    const auto value = it->find("value");
    return value != it->end() ? Lookup{true, &*value} : Lookup{true, nullptr};
  }
  return {true, &*it};
}

bool is_non_null_scalar(const Lookup& l) {
  return l.present && l.value != nullptr && l.value->is_primitive() && !l.value->is_null();
}

// Strings as they are, numbers and booleans as their JSON text, anything else
// (null, arrays, objects) as "".
std::string text_of(const Lookup& l) {
  if (!l.present || l.value == nullptr) {
    return {};
  }
  const Json& v = *l.value;
  switch (v.type()) {
  case Json::value_t::string:
    return v.get_ref<const std::string&>();
  case Json::value_t::number_integer:
    return std::to_string(v.get<std::int64_t>());
  case Json::value_t::number_unsigned:
    return std::to_string(v.get<std::uint64_t>());
  case Json::value_t::number_float:
  case Json::value_t::boolean:
    return v.dump();
  case Json::value_t::null:
  case Json::value_t::object:
  case Json::value_t::array:
  case Json::value_t::binary:
  case Json::value_t::discarded:
    return {};
  }
  return {};
}

// Bob ids are 19-digit numbers: strings normally, exact integers otherwise.
std::optional<std::string> id_text(const Lookup& l) {
  if (!l.present || l.value == nullptr) {
    return std::nullopt;
  }
  const Json& v = *l.value;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return s.empty() ? std::nullopt : std::optional(s);
  }
  if (v.is_number_integer()) { // integer or unsigned: exact
    return text_of(l);
  }
  return std::nullopt; // floats (precision lost), booleans, containers
}

std::optional<state::Employee>
employee_from_object(const Json& object, const std::vector<FieldPath>& paths, std::string& error) {
  state::Employee employee;
  static const std::vector<std::string> k_id_path = {"id"};
  auto id = id_text(walk(object, k_id_path));
  if (!id) {
    id = id_text(flat_value(object, "/root/id"));
  }
  if (!id) {
    error = "missing or invalid 'id' (expected a non-empty string or an integer)";
    return std::nullopt;
  }
  employee.id = std::move(*id);
  // The id is a field like any other for mappings (e.g. to an attribute).
  employee.fields.set("root.id", employee.id);

  for (const auto& path : paths) {
    const Lookup human = walk(object, path.human);
    const Lookup nested = walk(object, path.nested);
    const Lookup flat = flat_value(object, path.flat);
    // The machine value: nested first, flat when the nested one is missing or null.
    const bool nested_has_value =
        nested.present && nested.value != nullptr && !nested.value->is_null();
    const Lookup machine = nested_has_value || !flat.present ? nested : flat;
    if (is_non_null_scalar(human)) {
      std::string value = text_of(human);
      if (machine.present) {
        std::string raw = text_of(machine);
        if (raw != value) {
          employee.fields.set(path.id + "@machine", std::move(raw));
        }
      }
      employee.fields.set(path.id, std::move(value));
    } else if (machine.present || human.present) {
      employee.fields.set(path.id, text_of(machine));
    }
    // else: Bob did not send the field at all; the key stays absent.
  }
  return employee;
}

std::string parse_error_text(const Json::parse_error& e) {
  return "malformed JSON at byte " + std::to_string(e.byte) + ": " + excerpt(e.what());
}

// Other nlohmann errors while parsing (a number too large for a double).
std::string parse_error_text(const Json::exception& e) {
  return "malformed JSON: " + excerpt(e.what());
}

} // namespace

std::optional<state::Employee> employee_from_json_text(std::string_view json_text,
                                                       const std::vector<std::string>& field_ids,
                                                       std::string& error) {
  Json document;
  try {
    document = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    error = parse_error_text(e);
    return std::nullopt;
  } catch (const Json::exception& e) {
    error = parse_error_text(e);
    return std::nullopt;
  }
  if (!document.is_object()) {
    error = "expected a JSON object for the employee, got " + std::string(document.type_name());
    return std::nullopt;
  }
  std::string reason;
  auto employee = employee_from_object(document, compile_paths(field_ids), reason);
  if (!employee) {
    error = "employee: " + reason;
  }
  return employee;
}

// Streams the answer: each element of `employees` is converted as soon as it
// is parsed and then dropped from the document, so a 100,000-employee answer
// never exists as one JSON tree.
std::optional<std::vector<state::Employee>> employees_from_search_text(
    std::string_view json_text, const std::vector<std::string>& field_ids, std::string& error) {
  const auto paths = compile_paths(field_ids);
  std::vector<state::Employee> employees;
  std::string first_error;
  std::size_t index = 0;
  std::string top_level_key;
  bool in_employees = false;
  bool saw_employees = false;

  auto note_error = [&](std::string message) {
    if (first_error.empty()) {
      first_error = std::move(message);
    }
  };
  const Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth == 1) {
      switch (event) {
      case Json::parse_event_t::key:
        top_level_key = parsed.is_string() ? parsed.get<std::string>() : std::string();
        return true;
      case Json::parse_event_t::array_start:
        in_employees = top_level_key == "employees";
        saw_employees = saw_employees || in_employees;
        return true;
      case Json::parse_event_t::array_end:
        in_employees = false;
        return true;
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::value:
        return true;
      }
      return true;
    }
    if (depth != 2 || !in_employees) {
      return true;
    }
    switch (event) {
    case Json::parse_event_t::object_start:
    case Json::parse_event_t::array_start:
    case Json::parse_event_t::key:
      return true;
    case Json::parse_event_t::object_end: {
      if (first_error.empty()) {
        std::string reason;
        if (auto employee = employee_from_object(parsed, paths, reason)) {
          employees.push_back(std::move(*employee));
        } else {
          note_error("employees[" + std::to_string(index) + "]: " + reason);
        }
      }
      ++index;
      return false;
    }
    case Json::parse_event_t::array_end:
    case Json::parse_event_t::value:
      note_error("employees[" + std::to_string(index) + "] is not an object");
      ++index;
      return false;
    }
    return true;
  };

  Json document;
  try {
    document = Json::parse(json_text, callback);
  } catch (const Json::parse_error& e) {
    error = parse_error_text(e);
    return std::nullopt;
  } catch (const Json::exception& e) {
    error = parse_error_text(e);
    return std::nullopt;
  }
  if (!document.is_object() || !saw_employees) {
    error = "expected an object with an 'employees' array";
    return std::nullopt;
  }
  if (!first_error.empty()) {
    error = std::move(first_error);
    return std::nullopt;
  }
  return employees;
}

} // namespace bobsync::policies
