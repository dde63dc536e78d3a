#pragma once

// The cache's `users.fields` column codec, exposed for the fuzz target and the
// round-trip tests only (internal to bobsync_state_sqlite otherwise).

#include "state/model.hpp"

#include <string>
#include <string_view>

namespace bobsync::state::sqlite_detail {

// A user's fields as the JSON object of strings stored in `users.fields`;
// throws StoreError when a name or value is not valid UTF-8.
std::string encode_user_fields(const DirectoryUser& user);

// Reads such an object back; throws StoreError naming `user_id` when the text
// is not a JSON object of strings (in UTF-8).
FlatMap<std::string> decode_user_fields(std::string_view text, std::string_view user_id);

} // namespace bobsync::state::sqlite_detail
