#pragma once

// Reading Bob's people payloads into Employees. Pure (nlohmann::json kept out
// of this header).

#include "state/diagnostic.hpp"
#include "state/model.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

// Parses one employee object (as returned by POST /people/{id}, or one element
// of a search's `employees`) and extracts `field_ids` (dot form). Each field is
// read from the nested shape (`root.x` at `$.x`, `work.title` at
// `$.work.title`) or the flat shape (`$["/work/title"].value`), preferring the
// human-readable value (`$.humanReadable...`) when Bob appended one. Numbers
// and booleans become their JSON text. Returns nullopt with a message in
// `error` when the object has no string/number `id`.
// The same, for many employees with one list of fields: the paths are worked
// out once. `read` is const and safe to call from several threads at once.
class EmployeeReader {
public:
  explicit EmployeeReader(const std::vector<std::string>& field_ids);
  std::optional<state::Employee> read(std::string_view json_text, std::string& error) const;

  struct Paths; // what to look for, and where

private:
  std::shared_ptr<Paths> m_paths;
};

std::optional<state::Employee> employee_from_json_text(std::string_view json_text,
                                                       const std::vector<std::string>& field_ids,
                                                       std::string& error);

// Parses a whole people-search response (`{"employees": [...]}`). On a shape
// error returns nullopt and sets `error` (naming the element).
std::optional<std::vector<state::Employee>> employees_from_search_text(
    std::string_view json_text, const std::vector<std::string>& field_ids, std::string& error);

} // namespace bobsync::controller
