// JumpCloud's answers: a page of GET /systemusers, one user (GET/POST/PUT
// answers), and that user read back as the current user of an update.

#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  namespace c = bobsync::controller;
  const auto text = bobsync::fuzz::as_text(data, size);

  std::vector<bobsync::state::DirectoryUser> users;
  long long total = -1;
  std::string error;
  const bool page_ok = c::users_from_page_text(text, users, total, error);
  require(page_ok || !error.empty(), "a refused page without an error");

  const auto user = c::user_from_json_text(text);
  if (user) {
    require(!user.value().id.empty(), "a user without an id");
    bobsync::state::FlatMap<std::string> changes;
    changes.set("phoneNumbers[type=work]", "+1 555 0100");
    changes.set("attributes[name=costCode]", "");
    changes.set("jobTitle", "Engineer");
    const auto body = c::update_body(changes, bobsync::state::UserState::suspended, text);
    require(body.has_value() || !body.error().empty(), "an update refused without an error");
  }
  return 0;
}
