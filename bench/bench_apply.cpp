// Apply throughput and the cost of a no-op reconcile, against the fakes over
// loopback HTTP with a SQLite state database.
//   bench_apply creates [N=10000] [LATENCY_MS=50] [CONCURRENCY=4]
//     N creates with FakeJumpCloud adding LATENCY_MS to each request; reports
//     wall time against the limit N x latency / concurrency.
//   bench_apply noop [N=100000]
//     converges N users, then times one more reconcile: zero writes expected.
//   bench_apply script [N=1000] [LATENCY_MS=20] [CONCURRENCY=4]
//     the same N creates by bench/plain_sync.py (a plain sequential script:
//     lookup, lookup, create for each user) and by bobsync, each against
//     fresh fakes with LATENCY_MS per JumpCloud request; reports the ratio.
// Not a timed test: the figures go in the closing note.

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"
#include "controller/ports/clock.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "policies/policy_parser.hpp"
#include "sandbox/sandbox.hpp"
#include "state/sqlite/sqlite_store.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/resource.h>

#include "bench/bench_support.hpp"
#include "bench/synthetic_bob.hpp"

namespace {

using namespace bobsync;
using Clock = std::chrono::steady_clock;

struct Rig {
  sandbox::Sandbox sandbox{sandbox::SandboxConfig{}};
  controller::http::CurlTransport transport;
  controller::SystemClock clock;
  std::unique_ptr<controller::BobHrSource> bob;
  std::unique_ptr<controller::JumpCloudDirectory> jumpcloud;
  std::unique_ptr<state::StateStore> store;
  policies::Policy policy;
  std::string db;
  int runs = 0;

  explicit Rig(int concurrency) {
    policy = bench::example_policy();
    policy.scope = {};
    policy.write_concurrency = concurrency;
    controller::BobSettings b;
    b.base_url = sandbox.bob().base_url();
    b.service_user_id = "sandbox-user";
    b.service_user_token = "sandbox-token";
    bob = std::make_unique<controller::BobHrSource>(transport, clock, b);
    controller::JumpCloudSettings j;
    j.base_url = sandbox.jumpcloud().base_url();
    j.api_key = "sandbox-key";
    j.write_concurrency = concurrency;
    jumpcloud = std::make_unique<controller::JumpCloudDirectory>(transport, clock, j);
    db = (std::filesystem::temp_directory_path() / "bobsync-bench-apply.db").string();
    for (const auto* suffix : {"", "-wal", "-shm", ".lock"}) {
      std::filesystem::remove(db + suffix);
    }
    store = state::SqliteStore::open(db, state::OpenMode::writer);
  }

  controller::ReconcileOutcome reconcile(bool force_refresh,
                                         controller::Mode mode = controller::Mode::apply) {
    controller::ReconcileRequest request;
    request.pass.policy = std::make_shared<const policies::Policy>(policy);
    request.pass.now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27};
    request.mode = mode;
    request.observe = force_refresh ? controller::Observe::fresh : controller::Observe::cached;
    request.apply.concurrency = policy.write_concurrency;
    request.apply.run_id = "bench-" + std::to_string(++runs);
    return controller::reconcile(*bob, *jumpcloud, *store, clock, request);
  }
};

// The SQLite commits the group commit made so far (0 when the store is not SQLite).
long long commits(const state::StateStore& store) {
  const auto* sqlite = dynamic_cast<const state::SqliteStore*>(&store);
  return sqlite != nullptr ? sqlite->group_commits() : 0;
}

int creates(int n, int latency_ms, int concurrency) {
  Rig rig(concurrency);
  bench::add_employees(rig.sandbox.bob(), n);
  rig.sandbox.jumpcloud().faults().set_latency(std::chrono::milliseconds(latency_ms));
  const auto t0 = Clock::now();
  const auto outcome = rig.reconcile(true);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double limit = n * latency_ms / 1000.0 / concurrency;
  std::printf("creates: N=%d latency=%d ms concurrency=%d\n", n, latency_ms, concurrency);
  std::printf("  applied=%d failed=%d users in JumpCloud=%zu\n",
              outcome.applied ? outcome.applied->succeeded : 0,
              outcome.applied ? outcome.applied->failed : 0,
              rig.sandbox.jumpcloud().user_count());
  std::printf("  wall %.1f s; limit N x latency / concurrency = %.1f s; ratio %.2f\n",
              seconds,
              limit,
              seconds / limit);
  std::printf("  JumpCloud requests %d, SQLite commits %lld, peak RSS %ld MB\n",
              rig.sandbox.jumpcloud().stats().total(),
              commits(*rig.store),
              bench::peak_rss_mb());
  std::printf("figures: wall_s=%.2f floor_s=%.2f requests=%d commits=%lld rss_mb=%ld\n",
              seconds,
              limit,
              rig.sandbox.jumpcloud().stats().total(),
              commits(*rig.store),
              bench::peak_rss_mb());
  return outcome.ok() ? 0 : 1;
}

int versus_script(int n, int latency_ms, int concurrency) {
  const auto latency = std::chrono::milliseconds(latency_ms);
  double script_seconds = 0;
  std::size_t script_users = 0;
  int script_requests = 0;
  {
    sandbox::Sandbox fakes{sandbox::SandboxConfig{}};
    bench::add_employees(fakes.bob(), n);
    fakes.jumpcloud().faults().set_latency(latency);
    const std::string command =
        "BOB_SERVICE_USER_ID=sandbox-user BOB_SERVICE_USER_TOKEN=sandbox-token "
        "JUMPCLOUD_API_KEY=sandbox-key python3 " BOBSYNC_SOURCE_DIR "/bench/plain_sync.py "
        + fakes.bob().base_url() + " " + fakes.jumpcloud().base_url() + " >/dev/null";
    const auto t0 = Clock::now();
    const int status = std::system(command.c_str());
    script_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (status != 0) {
      std::fprintf(stderr, "bench/plain_sync.py failed (status %d)\n", status);
      return 1;
    }
    script_users = fakes.jumpcloud().user_count();
    script_requests = fakes.jumpcloud().stats().total();
  }
  Rig rig(concurrency);
  bench::add_employees(rig.sandbox.bob(), n);
  rig.sandbox.jumpcloud().faults().set_latency(latency);
  const auto t0 = Clock::now();
  const auto outcome = rig.reconcile(true);
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%d creates, %d ms per JumpCloud request\n", n, latency_ms);
  std::printf("  plain script (sequential): %.1f s, %zu users, %d JumpCloud requests\n",
              script_seconds,
              script_users,
              script_requests);
  std::printf("  bobsync (concurrency %d):  %.1f s, %zu users, %d JumpCloud requests, %lld SQLite "
              "commits\n",
              concurrency,
              seconds,
              rig.sandbox.jumpcloud().user_count(),
              rig.sandbox.jumpcloud().stats().total(),
              commits(*rig.store));
  std::printf("  bobsync is %.1fx faster; floor N x latency / concurrency = %.1f s (ratio %.2f)\n",
              script_seconds / seconds,
              n * latency_ms / 1000.0 / concurrency,
              seconds / (n * latency_ms / 1000.0 / concurrency));
  return outcome.ok() && script_users == rig.sandbox.jumpcloud().user_count() ? 0 : 1;
}

int noop(int n) {
  Rig rig(8);
  bench::add_employees(rig.sandbox.bob(), n);
  // Converge by seeding JumpCloud with exactly what an apply would create
  // (faster than N API creates), then let one apply settle links and cache.
  const auto planned = rig.reconcile(true, controller::Mode::plan);
  rig.sandbox.jumpcloud().reserve(static_cast<std::size_t>(n));
  for (const auto& c : planned.pass.plan.changes) {
    if (c.action != state::Action::create) {
      continue;
    }
    state::FlatMap<std::string> fields;
    for (const auto& f : c.fields) {
      fields.set(f.name, f.new_value);
    }
    auto body = controller::create_body(fields, *c.target_state);
    if (!body) {
      std::fprintf(stderr, "create body: %s\n", body.error().c_str());
      return 1;
    }
    rig.sandbox.jumpcloud().add_user(*body);
  }
  const auto settle_start = Clock::now();
  auto first = rig.reconcile(true);
  const double first_seconds = std::chrono::duration<double>(Clock::now() - settle_start).count();
  std::printf("first pass on an empty database (list, cache, rebuild links): %.2f s, writes %d\n",
              first_seconds,
              rig.sandbox.jumpcloud().write_count());
  if (!first.ok()) {
    std::fprintf(stderr, "converging failed\n");
    return 1;
  }
  const int writes = rig.sandbox.jumpcloud().write_count();
  std::string figures = "figures: first_s=" + std::to_string(first_seconds);
  for (const bool refresh : {false, true}) {
    rig.sandbox.jumpcloud().stats().reset();
    const int searches = rig.sandbox.bob().search_count();
    const auto t0 = Clock::now();
    const auto outcome = rig.reconcile(refresh);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("no-op reconcile of %d converged users (%s): %.2f s, JumpCloud requests %d, Bob "
                "searches %d, writes %d, changes planned %zu\n",
                n,
                refresh ? "full JumpCloud refresh" : "cached JumpCloud state",
                seconds,
                rig.sandbox.jumpcloud().stats().total(),
                rig.sandbox.bob().search_count() - searches,
                rig.sandbox.jumpcloud().write_count() - writes,
                outcome.pass.plan.changes.size());
    figures += std::string(refresh ? " refresh" : " cached") + "_s=" + std::to_string(seconds)
               + (refresh ? " refresh" : " cached") + "_requests="
               + std::to_string(rig.sandbox.jumpcloud().stats().total()
                                + rig.sandbox.bob().search_count() - searches);
  }
  // What a pass cannot do without: reading Bob once (the same search, the
  // same fake), to compare a no-op pass with.
  const auto b0 = Clock::now();
  const auto employees = rig.bob->list_employees(rig.policy.bob_fields());
  const double bob_seconds = std::chrono::duration<double>(Clock::now() - b0).count();
  if (!employees) {
    std::fprintf(stderr, "reading Bob failed: %s\n", employees.error().message.c_str());
    return 1;
  }
  std::printf(
      "reading Bob alone (one search, %zu employees): %.2f s\n", employees->size(), bob_seconds);
  std::printf("peak RSS %ld MB\n", bench::peak_rss_mb());
  std::printf("%s bob_s=%.2f rss_mb=%ld\n", figures.c_str(), bob_seconds, bench::peak_rss_mb());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  controller::tune_allocator_for_passes(); // what the bobsync binary does at its start
  const std::string mode = argc > 1 ? argv[1] : "creates";
  try {
    const auto arg = [&](int i, int fallback) { return argc > i ? std::stoi(argv[i]) : fallback; };
    if (mode == "creates") {
      return creates(arg(2, 10000), arg(3, 50), arg(4, 4));
    }
    if (mode == "script") {
      return versus_script(arg(2, 1000), arg(3, 20), arg(4, 4));
    }
    if (mode == "noop") {
      return noop(argc > 2 ? std::stoi(argv[2]) : 100000);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_apply: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: bench_apply creates [N] [LATENCY_MS] [CONCURRENCY] | noop [N] | script [N] "
               "[LATENCY_MS] [CONCURRENCY]\n");
  return 2;
}
