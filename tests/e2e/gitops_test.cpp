// End to end for the GitOps views: plan --format markdown, validate
// --format github|json and --online, bob fields (in-process through
// cli::run), and the steps of the example pipelines (examples/ci/
// bobsync-ci.sh running the real binary) against the sandbox's fakes.

#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace bobsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using e2e::CliResult;
using e2e::k_amelia;
using e2e::read_all;

const std::string k_bob_user = "svc-gitops-user";
const std::string k_bob_token = "bob-token-S3CR3T-gitops-5512";
const std::string k_jc_key = "jc-key-S3CR3T-gitops-8830";

// No webhook secret: the sandbox keeps its own, BOB_WEBHOOK_SECRET is unset.
e2e::SandboxOptions gitops_options() {
  e2e::SandboxOptions options;
  options.temp_prefix = "bobsync-gitops";
  options.secrets = {k_bob_user, k_bob_token, k_jc_key, std::nullopt};
  options.now = "2026-11-27T12:00:00Z";
  return options;
}

class GitOpsE2E : public e2e::SandboxE2E {
protected:
  GitOpsE2E()
      : SandboxE2E(gitops_options()) {}

  // "line,col" (1-based) of the first occurrence of `needle` in the file.
  static std::pair<int, int> position(const std::string& path, const std::string& needle) {
    const auto text = read_all(path);
    const auto at = text.find(needle);
    EXPECT_NE(at, std::string::npos) << needle;
    const auto line_start = text.rfind('\n', at);
    const int line = static_cast<int>(std::count(text.begin(), text.begin() + at, '\n')) + 1;
    const int col =
        static_cast<int>(at - (line_start == std::string::npos ? 0 : line_start + 1)) + 1;
    return {line, col};
  }

  // In place of SandboxE2E::cli: plan and apply get --now 2026-11-27 and
  // --db m_db (no -f), and no output may hold a secret.
  CliResult cli(std::vector<std::string> args) {
    if (args.front() == "plan" || args.front() == "apply") {
      args.insert(args.end(), {"--now", "2026-11-27", "--db", m_db});
    }
    auto r = e2e::run_cli(args);
    EXPECT_EQ((r.out + r.err).find(k_bob_token), std::string::npos);
    EXPECT_EQ((r.out + r.err).find(k_jc_key), std::string::npos);
    return r;
  }

  std::size_t jumpcloud_users() const { return m_sandbox->jumpcloud().users_json().size(); }

  bool has_user_of(const std::string& employee_id) const {
    return user_of(employee_id).has_value();
  }

  // Runs examples/ci/bobsync-ci.sh STEP with the real binary, as the example
  // pipelines do.
  CliResult ci_step(const std::string& step, const std::string& extra_env = "") {
    const auto out = m_dir + "/" + step + ".out";
    const auto err = m_dir + "/" + step + ".err";
    const std::string command = "cd '" + m_dir + "' && BOBSYNC='" + BOBSYNC_BINARY + "' POLICY='"
                                + m_policy + "' PLAN_DIR=bobsync-plan BOBSYNC_DB='" + m_db
                                + "' BOBSYNC_NOW=2026-11-27 " + extra_env + " bash '"
                                + BOBSYNC_SOURCE_DIR + "/examples/ci/bobsync-ci.sh' " + step + " >'"
                                + out + "' 2>'" + err + "' </dev/null";
    const int status = std::system(command.c_str());
    CliResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_all(out);
    r.err = read_all(err);
    return r;
  }
};

// ---- plan --format ------------------------------------------------------------

TEST_F(GitOpsE2E, PlanAsMarkdownForAPullRequestComment) {
  const auto saved = m_dir + "/plan.json";
  const auto r = cli({"plan", "-f", m_policy, "--format", "markdown", "--out", saved});
  EXPECT_EQ(r.code, cli::k_exit_changes) << r.err;
  EXPECT_EQ(r.out.rfind("### bobsync plan\n", 0), 0U) << r.out;
  EXPECT_NE(r.out.find("<details><summary><b>Create</b>"), std::string::npos);
  EXPECT_NE(r.out.find("#### ⚠️ Conflicts (2)"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("Conflicts (2)"), r.out.find("<details>"));
  EXPECT_LT(r.out.size(), 65536U);
  // The saved plan is the JSON a later apply --plan reads.
  const auto doc = json::parse(read_all(saved));
  EXPECT_EQ(doc["formatVersion"], 1);
  EXPECT_EQ(doc["summary"]["conflict"], 2);
  // Nothing was written to JumpCloud.
  EXPECT_FALSE(has_user_of(k_amelia));
}

TEST_F(GitOpsE2E, PlanJsonFlagIsAnAliasOfFormatJson) {
  const auto a = cli({"plan", "-f", m_policy, "--json"});
  const auto b = cli({"plan", "-f", m_policy, "--format", "json"});
  EXPECT_EQ(a.code, cli::k_exit_changes);
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(json::parse(a.out)["formatVersion"], 1);
  const auto both = cli({"plan", "-f", m_policy, "--json", "--format", "markdown"});
  EXPECT_EQ(both.code, cli::k_exit_error);
  EXPECT_NE(both.err.find("--json is --format json"), std::string::npos) << both.err;
  const auto bad = cli({"plan", "-f", m_policy, "--format", "html"});
  EXPECT_EQ(bad.code, cli::k_exit_error);
  EXPECT_NE(bad.err.find("expected one of text, json, markdown, got 'html'"), std::string::npos)
      << bad.err;
}

TEST_F(GitOpsE2E, MarkdownPlanEscapesADisplayNameFullOfHtml) {
  bob().change(k_amelia,
               {{"root.displayName", sandbox::BobValue::string("<script>x</script> | @team")}});
  const auto r = cli({"plan", "-f", m_policy, "--format", "markdown", "--employee", k_amelia});
  EXPECT_EQ(r.code, cli::k_exit_changes) << r.err;
  EXPECT_EQ(r.out.find("<script>"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("@team"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("&lt;script&gt;x&lt;/script&gt; \\| &#64;team"), std::string::npos) << r.out;
}

// ---- validate --format ----------------------------------------------------------

TEST_F(GitOpsE2E, ValidateAsGithubAnnotationsPointsAtTheLine) {
  const auto path =
      write_policy("broken.yaml", {{"source: work.department", "source: work.departmnt"}});
  const auto [line, col] = position(path, "work.departmnt");
  const auto r = cli({"validate", "-f", path, "--format", "github"});
  EXPECT_EQ(r.code, cli::k_exit_error);
  const std::string expected = "::error file=" + path + ",line=" + std::to_string(line)
                               + ",col=" + std::to_string(col) + ",title=bobsync::";
  EXPECT_EQ(r.out.rfind(expected, 0), 0U) << r.out;
  EXPECT_NE(r.out.find("unknown Bob field 'work.departmnt' (did you mean 'work.department'?)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("is not a valid policy"), std::string::npos);
}

TEST_F(GitOpsE2E, ValidateAsJson) {
  const auto path = write_policy("broken.yaml",
                                 {{"source: work.department", "source: work.departmnt"},
                                  {"writeConcurrency: 4", "writeConcurrency: 99"}});
  const auto r = cli({"validate", "-f", path, "--format", "json"});
  EXPECT_EQ(r.code, cli::k_exit_error);
  const auto doc = json::parse(r.out);
  EXPECT_EQ(doc["valid"], false);
  EXPECT_EQ(doc["errors"], 2);
  ASSERT_EQ(doc["diagnostics"].size(), 2U);
  for (const auto& d : doc["diagnostics"]) {
    EXPECT_EQ(d["severity"], "error");
    EXPECT_EQ(d["file"], path);
    EXPECT_GT(d["line"].get<int>(), 0);
  }
  const auto ok = cli({"validate", "-f", m_policy, "--format", "json"});
  EXPECT_EQ(ok.code, cli::k_exit_ok);
  EXPECT_EQ(json::parse(ok.out)["valid"], true);
}

// ---- validate --online ----------------------------------------------------------

TEST_F(GitOpsE2E, ValidateOnlineFindsACustomFieldTheTenantDoesNotHave) {
  // Offline, any custom field id is accepted; the tenant has no such field.
  const auto path = write_policy(
      "custom.yaml",
      {{"  # exclude:                       # a list of filters, same keys as include\n",
        "  exclude:\n    - fields: {work.custom.field_1644932887287: [\"No JumpCloud\"]}\n"}});
  EXPECT_EQ(cli({"validate", "-f", path}).code, cli::k_exit_ok);
  const auto [line, col] = position(path, "work.custom.field_1644932887287");
  const auto r = cli({"validate", "-f", path, "--online", "--format", "github"});
  EXPECT_EQ(r.code, cli::k_exit_error) << r.out << r.err;
  EXPECT_NE(r.out.find("::error file=" + path + ",line=" + std::to_string(line)
                       + ",col=" + std::to_string(col) + ","),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unknown Bob field 'work.custom.field_1644932887287' (did you mean "
                       "'work.custom.field_1644932887286'?)"),
            std::string::npos)
      << r.out;
}

TEST_F(GitOpsE2E, ValidateOnlineWarnsOnAFieldTheServiceUserCannotSee) {
  EXPECT_EQ(cli({"validate", "-f", m_policy, "--online"}).code, cli::k_exit_ok);
  bob().hide_field("work.workMobile");
  const auto [line, col] = position(m_policy, "work.workMobile");
  const auto r = cli({"validate", "-f", m_policy, "--online"});
  EXPECT_EQ(r.code, cli::k_exit_ok) << r.err; // a warning, not an error
  EXPECT_NE(
      r.err.find(m_policy + ":" + std::to_string(line) + ":" + std::to_string(col)
                 + ": warning: the Bob service user cannot see 'work.workMobile' (Work mobile)"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("valid policy"), std::string::npos);
  // Offline nothing is asked of Bob.
  const auto offline = cli({"validate", "-f", m_policy});
  EXPECT_EQ(offline.err.find("cannot see"), std::string::npos);
}

TEST_F(GitOpsE2E, ValidateOnlineNeedsTheBobCredentials) {
  setenv("BOB_SERVICE_USER_TOKEN", "wrong-S3CR3T", 1);
  const auto r = cli({"validate", "-f", m_policy, "--online"});
  EXPECT_EQ(r.code, cli::k_exit_error);
  EXPECT_NE(r.err.find("Bob list fields"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong-S3CR3T"), std::string::npos);
  unsetenv("BOB_SERVICE_USER_TOKEN");
  const auto missing = cli({"validate", "-f", m_policy, "--online"});
  EXPECT_EQ(missing.code, cli::k_exit_error);
  EXPECT_NE(missing.err.find("BOB_SERVICE_USER_TOKEN"), std::string::npos) << missing.err;
}

// ---- bob fields -----------------------------------------------------------------

TEST_F(GitOpsE2E, BobFieldsListsTheCatalogue) {
  const auto all = cli({"bob", "fields"});
  EXPECT_EQ(all.code, cli::k_exit_ok) << all.err;
  EXPECT_NE(all.out.find("work.department"), std::string::npos);
  EXPECT_NE(all.out.find(std::to_string(bob().field_catalogue().size()) + " fields"),
            std::string::npos)
      << all.out;
  const auto some = cli({"bob", "fields", "--search", "COST CENTER"});
  EXPECT_EQ(some.code, cli::k_exit_ok);
  EXPECT_NE(some.out.find("work.custom.field_1644932887286"), std::string::npos) << some.out;
  EXPECT_NE(some.out.find("Cost center"), std::string::npos);
  EXPECT_EQ(some.out.find("work.department"), std::string::npos);
  EXPECT_NE(some.out.find("1 of "), std::string::npos);
}

TEST_F(GitOpsE2E, BobFieldsUsesThePolicysBobUrl) {
  const auto path =
      write_policy("url.yaml", {{"url: https://api.hibob.com/v1", "url: " + bob().base_url()}});
  unsetenv("BOB_API_URL");
  const auto r = cli({"bob", "fields", "-f", path, "--search", "work.title"});
  EXPECT_EQ(r.code, cli::k_exit_ok) << r.err;
  EXPECT_NE(r.out.find("work.title"), std::string::npos) << r.out;
  // A plain-http URL to another host is refused, naming where it came from.
  const auto remote = write_policy(
      "remote.yaml", {{"url: https://api.hibob.com/v1", "url: http://bob.example.com/v1"}});
  const auto refused = cli({"bob", "fields", "-f", remote});
  EXPECT_EQ(refused.code, cli::k_exit_error);
  EXPECT_NE(refused.err.find("source.bob.url"), std::string::npos) << refused.err;
}

TEST_F(GitOpsE2E, BobFieldsAsJson) {
  bob().add_field({"work.custom.field_1700000000002", "Badge", "work", "text", "", false});
  const auto r = cli({"bob", "fields", "--json", "--search", "department"});
  EXPECT_EQ(r.code, cli::k_exit_ok) << r.err;
  const auto doc = json::parse(r.out);
  ASSERT_EQ(doc.size(), 1U) << r.out;
  EXPECT_EQ(doc[0]["id"], "work.department");
  EXPECT_EQ(doc[0]["label"], "Department");
  EXPECT_EQ(doc[0]["category"], "work");
  EXPECT_EQ(doc[0]["type"], "list");
  EXPECT_EQ(doc[0]["listId"], "department");
  const auto badge = json::parse(cli({"bob", "fields", "--json", "--search", "badge"}).out);
  ASSERT_EQ(badge.size(), 1U);
  EXPECT_TRUE(badge[0]["listId"].is_null());
}

TEST_F(GitOpsE2E, BobFieldsRefusesAWrongTokenAndAnUnknownSubcommand) {
  setenv("BOB_SERVICE_USER_TOKEN", "wrong-S3CR3T", 1);
  const auto r = cli({"bob", "fields"});
  EXPECT_EQ(r.code, cli::k_exit_error);
  EXPECT_NE(r.err.find("Bob list fields"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong-S3CR3T"), std::string::npos);
  const auto other = cli({"bob", "people"});
  EXPECT_EQ(other.code, cli::k_exit_error);
  EXPECT_NE(other.err.find("expected 'bob fields'"), std::string::npos) << other.err;
}

// ---- the example pipelines' steps -------------------------------------------------

TEST_F(GitOpsE2E, ExamplePipelineStepsRunAgainstTheSandbox) {
  // Pull request: validate, plan (comment + artifact).
  const auto validate = ci_step("validate", "FORMAT=github ONLINE=1");
  EXPECT_EQ(validate.code, 0) << validate.out << validate.err;
  EXPECT_NE(validate.out.find("valid policy"), std::string::npos);
  EXPECT_NE(validate.out.find("checked against Bob's field catalogue"), std::string::npos);
  const auto plan = ci_step("plan");
  EXPECT_EQ(plan.code, 0) << plan.err; // changes to review: the job succeeds
  EXPECT_EQ(read_all(m_dir + "/bobsync-plan/exit-code"), "2\n");
  const auto comment = read_all(m_dir + "/bobsync-plan/plan.md");
  EXPECT_EQ(comment.rfind("### bobsync plan", 0), 0U) << comment;
  EXPECT_TRUE(fs::exists(m_dir + "/bobsync-plan/plan.json"));
  EXPECT_FALSE(has_user_of(k_amelia));
  const auto before = jumpcloud_users();

  // Merge: apply exactly the saved plan.
  const auto apply = ci_step("apply");
  EXPECT_EQ(apply.code, 0) << apply.out << apply.err;
  EXPECT_TRUE(has_user_of(k_amelia));
  EXPECT_GT(jumpcloud_users(), before);

  // The next pull request's plan is stale by the time it is merged: Bob
  // changed. Nothing is applied and the job fails.
  bob().change(k_amelia, {{"root.displayName", sandbox::BobValue::string("Amelia Renamed")}});
  ASSERT_EQ(ci_step("plan").code, 0);
  EXPECT_EQ(read_all(m_dir + "/bobsync-plan/exit-code"), "2\n");
  bob().change(k_amelia, {{"root.firstName", sandbox::BobValue::string("Amy")}});
  const auto count = jumpcloud_users();
  const auto stale = ci_step("apply");
  EXPECT_EQ(stale.code, 1) << stale.out << stale.err;
  EXPECT_NE(stale.err.find("stale"), std::string::npos) << stale.err;
  EXPECT_EQ(jumpcloud_users(), count);

  // A broken policy fails validate with an annotation.
  m_policy = write_policy("broken.yaml", {{"source: work.department", "source: work.departmnt"}});
  const auto broken = ci_step("validate", "FORMAT=github");
  EXPECT_EQ(broken.code, 1);
  EXPECT_EQ(broken.out.rfind("::error file=", 0), 0U) << broken.out;
}

TEST_F(GitOpsE2E, ExamplePipelineBlockedPlanFailsTheJobAndMassChangesNeedTheFlag) {
  ASSERT_EQ(ci_step("plan").code, 0);
  ASSERT_EQ(ci_step("apply").code, 0);
  // Everybody but one leaves Bob: the plan suspends nearly everyone, beyond
  // the limits (an empty Bob would be a bad read, which no flag lifts).
  const auto employees = bob().employees();
  for (std::size_t i = 1; i < employees.size(); ++i) {
    bob().remove(employees[i].id);
  }
  const auto plan = ci_step("plan");
  EXPECT_EQ(plan.code, 3) << plan.err;
  EXPECT_NE(read_all(m_dir + "/bobsync-plan/plan.md").find("safety limit: "), std::string::npos);
  const auto suspended = [&] {
    int n = 0;
    for (const auto& text : m_sandbox->jumpcloud().users_json()) {
      n += json::parse(text).value("suspended", false) ? 1 : 0;
    }
    return n;
  };
  const int before = suspended();
  const auto apply = ci_step("apply");
  EXPECT_EQ(apply.code, 3) << apply.out << apply.err;
  EXPECT_EQ(suspended(), before); // nothing applied
  // The deliberate, reviewed step: the same saved plan with the flag.
  const auto allowed = ci_step("apply", "ALLOW_MASS_CHANGES=1");
  EXPECT_EQ(allowed.code, 0) << allowed.out << allowed.err;
  EXPECT_GT(suspended(), before + 10);
}

} // namespace
} // namespace bobsync
