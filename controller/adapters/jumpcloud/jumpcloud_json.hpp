#pragma once

// nlohmann-typed variants of the mapping, for jumpcloud_mapping.cpp and
// jumpcloud_directory.cpp only (keeps the JSON library out of other headers).

#include "state/model.hpp"
#include "state/util/expected.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace bobsync::controller {

// As user_from_json_text, from a parsed object.
Expected<state::DirectoryUser, std::string> user_from_json(const nlohmann::json& object);

} // namespace bobsync::controller
