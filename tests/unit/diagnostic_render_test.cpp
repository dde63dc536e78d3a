#include "state/diagnostic_render.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bobsync::state {
namespace {

TEST(DiagnosticRender, GithubErrorWithLocation) {
  const Diagnostic d{Severity::error, "mapping[9].source: unknown Bob field", {"p.yaml", 71, 13}};
  EXPECT_EQ(format_github(d),
            "::error file=p.yaml,line=71,col=13,title=bobsync::mapping[9].source: unknown Bob "
            "field");
}

TEST(DiagnosticRender, GithubWarningWithoutLocation) {
  EXPECT_EQ(format_github({Severity::warning, "no employee", {}}),
            "::warning title=bobsync::no employee");
  EXPECT_EQ(format_github({Severity::warning, "x", {"p.yaml", 0, 0}}),
            "::warning file=p.yaml,title=bobsync::x");
}

TEST(DiagnosticRender, GithubEscapesDataAndProperties) {
  // A message with a newline must stay one workflow command; a file name
  // with ',' or ':' must not add or end a property.
  const Diagnostic d{Severity::error, "100% wrong\r\nsecond line", {"dir,a:b/p%.yaml", 2, 3}};
  EXPECT_EQ(format_github(d),
            "::error file=dir%2Ca%3Ab/p%25.yaml,line=2,col=3,title=bobsync::100%25 "
            "wrong%0D%0Asecond line");
  EXPECT_EQ(github_escape_data("a:b,c"), "a:b,c");
  EXPECT_EQ(github_escape_property("a:b,c"), "a%3Ab%2Cc");
}

TEST(DiagnosticRender, JsonDocument) {
  const Diagnostics ds = {{Severity::error, "bad \"key\"", {"p.yaml", 4, 1}},
                          {Severity::warning, "hm", {}}};
  const auto doc = nlohmann::json::parse(render_diagnostics_json("p.yaml", ds));
  EXPECT_EQ(doc["formatVersion"], 1);
  EXPECT_EQ(doc["file"], "p.yaml");
  EXPECT_EQ(doc["valid"], false);
  EXPECT_EQ(doc["errors"], 1);
  EXPECT_EQ(doc["warnings"], 1);
  ASSERT_EQ(doc["diagnostics"].size(), 2U);
  EXPECT_EQ(doc["diagnostics"][0]["severity"], "error");
  EXPECT_EQ(doc["diagnostics"][0]["message"], "bad \"key\"");
  EXPECT_EQ(doc["diagnostics"][0]["line"], 4);
  EXPECT_EQ(doc["diagnostics"][0]["column"], 1);
  EXPECT_TRUE(doc["diagnostics"][1]["file"].is_null());
  EXPECT_TRUE(doc["diagnostics"][1]["line"].is_null());
  const auto valid = nlohmann::json::parse(render_diagnostics_json("p.yaml", {}));
  EXPECT_EQ(valid["valid"], true);
  EXPECT_TRUE(valid["diagnostics"].empty());
}

} // namespace
} // namespace bobsync::state
