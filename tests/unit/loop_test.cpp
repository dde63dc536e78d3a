// The controller's loop driven by step() over a manual clock: which passes
// run when, retries, date boundaries, policy reloads. A fake runner records
// the passes; nothing sleeps.

#include "controller/run/loop.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace bobsync::controller::run {
namespace {

using namespace std::chrono_literals;

class TestClock final : public Clock {
public:
  std::chrono::steady_clock::time_point now() override {
    const std::lock_guard lock(m_mutex);
    return std::chrono::steady_clock::time_point(m_elapsed);
  }
  std::chrono::system_clock::time_point wall_now() override {
    const std::lock_guard lock(m_mutex);
    return m_wall + m_elapsed;
  }
  void sleep_for(std::chrono::milliseconds d) override { advance(d); }
  void advance(std::chrono::milliseconds d) {
    const std::lock_guard lock(m_mutex);
    m_elapsed += d;
  }

private:
  std::mutex m_mutex;
  std::chrono::milliseconds m_elapsed{3600000};
  // 2026-11-30T23:00:00Z
  std::chrono::system_clock::time_point m_wall{std::chrono::seconds(1796079600) - 1h};
};

// Real time, for the one test of run().
class RealClock final : public Clock {
public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() override {
    return std::chrono::system_clock::now();
  }
  void sleep_for(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

struct FakeRunner final : PassRunner {
  std::vector<PassSpec> passes;
  std::function<PassReport(const PassSpec&)> answer;
  PassReport run(const PassSpec& spec) override {
    passes.push_back(spec);
    return answer ? answer(spec) : PassReport{};
  }
};

std::string policy_text(const std::string& schedule) {
  std::ifstream in(std::string(BOBSYNC_TESTDATA_DIR) + "/policies/minimal.yaml");
  std::stringstream text;
  text << in.rdbuf();
  return text.str() + "schedule:\n" + schedule;
}

class LoopTest : public ::testing::Test {
protected:
  LoopTest() {
    m_files["p.yaml"] = policy_text("  interval: 1h\n  webhookDebounce: 300ms\n");
    PolicyLoader loader;
    loader.read = [this](const std::string& path) {
      const std::lock_guard lock(m_files_mutex);
      auto it = m_files.find(path);
      if (it == m_files.end()) {
        throw std::runtime_error("cannot read policy file " + path);
      }
      return it->second;
    };
    loader.hash = [](const std::string& text) {
      return std::to_string(std::hash<std::string>{}(text));
    };
    m_policy = std::make_unique<PolicySource>("p.yaml", loader);
    EXPECT_EQ(m_policy->check().result, PolicyCheck::Result::reloaded);
    LoopOptions options;
    options.seed = 7;
    options.max_queued_employees = 50;
    m_loop = std::make_unique<Loop>(m_clock, *m_policy, m_runner, nullptr, options);
  }

  void write_policy(const std::string& text) {
    const std::lock_guard lock(m_files_mutex);
    m_files["p.yaml"] = text;
  }

  // Moves the clock from wake-up to wake-up, stepping, for `duration`.
  void run_for(std::chrono::milliseconds duration) {
    const auto end = m_clock.now() + duration;
    for (int guard = 0; guard < 100000; ++guard) {
      while (m_loop->step()) {
      }
      const auto wake = m_loop->next_wake();
      if (wake > end) {
        m_clock.advance(std::chrono::duration_cast<std::chrono::milliseconds>(end - m_clock.now()));
        m_loop->step();
        return;
      }
      m_clock.advance(std::max(
          std::chrono::duration_cast<std::chrono::milliseconds>(wake - m_clock.now()), 1ms));
    }
    FAIL() << "the loop never went idle";
  }

  std::vector<PassSpec> passes_of(PassKind kind) const {
    std::vector<PassSpec> out;
    for (const auto& p : m_runner.passes) {
      if (p.kind == kind) {
        out.push_back(p);
      }
    }
    return out;
  }

  TestClock m_clock;
  FakeRunner m_runner;
  std::mutex m_files_mutex;
  std::map<std::string, std::string> m_files;
  std::unique_ptr<PolicySource> m_policy;
  std::unique_ptr<Loop> m_loop;
};

TEST_F(LoopTest, StartsWithAFullPassThenOneEveryInterval) {
  EXPECT_TRUE(m_loop->step());
  ASSERT_EQ(m_runner.passes.size(), 1U);
  EXPECT_EQ(m_runner.passes[0].kind, PassKind::full);
  EXPECT_EQ(m_runner.passes[0].reason, "startup");
  run_for(59min);
  EXPECT_EQ(m_runner.passes.size(), 1U);
  run_for(2min);
  ASSERT_EQ(m_runner.passes.size(), 2U);
  EXPECT_EQ(m_runner.passes[1].reason, "interval");
  run_for(3h);
  EXPECT_EQ(passes_of(PassKind::full).size(), 5U);
  EXPECT_TRUE(passes_of(PassKind::targeted).empty());
}

TEST_F(LoopTest, AHundredWebhooksForOneEmployeeWithinASecondCauseOneTargetedPass) {
  m_loop->step();
  for (int i = 0; i < 100; ++i) {
    m_loop->enqueue("e1");
    m_clock.advance(9ms);
    m_loop->step();
  }
  run_for(5s);
  const auto targeted = passes_of(PassKind::targeted);
  ASSERT_EQ(targeted.size(), 1U);
  EXPECT_EQ(targeted[0].employee_ids, std::vector<std::string>{"e1"});
  EXPECT_EQ(targeted[0].reason, "webhook");
}

TEST_F(LoopTest, AWebhookIsServedAfterTheDebounceNotTheInterval) {
  m_loop->step();
  m_loop->enqueue("e1");
  m_loop->enqueue("e2");
  EXPECT_EQ(m_loop->next_wake(), m_clock.now() + 300ms);
  run_for(299ms);
  EXPECT_TRUE(passes_of(PassKind::targeted).empty());
  run_for(1ms);
  const auto targeted = passes_of(PassKind::targeted);
  ASSERT_EQ(targeted.size(), 1U);
  EXPECT_EQ(targeted[0].employee_ids, (std::vector<std::string>{"e1", "e2"}));
}

TEST_F(LoopTest, AFullPassSubsumesQueuedWebhooks) {
  m_loop->step();
  run_for(1h - 100ms);
  m_loop->enqueue("e1");
  run_for(1s);
  EXPECT_EQ(passes_of(PassKind::full).size(), 2U);
  EXPECT_TRUE(passes_of(PassKind::targeted).empty());
}

TEST_F(LoopTest, AFloodOfDistinctEmployeesBecomesOneFullPass) {
  m_loop->step();
  for (int i = 0; i < 5000; ++i) {
    m_loop->enqueue("e" + std::to_string(i));
  }
  run_for(2s);
  EXPECT_EQ(passes_of(PassKind::full).size(), 2U);
  EXPECT_EQ(m_runner.passes.back().reason, "queue overflow");
  EXPECT_TRUE(passes_of(PassKind::targeted).empty());
  EXPECT_EQ(m_loop->status().queue_overflows, 1U);
}

TEST_F(LoopTest, ABurstOfManyEmployeesIsOneFullPassAFewAreATargetedOne) {
  m_loop->step();
  for (int i = 0; i < 8; ++i) {
    m_loop->enqueue("e" + std::to_string(i));
  }
  run_for(1s);
  ASSERT_EQ(passes_of(PassKind::targeted).size(), 1U);
  EXPECT_EQ(passes_of(PassKind::targeted)[0].employee_ids.size(), 8U);
  run_for(2s);
  for (int i = 0; i < 9; ++i) {
    m_loop->enqueue("e" + std::to_string(i));
  }
  run_for(1s);
  EXPECT_EQ(passes_of(PassKind::targeted).size(), 1U);
  ASSERT_EQ(passes_of(PassKind::full).size(), 2U);
  EXPECT_EQ(m_runner.passes.back().reason, "webhook burst");
  // Not two full passes within two seconds: the next burst is targeted.
  for (int i = 0; i < 9; ++i) {
    m_loop->enqueue("e" + std::to_string(i));
  }
  run_for(500ms);
  ASSERT_EQ(passes_of(PassKind::targeted).size(), 2U);
  EXPECT_EQ(passes_of(PassKind::targeted)[1].employee_ids.size(), 9U);
}

TEST_F(LoopTest, AFailingPassIsRetriedWithGrowingJitteredBackoffAndNeverStopsTheLoop) {
  m_runner.answer = [](const PassSpec&) {
    PassReport r;
    r.failed = true;
    r.error = "Bob unreachable";
    return r;
  };
  run_for(30min);
  const auto full = passes_of(PassKind::full);
  ASSERT_GE(full.size(), 6U);
  EXPECT_LT(full.size(), 60U); // backoff, not a spin
  EXPECT_EQ(full[1].reason, "retry");
  EXPECT_EQ(full[1].attempt, 1);
  EXPECT_EQ(full[5].attempt, 5);
  auto status = m_loop->status();
  EXPECT_TRUE(status.failing);
  EXPECT_EQ(status.last_error, "Bob unreachable");
  EXPECT_FALSE(status.last_success);

  m_runner.answer = nullptr; // Bob is back
  run_for(6min);             // the cap is 5 min
  status = m_loop->status();
  EXPECT_FALSE(status.failing);
  EXPECT_EQ(status.consecutive_failures, 0);
  EXPECT_TRUE(status.last_success);
}

TEST_F(LoopTest, ARunnerThatThrowsIsAFailedPass) {
  m_runner.answer = [](const PassSpec&) -> PassReport {
    throw std::runtime_error("disk I/O error");
  };
  run_for(1min);
  const auto status = m_loop->status();
  EXPECT_GE(status.failed_passes, 2U);
  EXPECT_EQ(status.last_error, "disk I/O error");
}

TEST_F(LoopTest, FailedEmployeesOfATargetedPassAreRetried) {
  m_loop->step();
  int failures = 2;
  m_runner.answer = [&failures](const PassSpec& spec) {
    PassReport r;
    if (spec.kind == PassKind::targeted && failures > 0) {
      --failures;
      r.apply_failed = 1;
      r.failed_employees = {"e2"};
    }
    return r;
  };
  m_loop->enqueue("e1");
  m_loop->enqueue("e2");
  run_for(1min);
  const auto targeted = passes_of(PassKind::targeted);
  ASSERT_EQ(targeted.size(), 3U);
  EXPECT_EQ(targeted[1].employee_ids, std::vector<std::string>{"e2"});
  EXPECT_EQ(targeted[1].reason, "retry");
  EXPECT_EQ(targeted[2].attempt, 2);
}

TEST_F(LoopTest, WakesAtTheNextDateBoundaryWithoutAWebhook) {
  const auto boundary = m_clock.wall_now() + 90s;
  m_runner.answer = [boundary](const PassSpec& spec) {
    PassReport r;
    if (spec.now < boundary) {
      r.next_transition = boundary;
    }
    return r;
  };
  m_loop->step();
  EXPECT_EQ(m_loop->status().next_boundary, boundary);
  run_for(89s);
  EXPECT_EQ(m_runner.passes.size(), 1U);
  run_for(2s);
  ASSERT_EQ(m_runner.passes.size(), 2U);
  EXPECT_EQ(m_runner.passes[1].reason, "date boundary");
  EXPECT_GE(m_runner.passes[1].now, boundary);
  EXPECT_LT(m_runner.passes[1].now, boundary + 1s);
}

TEST_F(LoopTest, AValidPolicyEditTakesEffectAtTheNextPass) {
  m_loop->step();
  const auto first = m_loop->status().policy;
  write_policy(policy_text("  interval: 2h\n  webhookDebounce: 1s\n"));
  run_for(10s);
  ASSERT_EQ(m_runner.passes.size(), 2U);
  EXPECT_EQ(m_runner.passes[1].reason, "policy reload");
  EXPECT_EQ(m_runner.passes[1].policy->generation, 2U);
  EXPECT_NE(m_runner.passes[1].policy->hash, first->hash);
  EXPECT_EQ(m_runner.passes[1].policy->policy->schedule.interval, 2h);
  // The first snapshot is untouched (a pass in flight keeps it).
  EXPECT_EQ(first->policy->schedule.interval, 1h);
  EXPECT_EQ(first->generation, 1U);
  // The new debounce applies.
  m_loop->enqueue("e1");
  run_for(900ms);
  EXPECT_TRUE(passes_of(PassKind::targeted).empty());
  run_for(200ms);
  EXPECT_EQ(passes_of(PassKind::targeted).size(), 1U);
}

TEST_F(LoopTest, ABrokenPolicyEditIsRejectedAndTheLastGoodOneKeepsRunning) {
  m_loop->step();
  const auto good = m_loop->status().policy;
  write_policy("version: 1\nschedule: {interval: soon}\n");
  run_for(10s);
  auto status = m_loop->status();
  EXPECT_EQ(status.policy, good);
  ASSERT_EQ(status.policy_rejected.size(), 1U);
  EXPECT_NE(status.policy_rejected[0].find("schedule.interval"), std::string::npos);
  EXPECT_EQ(status.policy_rejections, 1U); // checked again, counted once
  run_for(1h);
  ASSERT_GE(m_runner.passes.size(), 2U);
  EXPECT_EQ(m_runner.passes.back().policy, good);
  EXPECT_FALSE(status.failing);

  // Fixed: taken, and the rejection clears.
  write_policy(policy_text("  interval: 30m\n"));
  m_loop->request_reload(); // SIGHUP: at once
  m_loop->step();
  status = m_loop->status();
  EXPECT_TRUE(status.policy_rejected.empty());
  EXPECT_EQ(status.policy->generation, 2U);
}

TEST_F(LoopTest, ADeletedPolicyFileKeepsTheLastGoodPolicy) {
  m_loop->step();
  {
    const std::lock_guard lock(m_files_mutex);
    m_files.clear();
  }
  run_for(10s);
  const auto status = m_loop->status();
  EXPECT_EQ(status.policy->generation, 1U);
  ASSERT_EQ(status.policy_rejected.size(), 1U);
  EXPECT_NE(status.policy_rejected[0].find("cannot read"), std::string::npos);
}

TEST(LoopRun, WaitsForEventsAndStopsPromptly) {
  RealClock clock;
  PolicyLoader loader;
  loader.read = [](const std::string&) {
    return policy_text("  interval: 1h\n  webhookDebounce: 50ms\n");
  };
  loader.hash = [](const std::string& text) { return std::to_string(text.size()); };
  PolicySource policy("p.yaml", loader);
  ASSERT_EQ(policy.check().result, PolicyCheck::Result::reloaded);
  FakeRunner runner;
  Loop loop(clock, policy, runner);
  std::thread thread([&loop] { loop.run(); });
  EXPECT_TRUE(loop.wait_for_passes(1, 10s));
  loop.enqueue("e1");
  EXPECT_TRUE(loop.wait_for_passes(2, 10s));
  const auto stop_at = std::chrono::steady_clock::now();
  loop.stop();
  thread.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 2s);
  ASSERT_EQ(runner.passes.size(), 2U);
  EXPECT_EQ(runner.passes[1].employee_ids, std::vector<std::string>{"e1"});
}

} // namespace
} // namespace bobsync::controller::run
