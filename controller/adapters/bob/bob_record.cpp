#include "controller/adapters/bob/bob_record.hpp"

#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/json/strict_reader.hpp"

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
// An employee object is walked with the adapters' strict reader (simdjson On
// Demand) rather than parsed into a JSON tree: 100,000 employees of ~40
// values each would otherwise cost millions of allocations. Every value is
// read (and so checked); only those on a target's path are kept. The result
// is the same as walking the tree:
//
// - nested and human-readable paths: the key is missing (absent), or the path
//   ends at a value (a scalar, null, or a container). A null met halfway
//   counts as null (the parent object was sent empty); a scalar or an array
//   met halfway makes the path absent. A key repeated in one object: the
//   last one counts, as in the tree.
// - flat paths (`$["/work/title"]`): the member itself when it is not an
//   object, else its `value` member (null when it has none).
// - numbers become the text nlohmann::json prints for them (what bobsync
//   always stored: "1.50" is "1.5"), so the reader's choice never shows.

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

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

} // namespace

// One step of the paths to the targets (a trie over keys; the root is the
// employee object).
struct PathNode {
  std::vector<std::uint32_t> under;                  // targets at or below this node
  std::vector<std::pair<std::uint32_t, Rule>> exact; // targets exactly here
  std::unordered_map<std::string, std::unique_ptr<PathNode>, StringHash, std::equal_to<>> children;

  const PathNode* child(std::string_view key) const {
    const auto it = children.find(key);
    return it == children.end() ? nullptr : it->second.get();
  }
};

// Targets: per field (human, nested, flat), then the id (nested, flat).
struct EmployeeReader::Paths {
  std::vector<FieldPath> fields;
  std::uint32_t target_count = 0;
  PathNode root;

  void add(std::uint32_t target, const std::vector<std::string>& segments, Rule rule) {
    PathNode* node = &root;
    node->under.push_back(target);
    for (const auto& segment : segments) {
      auto& next = node->children[segment];
      if (!next) {
        next = std::make_unique<PathNode>();
      }
      node = next.get();
      node->under.push_back(target);
    }
    node->exact.emplace_back(target, rule);
  }
  void add_flat(std::uint32_t target, const std::string& key) {
    add(target, {key}, Rule::flat_object);
    add(target, {key, "value"}, Rule::value);
  }
};

namespace {

namespace od = strict_json::od;

// Collects the targets of one employee object into `captures`.
class EmployeeWalk {
public:
  EmployeeWalk(strict_json::StrictReader& reader, std::vector<Capture>& captures)
      : m_reader(reader),
        m_captures(captures) {}

  // The members of an object on the targets' paths (`node`).
  bool object(od::object& object, const PathNode& node, int depth) {
    return m_reader.members(object, [&](std::string_view key, od::value& value) {
      const PathNode* child = node.child(key);
      if (child == nullptr) {
        return m_reader.skip(value, depth + 1);
      }
      for (auto target : child->under) {
        m_captures[target] = Capture{}; // a repeated key replaces what came before
      }
      return this->value(value, *child, depth + 1);
    });
  }

private:
  bool value(od::value& value, const PathNode& node, int depth) {
    od::json_type type{};
    if (const auto e = value.type().get(type)) {
      return m_reader.fail(e);
    }
    switch (type) {
    case od::json_type::object: {
      for (const auto& [target, rule] : node.exact) {
        set(target, rule == Rule::flat_object ? Kind::null : Kind::container);
      }
      od::object inner;
      if (const auto e = value.get_object().get(inner)) {
        return m_reader.fail(e);
      }
      return object(inner, node, depth);
    }
    case od::json_type::array:
      for (const auto& exact : node.exact) {
        set(exact.first, Kind::container); // nothing inside an array is a target
      }
      return m_reader.skip(value, depth);
    case od::json_type::null: {
      bool null = false;
      if (const auto e = value.is_null().get(null); e || !null) {
        return m_reader.fail("invalid value"); // "nul", "nulls"
      }
      for (auto target : node.under) {
        set(target, Kind::null); // below a null, everything is null
      }
      return true;
    }
    case od::json_type::string:
    case od::json_type::number:
    case od::json_type::boolean:
      break;
    }
    if (node.exact.empty()) {
      return m_reader.skip(value, depth); // a scalar met halfway: the paths below are absent
    }
    Capture scalar;
    scalar.kind = Kind::scalar;
    if (type == od::json_type::number) {
      bool integer = false;
      if (!m_reader.number(value, scalar.text, integer, strict_json::NumberText::nlohmann)) {
        return false;
      }
      scalar.type = integer ? ScalarType::integer : ScalarType::other;
    } else {
      std::optional<std::string> text;
      if (!m_reader.scalar(value, text)) {
        return false;
      }
      scalar.text = std::move(*text);
      scalar.type = type == od::json_type::string ? ScalarType::string : ScalarType::other;
    }
    for (std::size_t i = 0; i < node.exact.size(); ++i) {
      auto& capture = m_captures[node.exact[i].first];
      capture = i + 1 == node.exact.size() ? std::move(scalar) : scalar;
    }
    return true;
  }

  void set(std::uint32_t target, Kind kind) {
    auto& capture = m_captures[target];
    capture.kind = kind;
    capture.type = ScalarType::other;
    capture.text.clear();
  }

  strict_json::StrictReader& m_reader;
  std::vector<Capture>& m_captures;
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

// Reads `json_text` (one employee object) into `captures`; false with a
// message naming the byte when it is not JSON or not an object.
bool walk_employee(std::string_view json_text,
                   const PathNode& root,
                   std::vector<Capture>& captures,
                   std::string& error) {
  strict_json::StrictReader reader(json_text);
  if (!reader.start()) {
    error = "malformed JSON: " + reader.error();
    return false;
  }
  od::object object;
  if (const auto e = reader.document().get_object().get(object)) {
    od::json_type type{};
    if (e == simdjson::INCORRECT_TYPE && reader.document().type().get(type) == simdjson::SUCCESS
        && Json::accept(json_text)) {
      error = "expected a JSON object for the employee, got "
              + std::string(strict_json::type_name(type));
      return false;
    }
    if (e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) { // simdjson checks the last byte first
      reader.fail_at("truncated, or trailing characters after the employee", json_text.size());
    } else {
      reader.fail(e == simdjson::INCORRECT_TYPE ? "not a JSON value"
                                                : std::string_view(simdjson::error_message(e)));
    }
    error = "malformed JSON: " + reader.error();
    return false;
  }
  EmployeeWalk walk(reader, captures);
  if (!walk.object(object, root, 0)) {
    error = "malformed JSON: " + reader.error();
    return false;
  }
  if (!reader.at_end()) {
    reader.fail("trailing characters after the employee");
    error = "malformed JSON: " + reader.error();
    return false;
  }
  return true;
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
  if (!walk_employee(json_text, m_paths->root, captures, error)) {
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
  employee.fields.shrink_to_fit(); // kept for the whole pass, 100,000 of them
  return employee;
}

std::optional<state::Employee> employee_from_json_text(std::string_view json_text,
                                                       const std::vector<std::string>& field_ids,
                                                       std::string& error) {
  return EmployeeReader(field_ids).read(json_text, error);
}

// The Bob adapter's path without its threads: the splitter cuts the answer
// into employee objects, each read as it comes.
std::optional<std::vector<state::Employee>> employees_from_search_text(
    std::string_view json_text, const std::vector<std::string>& field_ids, std::string& error) {
  const EmployeeReader reader(field_ids);
  std::vector<state::Employee> employees;
  std::string reason;
  SearchSplitter splitter([&](std::string&& text) { // `splitter` is in scope here
    auto employee = reader.read(text, reason);
    if (!employee) {
      reason = "employees[" + std::to_string(splitter.index()) + "]: " + reason;
      return false;
    }
    employees.push_back(std::move(*employee));
    return true;
  });
  if (!splitter.feed(json_text) || !splitter.finish()) {
    error = reason.empty() ? splitter.error() : reason;
    return std::nullopt;
  }
  return employees;
}

} // namespace bobsync::controller
