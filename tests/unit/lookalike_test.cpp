// Look-alike email addresses (Unicode TS #39 confusables) in a plan's creates.

#include "policies/lookalike.hpp"

#include <gtest/gtest.h>

namespace bobsync::policies {
namespace {

state::DirectoryUser user(const std::string& id, const std::string& email) {
  state::DirectoryUser u;
  u.id = id;
  u.fields.set("email", email);
  return u;
}

state::Change create(const std::string& employee_id, const std::string& email) {
  state::Change c;
  c.action = state::Action::create;
  c.employee_id = employee_id;
  c.email = email;
  return c;
}

std::vector<std::string> warnings(const state::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& d : plan.diagnostics) {
    EXPECT_EQ(d.severity, state::Severity::warning);
    out.push_back(d.message);
  }
  return out;
}

const std::vector<state::DirectoryUser> k_users = {user("u-admin", "it-admin@example.com"),
                                                   user("u-kim", "kim@example.com")};

TEST(LookalikeEmails, ACyrillicLetterForALatinOneIsNamedWithItsCodePoint) {
  state::Plan plan;
  plan.changes.push_back(create("1001", "\xD1\x96t-admin@example.com")); // U+0456 for "i"

  warn_lookalike_emails(plan, k_users);

  const auto w = warnings(plan);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_NE(w[0].find("of employee 1001 (to be created) looks like 'it-admin@example.com' of "
                      "JumpCloud user u-admin but is another address (U+0456)"),
            std::string::npos)
      << w[0];
}

TEST(LookalikeEmails, AKelvinSignIsNotTakenForTheSameAddress) {
  state::Plan plan;
  plan.changes.push_back(create("1002", "\xE2\x84\xAAim@example.com")); // U+212A KELVIN SIGN

  warn_lookalike_emails(plan, k_users);

  const auto w = warnings(plan);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_NE(w[0].find("looks like 'kim@example.com' of JumpCloud user u-kim"), std::string::npos)
      << w[0];
  EXPECT_NE(w[0].find("U+212A"), std::string::npos) << w[0];
}

TEST(LookalikeEmails, TwoCreatesThatLookAlikeAreNamedToo) {
  state::Plan plan;
  plan.changes.push_back(create("1003", "ana@example.com"));
  plan.changes.push_back(create("1004", "\xD0\xB0na@example.com")); // U+0430 for "a"

  warn_lookalike_emails(plan, k_users);

  const auto w = warnings(plan);
  ASSERT_EQ(w.size(), 1U);
  EXPECT_NE(
      w[0].find("employee 1004 (to be created) looks like 'ana@example.com' of employee 1003"),
      std::string::npos)
      << w[0];
}

TEST(LookalikeEmails, DifferentAddressesTheSameAddressInAnotherCaseAndNonCreatesAreQuiet) {
  state::Plan plan;
  plan.changes.push_back(create("1005", "new.hire@example.com"));
  plan.changes.push_back(create("1006", "IT-Admin@Example.com")); // the planner's business
  auto update = create("1007", "\xD1\x96t-admin@example.com");
  update.action = state::Action::update; // only creates make new addresses
  plan.changes.push_back(update);

  warn_lookalike_emails(plan, k_users);

  EXPECT_TRUE(warnings(plan).empty());
}

} // namespace
} // namespace bobsync::policies
