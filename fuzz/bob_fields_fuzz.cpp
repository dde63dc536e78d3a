// Bob's field catalogue (GET /v1/company/people/fields, `bobsync bob fields`).

#include "controller/adapters/bob/bob_field_catalog.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  namespace c = bobsync::controller;
  std::string error;
  const auto fields = c::parse_field_catalog(bobsync::fuzz::as_text(data, size), error);
  require(fields.has_value() || !error.empty(), "a refused catalogue without an error");
  if (fields) {
    require(c::search_fields(*fields, "").size() == fields->size(), "search \"\" drops fields");
    for (const auto& f : *fields) {
      const auto found = c::search_fields(*fields, f.id);
      require(f.id.empty() || !found.empty(), "a field is not found by its own id");
    }
  }
  return 0;
}
