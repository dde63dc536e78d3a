#include "state/plan_markdown.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bobsync::state {
namespace {

Change change(Action action,
              const std::string& id,
              const std::string& username,
              std::vector<FieldChange> fields = {}) {
  Change c;
  c.action = action;
  c.employee_id = id;
  c.username = username;
  c.email = username + "@example.com";
  c.user_id = action == Action::create ? "" : "u" + id;
  c.fields = std::move(fields);
  return c;
}

// Every action, a blocked verdict, a warning and hostile values.
Plan sample_plan() {
  Plan plan;
  auto conflict = change(Action::conflict, "1006", "twin");
  conflict.user_id = "";
  conflict.reason = "employees 1006, 1007 share email 'twin@example.com'";
  plan.changes.push_back(conflict);
  auto create = change(Action::create,
                       "1001",
                       "jose.nunez",
                       {{"displayname", std::nullopt, "José Núñez"},
                        {"jobTitle", std::nullopt, "Engineer | <b>Lead</b>"}});
  create.target_state = UserState::activated;
  create.reason = "new hire: started on 2026-11-02";
  plan.changes.push_back(create);
  plan.changes.push_back(change(Action::update,
                                "1002",
                                "ada",
                                {{"jobTitle", "Intern", "CTO \"Chief\""},
                                 {"location", "London", ""},
                                 {"displayname", "Ada", "<script>alert(1)</script>"}}));
  auto activate = change(Action::activate, "1004", "back");
  activate.target_state = UserState::activated;
  activate.reason = "rehired";
  plan.changes.push_back(activate);
  auto suspend = change(Action::suspend, "1003", "leaver");
  suspend.target_state = UserState::suspended;
  suspend.reason = "left on 2026-11-20";
  suspend.leaver = true;
  plan.changes.push_back(suspend);
  auto defer = change(Action::defer, "1005", "future");
  defer.user_id = "";
  defer.date = "2027-01-04";
  defer.reason = "starts on 2027-01-04";
  plan.changes.push_back(defer);
  plan.blocked = true;
  plan.block_reasons = {
      {BlockKind::safety_limit, "1 suspension exceeds safety.maxSuspensions (0)"}};
  plan.diagnostics.push_back({Severity::warning, "manager 1009 of 1002 is not managed", {}});
  plan.summary.unchanged = 4;
  plan.policy_hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  finalize(plan);
  return plan;
}

void expect_golden(const std::string& name, const std::string& actual) {
  const auto path = std::string(BOBSYNC_TESTDATA_DIR) + "/golden/" + name;
  if (std::getenv("UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "rendering changed; if intended, rerun with UPDATE_GOLDEN=1";
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// The cells of a Markdown table row: split on '|' not preceded by '\'.
std::size_t unescaped_pipes(const std::string& line) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) {
      ++n;
    }
  }
  return n;
}

TEST(PlanMarkdown, Golden) {
  MarkdownOptions options;
  options.json_artifact = "plan.json";
  expect_golden("plan.md", render_markdown(sample_plan(), options));
}

TEST(PlanMarkdown, BlockedAndConflictsComeBeforeTheChanges) {
  const auto md = render_markdown(sample_plan());
  const auto blocked = md.find("Blocked by the safety limits");
  const auto conflicts = md.find("Conflicts (1)");
  const auto first_details = md.find("<details>");
  ASSERT_NE(blocked, std::string::npos);
  ASSERT_NE(conflicts, std::string::npos);
  ASSERT_NE(first_details, std::string::npos);
  EXPECT_LT(blocked, md.find("| Action | Count |"));
  EXPECT_LT(conflicts, first_details);
  EXPECT_NE(md.find("--allow-mass-changes"), std::string::npos);
  // Every action that has changes gets one collapsible section.
  EXPECT_EQ(count(md, "<details>"), 5U);
  EXPECT_EQ(count(md, "</details>"), 5U);
}

TEST(PlanMarkdown, HostileValuesCannotBreakTheTableOrInjectHtml) {
  auto plan = sample_plan();
  plan.changes[2].username = "<img src=x onerror=alert(1)>";
  const auto md = render_markdown(plan);
  EXPECT_EQ(md.find("<script>"), std::string::npos) << md;
  EXPECT_EQ(md.find("<b>Lead"), std::string::npos) << md;
  EXPECT_EQ(md.find("<img"), std::string::npos) << md;
  EXPECT_NE(md.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(md.find("Engineer \\| &lt;b&gt;Lead&lt;/b&gt;"), std::string::npos);
  // Every row of a field table has exactly four cell separators.
  std::istringstream lines(md);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("  | ", 0) == 0) {
      EXPECT_EQ(unescaped_pipes(line), 4U) << line;
      ++rows;
    }
  }
  EXPECT_GT(rows, 0);
}

TEST(PlanMarkdown, EscapeMakesTextInert) {
  EXPECT_EQ(markdown_escape("a|b"), "a\\|b");
  EXPECT_EQ(markdown_escape("<script>"), "&lt;script&gt;");
  EXPECT_EQ(markdown_escape("@octocat #12"), "&#64;octocat &#35;12");
  EXPECT_EQ(markdown_escape("line\nbreak\r\tx"), "line<br>break  x");
  EXPECT_EQ(markdown_escape("*bold* _it_ `code` [l](u) ~s~ ![i]"),
            "\\*bold\\* \\_it\\_ \\`code\\` \\[l\\](u) \\~s\\~ \\!\\[i\\]");
  EXPECT_EQ(markdown_escape("a\\b & c"), "a\\\\b &amp; c");
  EXPECT_EQ(markdown_escape("José Núñez"), "José Núñez");
}

TEST(PlanMarkdown, LongValuesAreCutOnACharacterBoundary) {
  Plan plan;
  plan.changes.push_back(
      change(Action::update, "1", "long", {{"jobTitle", "x", std::string(150, 'a') + "ééééé"}}));
  finalize(plan);
  MarkdownOptions options;
  options.max_value_chars = 151;
  const auto md = render_markdown(plan, options);
  EXPECT_NE(md.find(std::string(150, 'a') + "…"), std::string::npos);
}

TEST(PlanMarkdown, TenThousandChangesStayUnderGitHubsCommentLimit) {
  Plan plan;
  for (int i = 0; i < 10000; ++i) {
    const auto id = std::to_string(100000 + i);
    auto action = i < 50 ? Action::conflict : (i % 2 == 0 ? Action::create : Action::update);
    auto c = change(action,
                    id,
                    "user" + id,
                    {{"jobTitle", std::optional<std::string>("Old title"), "New title " + id},
                     {"department", std::optional<std::string>("Sales"), "Engineering"}});
    if (action == Action::conflict) {
      c.fields.clear();
      c.reason = "two employees share this email";
    }
    plan.changes.push_back(std::move(c));
  }
  finalize(plan);
  MarkdownOptions options;
  options.json_artifact = "bobsync-plan/plan.json";
  const auto md = render_markdown(plan, options);
  EXPECT_LT(md.size(), 65536U);
  EXPECT_GT(md.size(), 50000U); // the budget is used, not wasted
  // What is shown plus what is counted as left out is the whole plan.
  const auto shown = count(md, "\n- ");
  const auto note = md.find(" of 10000 changes are not shown");
  ASSERT_NE(note, std::string::npos) << md.substr(md.size() - 500);
  const auto number_start = md.rfind("> ", note) + 2;
  const auto left_out = std::stoul(md.substr(number_start, note - number_start));
  EXPECT_EQ(shown + left_out, 10000U);
  EXPECT_NE(md.find("the JSON artifact **bobsync-plan/plan.json**"), std::string::npos)
      << md.substr(note);
  // All 50 conflicts are shown, before anything else.
  EXPECT_EQ(count(md, "two employees share this email"), 50U);
  EXPECT_EQ(count(md, "<details>"), count(md, "</details>"));
  // The summary counts everything.
  EXPECT_NE(md.find("| Create | 4975 |"), std::string::npos);
}

TEST(PlanMarkdown, EmptyPlanSaysSo) {
  Plan plan;
  plan.summary.unchanged = 12;
  finalize(plan);
  const auto md = render_markdown(plan);
  EXPECT_NE(md.find("No changes: JumpCloud is in line with Bob."), std::string::npos);
  EXPECT_EQ(md.find("<details>"), std::string::npos);
  EXPECT_EQ(md.find("not shown"), std::string::npos);
}

} // namespace
} // namespace bobsync::state
