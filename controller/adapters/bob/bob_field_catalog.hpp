#pragma once

// Bob's field metadata: GET /v1/company/people/fields (the tenant's field
// catalogue: standard and custom fields). Needs no data permission, so it
// lists fields the service user may not be allowed to read.

#include "controller/adapters/bob/bob_hr_source.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

struct BobField {
  std::string id;        // dot id used in requests: root.email, work.custom.field_1644932887286
  std::string name;      // the label Bob's UI shows
  std::string category;  // root, work, lifecycle, ...
  std::string type;      // text, date, list, employee-reference, ...
  std::string list_id;   // typeData.listId for list fields; "" otherwise
  std::string json_path; // where the value is in a people read
  bool historical = false;

  bool operator==(const BobField&) const = default;
};

// Reads the catalogue with the service user's credentials (HTTP Basic),
// retrying transient failures like every Bob read. Errors read "Bob list
// fields: ...". The answer must be a JSON array of objects with a string
// "id"; other keys are optional.
class BobFieldCatalog {
public:
  BobFieldCatalog(http::Transport& transport, Clock& clock, BobSettings settings);

  ApiResult<std::vector<BobField>> list_fields();

private:
  BobSettings m_settings;
  std::string m_authorization;
  http::ApiClient m_client;
};

// Parses the catalogue's JSON text; nullopt with `error` set when it is not
// an array of field objects.
std::optional<std::vector<BobField>> parse_field_catalog(std::string_view text, std::string& error);

// The fields whose id, label or category contains `text` (case-insensitive);
// all of them when `text` is empty. Keeps the order.
std::vector<BobField> search_fields(const std::vector<BobField>& fields, std::string_view text);

} // namespace bobsync::controller
