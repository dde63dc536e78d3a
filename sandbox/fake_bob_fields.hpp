#pragma once

// The field catalogue the fake Bob serves at GET /v1/company/people/fields:
// the shape of Bob's metadata answer (a JSON array of {id, name, category,
// type, typeData: {listId}, jsonPath, historical, description}), modelled
// on a real tenant's capture (shared/specs/hibob/NOTES.md §2.5).

#include <string>
#include <vector>

namespace bobsync::sandbox {

struct BobFieldMeta {
  std::string id;       // dot id: work.title, work.custom.field_1644932887286
  std::string name;     // UI label
  std::string category; // root, work, lifecycle, employment, ...
  std::string type;     // text, date, list, number, employee-reference, ...
  std::string list_id;  // list fields: typeData.listId
  bool historical = false;
};

// A realistic tenant: Bob's standard fields (basic info, work, contacts,
// employment, lifecycle, address, about) and a few custom fields.
std::vector<BobFieldMeta> default_field_catalogue();

// The JSON array Bob answers with. jsonPath is the id without "root." for
// root fields, the id otherwise.
std::string field_catalogue_json(const std::vector<BobFieldMeta>& fields);

} // namespace bobsync::sandbox
