// The SQLite cache's `users.fields` decoder (a database edited or damaged by
// hand). Whatever it accepts must encode and decode back to the same fields.

#include "state/sqlite/fields_codec.hpp"
#include "state/store.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  namespace d = bobsync::state::sqlite_detail;
  bobsync::state::DirectoryUser user;
  user.id = "u1";
  try {
    user.fields = d::decode_user_fields(bobsync::fuzz::as_text(data, size), user.id);
  } catch (const bobsync::state::StoreError&) {
    return 0;
  }
  std::optional<std::string> encoded;
  try {
    encoded = d::encode_user_fields(user);
  } catch (const bobsync::state::StoreError&) {
    return 0; // raw bytes that are not UTF-8: refused on the way in
  }
  const auto again = d::decode_user_fields(*encoded, user.id);
  require(again == user.fields, "encode(decode(x)) does not decode to the same fields");
  require(d::encode_user_fields(bobsync::state::DirectoryUser{user.id, user.state, again})
              == *encoded,
          "the encoding is not canonical");
  return 0;
}
