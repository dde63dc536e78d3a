#pragma once

// What bobsync knows about the two schemas: which Bob field ids exist and
// which JumpCloud fields a mapping may write.

#include <string_view>
#include <vector>

namespace bobsync::policies {

// True for Bob's standard field ids (`root.email`, `work.title`, ...) and for
// custom fields and columns (`<category>.custom.field_<x>`,
// `<category>.customColumns.column_<x>`).
bool is_known_bob_field(std::string_view field_id);

// Bob's standard field ids, sorted (for "did you mean" hints and docs).
const std::vector<std::string_view>& standard_bob_fields();

// True for JumpCloud system-user fields a mapping may target: the writable
// string fields, `phoneNumbers[type=T]`, and `attributes[name=N]` with N made
// of letters and digits, fewer than 32 characters.
bool is_known_jumpcloud_field(std::string_view field);

const std::vector<std::string_view>& jumpcloud_scalar_fields();

// The closest candidate by edit distance, or "" when nothing is close.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

} // namespace bobsync::policies
