// End to end: how plan and apply observe JumpCloud (fresh by default, a bad
// listing never becomes a write, saved plans checked against fresh reads) and
// what they say when an API misbehaves. The CLI in-process (cli::run) against
// the sandbox's fakes over loopback HTTP and a temporary SQLite database.

#include "controller/adapters/bob/bob_payload.hpp"
#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace bobsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using e2e::k_amelia;
using e2e::read_all;

const std::string k_bob_user = "svc-trust-user-8812";
const std::string k_bob_token = "bob-token-S3CR3T-trust-4471";
const std::string k_jc_key = "jc-key-S3CR3T-trust-6603";
const std::string k_webhook_secret = "webhook-S3CR3T-trust-2290";

e2e::SandboxOptions trust_jumpcloud_options() {
  e2e::SandboxOptions options;
  options.temp_prefix = "bobsync-trust";
  options.secrets = {k_bob_user, k_bob_token, k_jc_key, k_webhook_secret};
  return options;
}

class TrustJumpCloudE2E : public e2e::SandboxE2E {
protected:
  TrustJumpCloudE2E()
      : SandboxE2E(trust_jumpcloud_options()) {}

  // "cached JumpCloud users: N (last full refresh: T)" from `status`.
  std::string cache_line() {
    const auto out = cli({"status"}).out;
    const auto at = out.find("cached JumpCloud users:");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  }

  int listings() { return jumpcloud().stats().count("GET", "/api/systemusers"); }
};

TEST_F(TrustJumpCloudE2E, PlanSeesAnEditMadeInJumpCloudWithoutAnyFlag) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const std::string id = (*user_of(k_amelia))["_id"];
  ASSERT_TRUE(jumpcloud().edit_user(id, R"({"jobTitle":"Chief Hacker"})"));
  const auto before = listings();

  const auto plan = cli({"plan"});

  EXPECT_EQ(plan.code, 2) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("Chief Hacker"), std::string::npos) << plan.out;
  EXPECT_GT(listings(), before) << "plan listed JumpCloud";
  const auto cached = cli({"plan", "--cached"});
  EXPECT_TRUE(nothing_to_apply(cached))
      << "--cached uses the cache, fresh within the refresh interval";
  EXPECT_EQ(cli({"plan", "--refresh"}).code, 2) << "--refresh is still accepted";
}

TEST_F(TrustJumpCloudE2E, PlanNoticesAWrongApiKey) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  setenv("JUMPCLOUD_API_KEY", "jc-key-wrong-0000", 1);

  const auto plan = cli({"plan"});

  EXPECT_EQ(plan.code, 1);
  EXPECT_NE(plan.err.find("JumpCloud list users: HTTP 401"), std::string::npos) << plan.err;
}

TEST_F(TrustJumpCloudE2E, ExplainReadsJumpCloudFreshUnlessCached) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto before = listings();
  EXPECT_EQ(cli({"explain", k_amelia}).code, 0);
  EXPECT_GT(listings(), before);
  const auto fresh = listings();
  EXPECT_EQ(cli({"explain", k_amelia, "--cached"}).code, 0);
  EXPECT_EQ(listings(), fresh);
}

TEST_F(TrustJumpCloudE2E, SavedPlanIsAppliedWhenNothingChanged) {
  const auto saved = m_dir + "/plan.json";
  ASSERT_EQ(cli({"plan", "--out", saved}).code, 2);
  const auto created = cli({"apply", "--plan", saved});
  ASSERT_EQ(created.code, 0) << created.out << created.err;
  ASSERT_TRUE(user_of(k_amelia));
  // Drift made in JumpCloud after the cache was filled: the saved plan sees
  // it (fresh read), and so must the apply that checks the plan.
  const std::string id = (*user_of(k_amelia))["_id"];
  const std::string title = (*user_of(k_amelia))["jobTitle"];
  ASSERT_TRUE(jumpcloud().edit_user(id, R"({"jobTitle":"Chief Hacker"})"));
  ASSERT_EQ(cli({"plan", "--out", saved}).code, 2);

  const auto applied = cli({"apply", "--plan", saved, "--cached"});

  EXPECT_EQ(applied.code, 0) << applied.out << applied.err;
  EXPECT_EQ((*user_of(k_amelia))["jobTitle"], title);
  EXPECT_TRUE(nothing_to_apply(cli({"plan"}))) << "converged";
}

TEST_F(TrustJumpCloudE2E, SavedPlanIsRefusedWhenJumpCloudChangedSinceThePlan) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  ASSERT_TRUE(
      bob().change(k_amelia, {{"root.surname", sandbox::BobValue::string("Clarke-Hughes")}}));
  const auto saved = m_dir + "/plan.json";
  ASSERT_EQ(cli({"plan", "--out", saved}).code, 2);
  const std::string id = (*user_of(k_amelia))["_id"];
  ASSERT_TRUE(jumpcloud().edit_user(id, R"({"lastname":"Someone Else"})"));
  const auto writes = jumpcloud().write_count();

  for (const auto* cached : {"", "--cached"}) {
    std::vector<std::string> args = {"apply", "--plan", saved};
    if (*cached != '\0') {
      args.emplace_back(cached);
    }
    const auto stale = cli(args);
    EXPECT_EQ(stale.code, 1) << cached;
    EXPECT_NE(stale.err.find("stale"), std::string::npos) << stale.err;
  }
  EXPECT_EQ(jumpcloud().write_count(), writes);
  EXPECT_EQ((*user_of(k_amelia))["lastname"], "Someone Else");
}

TEST_F(TrustJumpCloudE2E, EmptyListingWhileLinksExistBlocksAndIsNotCached) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto cache = cache_line();
  const auto writes = jumpcloud().write_count();
  jumpcloud().set_listing_fault(sandbox::ListingFault{sandbox::ListingFault::Kind::empty, 0});

  const auto plan = cli({"plan"});
  EXPECT_EQ(plan.code, 3) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("JumpCloud listed no users"), std::string::npos) << plan.out;
  for (const auto* allow : {"", "--allow-mass-changes"}) {
    std::vector<std::string> args = {"apply"};
    if (*allow != '\0') {
      args.emplace_back(allow);
    }
    const auto apply = cli(args);
    EXPECT_EQ(apply.code, 3) << allow << apply.out << apply.err;
  }

  EXPECT_EQ(jumpcloud().write_count(), writes);
  EXPECT_EQ(cache_line(), cache) << "the empty listing was not cached";
  jumpcloud().set_listing_fault(std::nullopt);
  EXPECT_TRUE(nothing_to_apply(cli({"plan"})));
}

TEST_F(TrustJumpCloudE2E, IncompleteListingFailsThePassAndKeepsTheCache) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto cache = cache_line();
  const auto writes = jumpcloud().write_count();
  jumpcloud().set_listing_fault(
      sandbox::ListingFault{sandbox::ListingFault::Kind::wrong_total,
                            static_cast<long long>(jumpcloud().user_count() + 7)});

  const auto plan = cli({"plan"});
  const auto apply = cli({"apply"});

  EXPECT_EQ(plan.code, 1);
  EXPECT_NE(plan.err.find("JumpCloud list users: incomplete listing"), std::string::npos)
      << plan.err;
  EXPECT_EQ(apply.code, 1);
  EXPECT_NE(apply.err.find("incomplete listing"), std::string::npos) << apply.err;
  EXPECT_EQ(jumpcloud().write_count(), writes);
  EXPECT_EQ(cache_line(), cache);
}

TEST_F(TrustJumpCloudE2E, BobCredentialsEchoedByAServerErrorAreRedactedEverywhere) {
  const auto basic = controller::base64_encode(k_bob_user + ":" + k_bob_token);
  sandbox::Fault echo;
  echo.kind = sandbox::FaultKind::status;
  echo.status = 500;
  echo.times = 1000;
  echo.body = R"({"message":"proxy failure for )" + k_bob_user + " (Authorization: Basic " + basic
              + ", token " + k_bob_token + ")\"}";
  bob().faults().add(echo);

  EXPECT_EQ(cli({"apply"}).code, 1);
  EXPECT_EQ(cli({"plan"}).code, 1);
  cli({"status"});

  std::string everything = m_transcript;
  for (const auto& entry : fs::directory_iterator(m_dir)) {
    everything += read_all(entry.path().string());
  }
  EXPECT_NE(everything.find("proxy failure for"), std::string::npos) << "the search is not vacuous";
  for (const auto& secret : {k_bob_user, k_bob_token, basic}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << "\n" << m_transcript;
  }
}

TEST_F(TrustJumpCloudE2E, UrlAndConnectionErrorsNameTheVariableAndTheUrl) {
  setenv("BOB_API_URL", "http://127.0.0.1:1/v1", 1);
  const auto unreachable = cli({"plan"});
  EXPECT_EQ(unreachable.code, 1);
  EXPECT_NE(unreachable.err.find("cannot reach Bob at http://127.0.0.1:1/v1 (BOB_API_URL)"),
            std::string::npos)
      << unreachable.err;

  setenv("JUMPCLOUD_API_URL", "http://10.1.2.3/api", 1);
  const auto refused = cli({"plan"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("JUMPCLOUD_API_URL 'http://10.1.2.3/api' cannot be used: plain "
                             "http:// is only allowed to a loopback host"),
            std::string::npos)
      << refused.err;

  setenv("JUMPCLOUD_API_URL", "https://admin:pa55w0rd-xyz@console.example.com/api?k=v", 1);
  const auto credentials = cli({"plan"});
  EXPECT_EQ(credentials.code, 1);
  EXPECT_NE(credentials.err.find("JUMPCLOUD_API_URL 'https://***@console.example.com/api'"),
            std::string::npos)
      << credentials.err;
  EXPECT_EQ(credentials.err.find("pa55w0rd-xyz"), std::string::npos);
}

TEST_F(TrustJumpCloudE2E, ARateLimitLongerThanTheRunWaitsStopsWritingAndLeavesTheRest) {
  sandbox::Fault limited;
  limited.kind = sandbox::FaultKind::status;
  limited.status = 429;
  limited.method = "POST";
  limited.retry_after = "3600";
  limited.times = 1000;
  jumpcloud().faults().add(limited);

  const auto stopped = cli({"apply"});

  EXPECT_EQ(stopped.code, 1);
  const int posts = jumpcloud().stats().count("POST", "/api/systemusers");
  EXPECT_GE(posts, 1);
  EXPECT_LE(posts, 4) << "at most the writes already in flight (write concurrency 4)";
  EXPECT_EQ(jumpcloud().write_count(), 0);
  EXPECT_NE(stopped.out.find("JumpCloud answered 429 Too Many Requests and asked to wait 3600 s"),
            std::string::npos)
      << stopped.out << stopped.err;
  EXPECT_NE(stopped.out.find("left for the next pass"), std::string::npos) << stopped.out;
  // Only what was attempted is journaled and audited as failed.
  const auto history = cli({"history"}).out;
  int failed = 0;
  for (std::size_t at = history.find("  failed  "); at != std::string::npos;
       at = history.find("  failed  ", at + 1)) {
    ++failed;
  }
  EXPECT_EQ(failed, posts) << history;
  EXPECT_NE(cli({"status"}).out.find("left="), std::string::npos);

  jumpcloud().faults().clear();
  const auto next = cli({"apply"});
  EXPECT_EQ(next.code, 0) << next.out << next.err;
  EXPECT_TRUE(user_of(k_amelia));
}

} // namespace
} // namespace bobsync
