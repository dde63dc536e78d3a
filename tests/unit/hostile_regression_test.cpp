// Regression tests for what the hostile-input suite found (docs/testing.md,
// "Hostile input and secrets"), in the layer of each fix.

#include "policies/policy_parser.hpp"
#include "state/plan_markdown.hpp"
#include "state/plan_render.hpp"

#include <gtest/gtest.h>

namespace bobsync {
namespace {

const std::string k_rlo = "\xe2\x80\xae"; // U+202E RIGHT-TO-LEFT OVERRIDE
const std::string k_csi = "\xc2\x9b";     // U+009B

state::Plan plan_with(const std::string& value) {
  state::Plan plan;
  state::Change c;
  c.action = state::Action::create;
  c.employee_id = "1";
  c.email = "a@example.com";
  c.username = "a";
  c.fields.push_back({"department", std::nullopt, value});
  plan.changes.push_back(c);
  return plan;
}

TEST(HostileRegression, PlanJsonEscapesInvisibleCharactersAndReadsBackTheSame) {
  const auto value = "Dept" + k_rlo + "gnp.exe" + k_csi + "\x7f";
  const auto text = state::render_json(plan_with(value));
  EXPECT_EQ(text.find(k_rlo), std::string::npos);
  EXPECT_EQ(text.find(k_csi), std::string::npos);
  EXPECT_EQ(text.find('\x7f'), std::string::npos);
  EXPECT_NE(text.find("Dept\\u202Egnp.exe\\u009B\\u007F"), std::string::npos) << text;
  EXPECT_NE(text.find('\n'), std::string::npos); // still indented
  std::string error;
  const auto back = state::parse_plan_json(text, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->changes.at(0).fields.at(0).new_value, value);
}

TEST(HostileRegression, MarkdownEscapesInvisibleCharacters) {
  const auto text = state::markdown_escape("Dept" + k_rlo + "gnp" + k_csi + " Jos\xc3\xa9");
  EXPECT_EQ(text.find(k_rlo), std::string::npos);
  EXPECT_EQ(text.find(k_csi), std::string::npos);
  EXPECT_EQ(text, "Dept\\\\u202Egnp\\\\u009B Jos\xc3\xa9");
}

TEST(HostileRegression, DeepNestingIsRefusedWithAClearMessage) {
  const std::string yaml = "version: 1\nscope: " + std::string(5000, '[') + std::string(5000, ']');
  const auto result = policies::parse_policy(yaml, "deep.yaml");
  EXPECT_FALSE(result.policy);
  ASSERT_FALSE(result.diagnostics.empty());
  EXPECT_NE(result.diagnostics.front().message.find("nested more than"), std::string::npos)
      << result.diagnostics.front().message;
}

} // namespace
} // namespace bobsync
