#pragma once

// Where a policy file names Bob fields: each mapping source, scope `fields`
// key and lifecycle field, with its file:line:column (for checks that run
// after parsing, such as `validate --online`). Pure: no file access.

#include "state/diagnostic.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bobsync::policies {

struct FieldReference {
  std::string field;           // Bob dot field id as written
  std::string key;             // where: "mapping[2].source", "lifecycle.fields.startDate", ...
  state::SourceLocation where; // of the field id in the file
};

// The Bob field references in a policy's YAML text. Text that is not YAML
// gives none (parse_policy reports it). In file order.
std::vector<FieldReference> bob_field_references(std::string_view yaml_text,
                                                 const std::string& source_name);

} // namespace bobsync::policies
