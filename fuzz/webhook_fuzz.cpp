// Bob webhooks: the signature check (header and body from the input) and the
// envelope parser.

#include "controller/server/webhook.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"

namespace {

constexpr std::string_view k_secret = "fuzz-webhook-secret";

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
         || c == '_';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  namespace s = bobsync::controller::server;
  const auto input = bobsync::fuzz::as_text(data, size);

  // "<signature header>\n<body>"; without a newline the whole input is the body.
  const auto newline = input.find('\n');
  const auto header =
      newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const auto body = newline == std::string_view::npos ? input : input.substr(newline + 1);

  (void)s::verify_bob_signature(k_secret, body, header);
  require(s::verify_bob_signature(k_secret, body, s::bob_signature(k_secret, body)),
          "Bob's own signature is refused");
  require(!s::verify_bob_signature("", body, header), "an empty secret authenticates");

  const auto event = s::parse_bob_event(body);
  switch (event.kind) {
  case s::BobEventKind::employee:
  case s::BobEventKind::table_entry:
    require(!event.employee_id.empty() && event.employee_id.size() <= 64, "employee id length");
    for (const char c : event.employee_id) {
      require(id_char(c), "employee id character");
    }
    break;
  case s::BobEventKind::malformed:
    require(!event.error.empty(), "malformed without an error");
    require(event.employee_id.empty(), "malformed with an employee id");
    break;
  case s::BobEventKind::ping:
  case s::BobEventKind::unknown:
    require(event.employee_id.empty(), "an employee id on a ping or unknown event");
    break;
  }
  require(event.type.size() <= 128 || event.kind == s::BobEventKind::malformed, "type length");
  (void)s::is_known_bob_event_type(event.type);
  (void)s::to_string(event.kind);
  return 0;
}
