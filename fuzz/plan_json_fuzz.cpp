// The saved-plan reader (`apply --plan FILE`). A plan it accepts renders to
// JSON that reads back as the same plan.

#include "state/plan_render.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  std::string error;
  const auto plan = bobsync::state::parse_plan_json(bobsync::fuzz::as_text(data, size), error);
  require(plan.has_value() || !error.empty(), "a refused plan without an error");
  if (!plan) {
    return 0;
  }
  const auto rendered = bobsync::state::render_json(*plan);
  std::string again_error;
  const auto again = bobsync::state::parse_plan_json(rendered, again_error);
  require(again.has_value(), "a rendered plan does not read back");
  require(*again == *plan, "a plan read back differs from the one rendered");
  return 0;
}
