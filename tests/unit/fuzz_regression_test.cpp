// Regression tests for what fuzzing found (tools/fuzz.sh, docs/testing.md).
// Every input is checked in under tests/testdata/fuzz/<parser>/.

#include "policies/policy_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bobsync::policies {
namespace {

std::string fuzz_dir(const std::string& parser) {
  return std::string(BOBSYNC_TESTDATA_DIR) + "/fuzz/" + parser;
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool has_error_containing(const ParseResult& result, const std::string& text, int line) {
  return std::any_of(result.diagnostics.begin(), result.diagnostics.end(), [&](const auto& d) {
    return d.severity == state::Severity::error && d.message.find(text) != std::string::npos
           && d.where.line == line;
  });
}

// yaml-cpp 0.7 never gets past a ',' where a document should start: LoadAll
// kept adding empty documents until memory ran out (found by policy_fuzz as
// a timeout). Now refused at once, naming the line.
TEST(FuzzRegressionPolicy, AStrayCommaWhereADocumentStartsIsASyntaxError) {
  const auto result =
      parse_policy(read_bytes(fuzz_dir("policy") + "/stray-comma.yaml"), "stray-comma.yaml");
  EXPECT_FALSE(result.policy.has_value());
  EXPECT_TRUE(has_error_containing(result, "YAML syntax error", 2));

  const auto after_end = parse_policy(
      read_bytes(fuzz_dir("policy") + "/stray-comma-after-document-end.yaml"), "after-end.yaml");
  EXPECT_FALSE(after_end.policy.has_value());
  EXPECT_TRUE(has_error_containing(after_end, "YAML syntax error", 3));
}

// Every input the fuzzer found is refused with an error, and returns.
TEST(FuzzRegressionPolicy, EveryFoundInputIsRefused) {
  int inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fuzz_dir("policy"))) {
    SCOPED_TRACE(entry.path().string());
    const auto result = parse_policy(read_bytes(entry.path()), entry.path().filename().string());
    EXPECT_FALSE(result.policy.has_value());
    EXPECT_FALSE(result.diagnostics.empty());
    ++inputs;
  }
  EXPECT_GE(inputs, 3);
}

} // namespace
} // namespace bobsync::policies
