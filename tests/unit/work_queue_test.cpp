// The controller's keyed work queue: dedup, debounce, coalescing, the bound,
// full passes subsuming targets, retries. Time is passed in: nothing sleeps.

#include "controller/run/backoff.hpp"
#include "controller/run/work_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace bobsync::controller::run {
namespace {

using namespace std::chrono_literals;

const SteadyTime t0 = SteadyTime(std::chrono::hours(1));

std::vector<std::string> ids(const WorkBatch& batch) {
  std::vector<std::string> out;
  for (const auto& t : batch.targets) {
    out.push_back(t.employee_id);
  }
  return out;
}

TEST(WorkQueue, AKeyIsReadyOnlyAfterTheDebounce) {
  WorkQueue q({300ms, 0ms, 100});
  EXPECT_EQ(q.add("e1", t0), Enqueued::queued);
  EXPECT_FALSE(q.take(t0 + 299ms));
  ASSERT_EQ(q.next_ready(), t0 + 300ms);
  auto batch = q.take(t0 + 300ms);
  ASSERT_TRUE(batch);
  EXPECT_FALSE(batch->full);
  EXPECT_EQ(ids(*batch), std::vector<std::string>{"e1"});
  EXPECT_EQ(q.depth(), 0U);
  EXPECT_FALSE(q.take(t0 + 10s));
}

TEST(WorkQueue, ABurstForOneKeyBecomesOneTarget) {
  WorkQueue q({300ms, 0ms, 100});
  int taken = 0;
  SteadyTime now = t0;
  for (int i = 0; i < 100; ++i, now += 9ms) { // 100 events within a second
    EXPECT_EQ(q.add("e1", now), i == 0 ? Enqueued::queued : Enqueued::merged);
    if (q.take(now)) {
      ++taken;
    }
  }
  EXPECT_EQ(q.depth(), 1U);
  auto batch = q.take(now + 1s);
  ASSERT_TRUE(batch);
  EXPECT_EQ(ids(*batch), std::vector<std::string>{"e1"});
  EXPECT_EQ(taken, 0);
}

TEST(WorkQueue, AStreamCannotPostponeAKeyPastTheMaximumDelay) {
  WorkQueue q({300ms, 0ms, 100}); // max delay: max(4 x 300ms, 1 s) = 1.2 s
  SteadyTime now = t0;
  q.add("e1", now);
  while (now < t0 + 1199ms) {
    now += 100ms;
    q.add("e1", now);
    if (now < t0 + 1200ms) {
      EXPECT_FALSE(q.take(now)) << (now - t0).count();
    }
  }
  EXPECT_TRUE(q.take(t0 + 1200ms));
}

TEST(WorkQueue, KeysReadyTogetherAreTakenTogetherSorted) {
  WorkQueue q({300ms, 0ms, 100});
  q.add("e2", t0);
  q.add("e1", t0 + 10ms);
  q.add("e3", t0 + 5s); // still debouncing
  auto batch = q.take(t0 + 400ms);
  ASSERT_TRUE(batch);
  EXPECT_EQ(ids(*batch), (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(q.depth(), 1U);
}

TEST(WorkQueue, AFullPassSubsumesQueuedAndLaterKeys) {
  WorkQueue q({300ms, 0ms, 100});
  q.add("e1", t0);
  q.request_full(t0 + 50ms);
  EXPECT_EQ(q.add("e2", t0 + 60ms), Enqueued::subsumed);
  EXPECT_FALSE(q.take(t0 + 40ms));
  auto batch = q.take(t0 + 50ms);
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->full);
  EXPECT_TRUE(batch->targets.empty());
  EXPECT_EQ(q.depth(), 0U);
  EXPECT_FALSE(q.full_pending());
  // After the full pass started, new events queue again.
  EXPECT_EQ(q.add("e3", t0 + 70ms), Enqueued::queued);
}

TEST(WorkQueue, PastTheBoundAFloodCollapsesIntoOneFullPass) {
  WorkQueue q({300ms, 0ms, 3});
  q.add("a", t0);
  q.add("b", t0);
  q.add("c", t0);
  EXPECT_EQ(q.add("d", t0 + 1ms), Enqueued::overflow);
  EXPECT_EQ(q.depth(), 0U);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_EQ(q.add("x" + std::to_string(i), t0 + 2ms), Enqueued::subsumed);
  }
  EXPECT_EQ(q.depth(), 0U);
  EXPECT_EQ(q.overflows(), 1U);
  auto batch = q.take(t0 + 1s);
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->full);
}

TEST(WorkQueue, RetriedKeysWaitForTheirBackoffAndRememberAttempts) {
  WorkQueue q({300ms, 0ms, 100});
  q.retry("e1", 2, t0 + 5s);
  EXPECT_EQ(q.next_ready(), t0 + 5s);
  EXPECT_FALSE(q.take(t0 + 4s));
  // A webhook meanwhile does not cut the backoff short.
  EXPECT_EQ(q.add("e1", t0 + 4s), Enqueued::merged);
  EXPECT_FALSE(q.take(t0 + 4900ms));
  auto batch = q.take(t0 + 5s);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->targets.size(), 1U);
  EXPECT_EQ(batch->targets[0].attempts, 2);
}

TEST(WorkQueue, IsSafeToFeedFromManyThreads) {
  WorkQueue q({300ms, 0ms, 100000});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&q, t] {
      for (int i = 0; i < 2000; ++i) {
        q.add("e" + std::to_string(i % 500) + "-" + std::to_string(t % 2), t0);
      }
    });
  }
  std::size_t taken = 0;
  for (int i = 0; i < 100; ++i) {
    if (auto b = q.take(t0 + 1s)) {
      taken += b->targets.size();
    }
  }
  for (auto& th : threads) {
    th.join();
  }
  if (auto b = q.take(t0 + 1s)) {
    taken += b->targets.size();
  }
  EXPECT_GE(taken, 1000U); // 1000 distinct keys, each taken at least once
  EXPECT_EQ(q.depth(), 0U);
}

TEST(Backoff, GrowsExponentiallyToTheCapWithFullJitter) {
  Backoff b({1000ms, 8000ms, 100ms}, 42);
  EXPECT_EQ(b.ceiling(1), 1000ms);
  EXPECT_EQ(b.ceiling(2), 2000ms);
  EXPECT_EQ(b.ceiling(4), 8000ms);
  EXPECT_EQ(b.ceiling(40), 8000ms);
  std::chrono::milliseconds low = 1h;
  std::chrono::milliseconds high = 0ms;
  for (int i = 0; i < 1000; ++i) {
    const auto d = b.delay(30);
    low = std::min(low, d);
    high = std::max(high, d);
    ASSERT_GE(d, 100ms);
    ASSERT_LE(d, 8000ms);
  }
  EXPECT_LT(low, 1000ms); // jitter spreads over the whole range
  EXPECT_GT(high, 7000ms);
}

} // namespace
} // namespace bobsync::controller::run
