// Property: a plan rendered to JSON (`plan --out`) and read back
// (`apply --plan`) equals the original. Pseudo-random plans, fixed seeds.

#include "state/plan_render.hpp"
#include "tests/support/random_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

namespace bobsync::state {
namespace {

Plan random_plan(testing::RandomText& r) {
  Plan plan;
  const auto changes = r.below(12);
  for (std::uint32_t i = 0; i < changes; ++i) {
    Change c;
    c.action = k_all_actions.at(r.below(k_all_actions.size()));
    c.employee_id = r.chance(90) ? std::to_string(1000 + r.below(100000)) : r.text(8);
    c.user_id = r.chance(30) ? "" : r.text(24);
    c.email = r.text(20);
    c.username = r.text(12);
    c.reason = r.text(40);
    const auto fields = r.below(6);
    for (std::uint32_t k = 0; k < fields; ++k) {
      FieldChange f;
      f.name = r.chance(80) ? r.identifier(12) : r.text(10);
      if (r.chance(70)) {
        f.old_value = r.text(15);
      }
      f.new_value = r.text(15);
      c.fields.push_back(std::move(f));
    }
    // One entry per name, sorted by name (a JSON object's keys).
    std::sort(c.fields.begin(), c.fields.end(), [](const auto& a, const auto& b) {
      return a.name < b.name;
    });
    c.fields.erase(std::unique(c.fields.begin(),
                               c.fields.end(),
                               [](const auto& a, const auto& b) { return a.name == b.name; }),
                   c.fields.end());
    if (r.chance(50)) {
      constexpr UserState k_states[] = {
          UserState::staged, UserState::activated, UserState::suspended};
      c.target_state = k_states[r.below(3)];
    }
    c.date = r.chance(50)
                 ? ""
                 : "2027-0" + std::to_string(1 + r.below(9)) + "-1" + std::to_string(r.below(10));
    c.matched_by = r.text(10);
    c.leaver = r.chance(50);
    plan.changes.push_back(std::move(c));
  }
  plan.summary.unchanged = static_cast<int>(r.below(1000));
  plan.summary.managed = static_cast<int>(r.below(1000));
  plan.blocked = r.chance(30);
  const auto reasons = r.below(3);
  for (std::uint32_t i = 0; i < reasons; ++i) {
    plan.block_reasons.push_back(
        {r.chance(50) ? BlockKind::bad_read : BlockKind::safety_limit, r.text(30)});
  }
  const auto warnings = r.below(3);
  for (std::uint32_t i = 0; i < warnings; ++i) {
    plan.diagnostics.push_back({Severity::warning, r.text(30), {}});
  }
  plan.policy_hash = r.text(16);
  finalize(plan); // as the planner leaves it: sorted, counted
  return plan;
}

TEST(PlanRoundTrip, RenderedJsonReadsBackAsTheSamePlan) {
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    const Plan plan = random_plan(r);
    for (const int indent : {-1, 2}) {
      std::string error;
      const auto again = parse_plan_json(render_json(plan, indent), error);
      ASSERT_TRUE(again.has_value()) << error;
      EXPECT_EQ(*again, plan);
    }
  }
}

TEST(PlanRoundTrip, OneChangeReadsBackAsTheSameChange) {
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    for (const auto& change : random_plan(r).changes) {
      std::string error;
      const auto again = change_from_json(change_to_json(change), error);
      ASSERT_TRUE(again.has_value()) << error;
      EXPECT_EQ(*again, change);
    }
  }
}

// finalize puts the changes in (action, bobId, jumpcloudId) order and loses,
// duplicates or rewrites none of them; equal keys keep the order they were
// made in. Plans of every size up to a few thousand, with many ties.
TEST(PlanFinalize, SortsEveryChangeOnceAndKeepsTiesInOrder) {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    testing::RandomText r(seed);
    Plan plan;
    const auto n = r.below(seed * 100);
    for (std::uint32_t i = 0; i < n; ++i) {
      Change c;
      c.action = k_all_actions.at(r.below(k_all_actions.size()));
      c.employee_id = std::to_string(r.below(50));
      c.user_id = r.chance(50) ? "" : std::to_string(r.below(3));
      c.reason = std::to_string(i); // the order it was made in
      plan.changes.push_back(std::move(c));
    }
    auto expected = plan.changes;
    std::stable_sort(expected.begin(), expected.end(), [](const Change& a, const Change& b) {
      return std::tie(a.action, a.employee_id, a.user_id)
             < std::tie(b.action, b.employee_id, b.user_id);
    });
    finalize(plan);
    ASSERT_EQ(plan.changes, expected);
    int counted = 0;
    for (const auto action : k_all_actions) {
      counted += plan.summary.count(action);
    }
    EXPECT_EQ(counted, static_cast<int>(n));
  }
}

} // namespace
} // namespace bobsync::state
