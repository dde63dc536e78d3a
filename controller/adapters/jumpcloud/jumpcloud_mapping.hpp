#pragma once

// JumpCloud system-user JSON <-> state::DirectoryUser. Pure; the JSON library
// stays in the .cpp.
//
// Flat field names (state::DirectoryUser::fields):
//   - scalars by their JumpCloud name: `email`, `jobTitle`, `employeeIdentifier`;
//     strings as they are, booleans "true"/"false", numbers as JSON text;
//   - `phoneNumbers[type=work]` = that phone entry's `number` (first entry of a type wins);
//   - `attributes[name=costCode]` = that custom attribute's `value`.
// The state comes from `state` (STAGED/ACTIVATED/SUSPENDED), else from
// `suspended` (true: SUSPENDED, otherwise ACTIVATED). Not mapped: nested
// objects other than the two arrays (addresses, mfa, recoveryEmail, ...), nulls,
// and read-only bookkeeping (organization, created, creationSource,
// password_date, password_expiration_date, password_expired,
// account_locked_date, badLoginAttempts, totp_enabled).

#include "state/model.hpp"
#include "state/util/expected.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

// Where a flat field name points.
struct FieldRef {
  enum class Kind { scalar, phone, attribute };
  Kind kind = Kind::scalar;
  std::string key; // scalar name, phone type, or attribute name
};

// nullopt for a malformed name (empty, bad characters, unknown bracket form,
// or one of `_id`, `state`, `suspended`, which are not fields).
std::optional<FieldRef> parse_field_name(std::string_view name);

std::string phone_field(std::string_view type); // "phoneNumbers[type=<type>]"
// (custom attributes: state::attribute_field)

// True when `changes` touches phoneNumbers or attributes (which JumpCloud
// replaces whole on PUT, so the current arrays must be read first).
bool touches_arrays(const state::FlatMap<std::string>& changes);

// One user object (systemuserreturn) -> DirectoryUser, mapped by the reader
// of a page (below), so a user read alone equals the same user in a page:
// a repeated name's later scalar wins, a later null leaves it. Error text
// when the text is not valid JSON (UTF-8, nothing after the object), not an
// object, or has no string `_id`.
Expected<state::DirectoryUser, std::string> user_from_json_text(std::string_view text);

// One page of GET /systemusers (`{"totalCount": n, "results": [user, ...]}`):
// appends the users to `users` (mapped exactly as user_from_json_text does)
// and sets `total_count`. A single pass without a JSON document (simdjson's
// On Demand API, every value checked), because a full listing is 100,000
// users. False with `error` (where reading stopped) when the page is not
// valid JSON of that shape.
bool users_from_page_text(std::string_view text,
                          std::vector<state::DirectoryUser>& users,
                          long long& total_count,
                          std::string& error);

// The body of POST /systemusers: the non-empty fields, with phoneNumbers and
// attributes as arrays, plus `state` and a consistent `suspended`
// (SUSPENDED <=> true). Error when `email` or `username` is missing or a field
// name is malformed.
Expected<std::string, std::string> create_body(const state::FlatMap<std::string>& fields,
                                               state::UserState state);

// The body of PUT /systemusers/{id}: only the changed scalars ("" clears: sent
// as "" for text fields and as null for `manager` and `alternateEmail`, which
// JumpCloud validates), and, when phone numbers or attributes change, the
// whole merged arrays: `current_user_json` (the user as just read) with each
// changed entry replaced, added, or removed for "" (by phone type / attribute
// name; other entries are kept). A state change sends `state` and
// `suspended` together. Error for STAGED (only possible at creation), a
// malformed name, or array changes without a current user.
Expected<std::string, std::string> update_body(const state::FlatMap<std::string>& changes,
                                               std::optional<state::UserState> state,
                                               std::string_view current_user_json);

} // namespace bobsync::controller
