// Builds desired state and plans 100,000 employees against 100,000 observed
// JumpCloud users (synthetic, seeded). Reports wall time and peak RSS.
//   build/bench/bench_plan [N] [RUNS]
// Not a timed test: the figures go in the closing note.

#include "policies/desired_state_builder.hpp"
#include "policies/policy_parser.hpp"
#include "state/planner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <sys/resource.h>

#include "bench/bench_support.hpp"

namespace {

using namespace bobsync;

const char* const k_titles[] = {"Engineer", "Designer", "Manager", "Analyst", "Recruiter"};
const char* const k_departments[] = {"R&D", "Sales", "People", "Finance", "Support"};

} // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::stoi(argv[1]) : 100000;
  const auto policy = bench::example_policy();

  std::mt19937 rng(20261127);
  std::vector<state::Employee> employees;
  std::vector<state::DirectoryUser> users;
  employees.reserve(n);
  users.reserve(n);
  for (int i = 0; i < n; ++i) {
    state::Employee e;
    e.id = std::to_string(3332883804594373380LL + i);
    const auto first = bench::k_first_names[rng() % 10];
    const auto last = bench::k_last_names[rng() % 10];
    const auto eid = std::to_string(10000 + i);
    const auto email = "person" + eid + "@example.com";
    e.fields.set("root.email", email);
    e.fields.set("root.firstName", first);
    e.fields.set("root.surname", last);
    e.fields.set("root.secondName", "");
    e.fields.set("root.displayName", std::string(first) + " " + last);
    e.fields.set("work.workPhone", "+44 20 7946 " + std::to_string(1000 + i % 9000));
    e.fields.set("work.workMobile", "");
    e.fields.set("work.title", k_titles[rng() % 5]);
    e.fields.set("work.department", k_departments[rng() % 5]);
    e.fields.set("work.employeeIdInCompany", eid);
    e.fields.set("work.site", bench::k_sites[rng() % 4]);
    e.fields.set("payroll.employment.type", "Full-time");
    e.fields.set("work.startDate", i % 50 == 0 ? "2027-02-01" : "2020-01-06");
    e.fields.set("internal.status", "Active");
    e.fields.set("internal.terminationDate", i % 97 == 0 ? "2026-10-31" : "");
    employees.push_back(std::move(e));
  }
  // 90% of the employees already have a JumpCloud user in line with Bob
  // (built from a desired state computed beforehand, outside the timing);
  // 5% of those have drifted (a changed job title), and 10,000 more users
  // are unmanaged admins and service accounts.
  {
    const auto before = policies::build_desired_state(
        employees, policy, std::chrono::sys_days{std::chrono::year{2026} / 11 / 27});
    for (std::size_t i = 0; i < before.users.size(); ++i) {
      const auto& d = before.users[i];
      if (i % 10 == 0 || d.phase == state::Phase::pending) {
        continue;
      }
      state::DirectoryUser u;
      u.id = "5f00000000000000" + std::to_string(10000000 + i);
      u.state = d.phase == state::Phase::leaver ? state::UserState::suspended
                                                : state::UserState::activated;
      for (const auto& [name, field] : d.fields) {
        if (!field.value.empty()) {
          u.fields.set(name, field.value);
        }
      }
      u.fields.set("attributes[name=bobEmployeeId]", d.employee_id);
      if (i % 20 == 1) {
        u.fields.set("jobTitle", "Old title");
      }
      users.push_back(std::move(u));
    }
  }
  for (int i = 0; i < n / 10; ++i) { // unmanaged users
    state::DirectoryUser u;
    u.id = "admin" + std::to_string(i);
    u.fields.set("email", "admin" + std::to_string(i) + "@example.com");
    u.fields.set("username", "admin" + std::to_string(i));
    users.push_back(std::move(u));
  }
  const long rss_inputs = bench::peak_rss_mb(); // includes the throw-away desired state above

  // Several runs: this machine is shared, so one figure says little. The
  // minimum is the cost of the work; the median, what to expect.
  const int runs = argc > 2 ? std::stoi(argv[2]) : 5;
  using ms = std::chrono::duration<double, std::milli>;
  std::vector<double> desired_ms;
  std::vector<double> plan_ms;
  std::vector<double> total_ms;
  state::Plan plan;
  for (int run = 0; run < runs; ++run) {
    plan = state::Plan{}; // runs do not overlap: the last one's plan is freed first
    const auto t0 = std::chrono::steady_clock::now();
    const auto desired = policies::build_desired_state(
        employees, policy, std::chrono::sys_days{std::chrono::year{2026} / 11 / 27});
    const auto t1 = std::chrono::steady_clock::now();
    plan = state::make_plan(desired, users, {}, policy.plan_options());
    const auto t2 = std::chrono::steady_clock::now();
    desired_ms.push_back(ms(t1 - t0).count());
    plan_ms.push_back(ms(t2 - t1).count());
    total_ms.push_back(ms(t2 - t0).count());
  }
  auto report = [](const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::printf("%s min %4.0f ms  median %4.0f ms\n", what, v.front(), v[v.size() / 2]);
  };
  std::printf("employees=%d observed=%zu runs=%d\n", n, users.size(), runs);
  report("desired state:", desired_ms);
  report("plan:         ", plan_ms);
  report("total:        ", total_ms);
  std::printf("changes: create=%d update=%d activate=%d suspend=%d defer=%d conflict=%d "
              "unchanged=%d\n",
              plan.summary.count(state::Action::create),
              plan.summary.count(state::Action::update),
              plan.summary.count(state::Action::activate),
              plan.summary.count(state::Action::suspend),
              plan.summary.count(state::Action::defer),
              plan.summary.count(state::Action::conflict),
              plan.summary.unchanged);
  std::printf("peak RSS: %ld MB (inputs alone: %ld MB)\n", bench::peak_rss_mb(), rss_inputs);
  std::sort(total_ms.begin(), total_ms.end());
  std::printf("figures: plan_ms=%.0f rss_mb=%ld inputs_mb=%ld\n",
              total_ms[total_ms.size() / 2],
              bench::peak_rss_mb(),
              rss_inputs);
  return 0;
}
