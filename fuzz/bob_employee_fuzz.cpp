// Bob's single-employee answer (POST /people/{id}): one employee object,
// nested or flat, with or without humanReadable.

#include "controller/adapters/bob/bob_record.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.hpp"

namespace {

const std::vector<std::string> k_fields = {"root.id",
                                           "root.email",
                                           "root.displayName",
                                           "work.title",
                                           "work.startDate",
                                           "work.manager",
                                           "internal.status",
                                           "payroll.employment.type",
                                           "work.custom.field_1",
                                           "root.firstName"};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  const auto text = bobsync::fuzz::as_text(data, size);
  std::string error;
  const auto one = bobsync::controller::employee_from_json_text(text, k_fields, error);
  require(one.has_value() || !error.empty(), "no employee and no error");
  if (one) {
    require(!one->id.empty(), "an employee without an id");
    // The shared-paths reader must agree with the one-off function.
    const bobsync::controller::EmployeeReader reader(k_fields);
    std::string again_error;
    const auto again = reader.read(text, again_error);
    require(again.has_value() && *again == *one, "EmployeeReader disagrees");
  }
  return 0;
}
