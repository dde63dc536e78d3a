// parse_policy: YAML from a file or a ConfigMap. Never throws; a policy only
// without error diagnostics.

#include "policies/policy_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  const auto result =
      bobsync::policies::parse_policy(bobsync::fuzz::as_text(data, size), "fuzz.yaml");
  const bool has_error =
      std::any_of(result.diagnostics.begin(), result.diagnostics.end(), [](const auto& d) {
        return d.severity == bobsync::state::Severity::error;
      });
  require(result.policy.has_value() != has_error, "a policy exactly when there is no error");
  return 0;
}
