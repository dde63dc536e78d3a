#pragma once

// Reading Bob's people payloads into Employees. Pure (nlohmann::json kept out
// of this header).

#include "state/diagnostic.hpp"
#include "state/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::policies {

// Parses one employee object (as returned by POST /people/{id}, or one element
// of a search's `employees`) and extracts `field_ids` (dot form). Each field is
// read from the nested shape (`root.x` at `$.x`, `work.title` at
// `$.work.title`) or the flat shape (`$["/work/title"].value`), preferring the
// human-readable value (`$.humanReadable...`) when Bob appended one. Numbers
// and booleans become their JSON text. Returns nullopt with a message in
// `error` when the object has no string/number `id`.
std::optional<state::Employee> employee_from_json_text(std::string_view json_text,
                                                       const std::vector<std::string>& field_ids,
                                                       std::string& error);

// Parses a whole people-search response (`{"employees": [...]}`). On a shape
// error returns nullopt and sets `error` (naming the element).
std::optional<std::vector<state::Employee>> employees_from_search_text(
    std::string_view json_text, const std::vector<std::string>& field_ids, std::string& error);

} // namespace bobsync::policies
