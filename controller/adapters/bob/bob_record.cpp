#include "controller/adapters/bob/bob_record.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>

namespace bobsync::controller {
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

// ---- extraction ------------------------------------------------------------
//
// An employee object is read with nlohmann's SAX interface rather than into
// a JSON tree: 100,000 employees of ~40 values each would otherwise cost
// millions of allocations. The result is the same as walking the tree:
//
// - nested and human-readable paths: the key is missing (absent), or the path
//   ends at a value (a scalar, null, or a container). A null met halfway
//   counts as null (the parent object was sent empty); a scalar or an array
//   met halfway makes the path absent. A key repeated in one object: the
//   last one counts, as in the tree.
// - flat paths (`$["/work/title"]`): the member itself when it is not an
//   object, else its `value` member (null when it has none).

enum class Kind : std::uint8_t { absent, null, scalar, container };
enum class ScalarType : std::uint8_t { string, integer, other };

struct Capture {
  Kind kind = Kind::absent;
  ScalarType type = ScalarType::other;
  std::string text; // scalars: strings as they are, numbers and booleans as JSON text

  bool present() const { return kind != Kind::absent; }
};

// Where a path leads to a target: as the value itself, or (flat paths) as an
// object standing for null until its `value` member is seen.
enum class Rule : std::uint8_t { value, flat_object };

// What happens at one path (a key sequence from the employee object).
struct PathEntry {
  std::vector<std::uint32_t> under;                  // targets at or below this path
  std::vector<std::pair<std::uint32_t, Rule>> exact; // targets exactly here
};

// A path as one string: each key prefixed by its length, so that no key
// (whatever characters it holds) can be mistaken for two.
void append_segment(std::string& path, std::string_view key) {
  const auto n = static_cast<std::uint32_t>(key.size());
  path.append(reinterpret_cast<const char*>(&n), sizeof n);
  path.append(key);
}

} // namespace

// Targets: per field (human, nested, flat), then the id (nested, flat).
struct EmployeeReader::Paths {
  std::vector<FieldPath> fields;
  std::uint32_t target_count = 0;
  std::unordered_map<std::string, PathEntry> entries; // by encoded path; "" is the object

  void add(std::uint32_t target, const std::vector<std::string>& segments, Rule rule) {
    std::string path;
    entries[path].under.push_back(target);
    for (const auto& segment : segments) {
      append_segment(path, segment);
      entries[path].under.push_back(target);
    }
    entries[path].exact.emplace_back(target, rule);
  }
  void add_flat(std::uint32_t target, const std::string& key) {
    add(target, {key}, Rule::flat_object);
    add(target, {key, "value"}, Rule::value);
  }
};

namespace {

// Collects the targets of one employee object. Anything not on a target's
// path is skipped without being stored.
class EmployeeSax {
public:
  using Json = nlohmann::json;

  EmployeeSax(const EmployeeReader::Paths& paths, std::vector<Capture>& captures)
      : m_paths(paths),
        m_captures(captures) {}

  bool null() { return on_value(Kind::null, ScalarType::other, {}, "null"); }
  bool boolean(bool value) {
    return on_value(Kind::scalar, ScalarType::other, value ? "true" : "false", "boolean");
  }
  bool number_integer(Json::number_integer_t value) {
    return on_value(Kind::scalar, ScalarType::integer, std::to_string(value), "number");
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return on_value(Kind::scalar, ScalarType::integer, std::to_string(value), "number");
  }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    return on_value(Kind::scalar, ScalarType::other, Json(value).dump(), "number");
  }
  bool string(Json::string_t& value) {
    return on_value(Kind::scalar, ScalarType::string, std::move(value), "string");
  }
  bool binary(Json::binary_t& /*value*/) {
    return on_value(Kind::container, ScalarType::other, {}, "binary");
  }

  bool start_object(std::size_t /*size*/) {
    if (m_frames.empty()) {
      m_root_type = "object";
      const auto root = m_paths.entries.find(std::string());
      m_frames.push_back({false, root != m_paths.entries.end() ? &root->second : nullptr, 0});
      return true;
    }
    const PathEntry* entry = take_pending();
    if (entry != nullptr) {
      for (const auto& [target, rule] : entry->exact) {
        set(target, rule == Rule::flat_object ? Kind::null : Kind::container);
      }
    }
    m_frames.push_back({false, entry, m_path.size()});
    return true;
  }
  bool end_object() {
    m_frames.pop_back();
    return true;
  }
  bool start_array(std::size_t /*size*/) {
    if (m_frames.empty()) {
      m_root_type = "array";
      m_frames.push_back({true, nullptr, 0});
      return true;
    }
    if (const PathEntry* entry = take_pending(); entry != nullptr) {
      for (const auto& exact : entry->exact) {
        set(exact.first, Kind::container);
      }
    }
    m_frames.push_back({true, nullptr, m_path.size()}); // nothing inside an array is a target
    return true;
  }
  bool end_array() {
    m_frames.pop_back();
    return true;
  }

  bool key(Json::string_t& key) {
    const Frame& frame = m_frames.back();
    m_pending = nullptr;
    if (frame.entry == nullptr) {
      return true;
    }
    m_path.resize(frame.path_size);
    append_segment(m_path, key);
    const auto it = m_paths.entries.find(m_path);
    if (it == m_paths.entries.end()) {
      return true;
    }
    m_pending = &it->second;
    for (auto target : m_pending->under) {
      m_captures[target] = Capture{}; // a repeated key replaces what came before
    }
    return true;
  }

  bool parse_error(std::size_t position,
                   const std::string& /*token*/,
                   const nlohmann::detail::exception& e) {
    if (dynamic_cast<const Json::parse_error*>(&e) != nullptr) {
      m_error = "malformed JSON at byte " + std::to_string(position) + ": " + excerpt(e.what());
    } else {
      m_error = "malformed JSON: " + excerpt(e.what()); // e.g. a number too large for a double
    }
    return false;
  }

  const std::string& error() const { return m_error; }
  // "" until the first value; "object" when the text is an object.
  std::string_view root_type() const { return m_root_type; }

private:
  struct Frame {
    bool array;
    const PathEntry* entry; // this container's path when a target lies at or below it
    std::size_t path_size;  // length of the encoded path of this container
  };

  // The entry of the key just read, for the value that follows it.
  const PathEntry* take_pending() {
    const PathEntry* entry = m_frames.back().array ? nullptr : m_pending;
    m_pending = nullptr;
    return entry;
  }

  bool on_value(Kind kind, ScalarType type, std::string text, const char* json_type) {
    if (m_frames.empty()) { // a scalar document
      m_root_type = json_type;
      return true;
    }
    const PathEntry* entry = take_pending();
    if (entry == nullptr) {
      return true;
    }
    if (kind == Kind::null) {
      for (auto target : entry->under) {
        set(target, Kind::null); // below a null, everything is null
      }
      return true;
    }
    for (std::size_t i = 0; i < entry->exact.size(); ++i) {
      auto& capture = m_captures[entry->exact[i].first];
      capture.kind = kind;
      capture.type = type;
      capture.text = i + 1 == entry->exact.size() ? std::move(text) : text;
    }
    return true;
  }

  void set(std::uint32_t target, Kind kind) {
    auto& capture = m_captures[target];
    capture.kind = kind;
    capture.type = ScalarType::other;
    capture.text.clear();
  }

  const EmployeeReader::Paths& m_paths;
  std::vector<Capture>& m_captures;
  std::vector<Frame> m_frames;
  std::string m_path;
  const PathEntry* m_pending = nullptr;
  std::string m_error;
  std::string m_root_type;
};

const std::string& text_of(const Capture& c) {
  static const std::string k_empty;
  return c.kind == Kind::scalar ? c.text : k_empty;
}

// Bob ids are 19-digit numbers: strings normally, exact integers otherwise.
std::optional<std::string> id_text(const Capture& c) {
  if (c.kind != Kind::scalar) {
    return std::nullopt;
  }
  if (c.type == ScalarType::string) {
    return c.text.empty() ? std::nullopt : std::optional(c.text);
  }
  if (c.type == ScalarType::integer) {
    return c.text;
  }
  return std::nullopt; // floats (precision lost), booleans
}

std::string parse_error_text(const Json::parse_error& e) {
  return "malformed JSON at byte " + std::to_string(e.byte) + ": " + excerpt(e.what());
}

// Other nlohmann errors while parsing (a number too large for a double).
std::string parse_error_text(const Json::exception& e) {
  return "malformed JSON: " + excerpt(e.what());
}

} // namespace

EmployeeReader::EmployeeReader(const std::vector<std::string>& field_ids)
    : m_paths(std::make_shared<Paths>()) {
  m_paths->fields = compile_paths(field_ids);
  std::uint32_t target = 0;
  for (const auto& path : m_paths->fields) {
    m_paths->add(target++, path.human, Rule::value);
    m_paths->add(target++, path.nested, Rule::value);
    m_paths->add_flat(target++, path.flat);
  }
  m_paths->add(target++, {"id"}, Rule::value);
  m_paths->add_flat(target++, "/root/id");
  m_paths->target_count = target;
}

std::optional<state::Employee> EmployeeReader::read(std::string_view json_text,
                                                    std::string& error) const {
  std::vector<Capture> captures(m_paths->target_count);
  EmployeeSax sax(*m_paths, captures);
  if (!Json::sax_parse(json_text, &sax)) {
    error = sax.error();
    return std::nullopt;
  }
  if (sax.root_type() != "object") {
    error = "expected a JSON object for the employee, got " + std::string(sax.root_type());
    return std::nullopt;
  }
  const auto fields = m_paths->fields.size();
  auto id = id_text(captures[3 * fields]);
  if (!id) {
    id = id_text(captures[3 * fields + 1]);
  }
  if (!id) {
    error = "missing or invalid 'id' (expected a non-empty string or an integer)";
    return std::nullopt;
  }
  state::Employee employee;
  employee.id = std::move(*id);
  employee.fields.reserve(fields + 1);
  // The id is a field like any other for mappings (e.g. to an attribute).
  employee.fields.set("root.id", employee.id);
  for (std::size_t i = 0; i < fields; ++i) {
    const auto& path = m_paths->fields[i];
    auto& human = captures[3 * i];
    auto& nested = captures[3 * i + 1];
    auto& flat = captures[3 * i + 2];
    // The machine value: nested first, flat when the nested one is missing or null.
    const bool nested_has_value = nested.kind == Kind::scalar || nested.kind == Kind::container;
    auto& machine = nested_has_value || !flat.present() ? nested : flat;
    if (human.kind == Kind::scalar) {
      if (machine.present() && text_of(machine) != human.text) {
        employee.fields.set(path.id + std::string(state::k_machine_suffix), text_of(machine));
      }
      employee.fields.set(path.id, std::move(human.text));
    } else if (machine.present() || human.present()) {
      employee.fields.set(path.id, text_of(machine));
    }
    // else: Bob did not send the field at all; the key stays absent.
  }
  return employee;
}

std::optional<state::Employee> employee_from_json_text(std::string_view json_text,
                                                       const std::vector<std::string>& field_ids,
                                                       std::string& error) {
  return EmployeeReader(field_ids).read(json_text, error);
}

// Streams the answer: each element of `employees` is converted as soon as it
// is parsed and then dropped from the document, so a whole answer never
// exists as one JSON tree.
std::optional<std::vector<state::Employee>> employees_from_search_text(
    std::string_view json_text, const std::vector<std::string>& field_ids, std::string& error) {
  const EmployeeReader reader(field_ids);
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
        // The element again as text, read like any employee (this function
        // serves tests and small answers; the Bob adapter streams).
        std::string reason;
        if (auto employee = reader.read(parsed.dump(), reason)) {
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

} // namespace bobsync::controller
