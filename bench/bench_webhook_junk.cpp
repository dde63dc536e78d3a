// The cost of junk: how many badly signed webhooks per second the listener
// rejects (401) on loopback, and how long valid webhooks take to be accepted
// (202) while the flood goes on. The Listener alone, with an enqueue that
// only counts: the end-to-end figure (webhook -> user converged) needs the
// run loop and lives with it.
//   build/bench/bench_webhook_junk [REQUESTS] [SECONDS] [CLIENT_THREADS]
// Bounded by both the request count (default 20000) and the time (default
// 10 s). Not a timed test: the figures go in the README.

#include "controller/observability/metrics.hpp"
#include "controller/server/listener.hpp"
#include "controller/server/webhook.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace bobsync::controller;
using SteadyClock = std::chrono::steady_clock;
using Millis = std::chrono::duration<double, std::milli>;

constexpr std::string_view k_secret = "bench-webhook-secret";

std::string envelope(const std::string& employee_id) {
  return R"({"companyId":636192,"type":"employee.updated","triggeredBy":"3332883804594373380",)"
         R"("triggeredAt":"2026-12-01T09:00:00.000000","version":"v2","data":{"employeeId":")"
         + employee_id + R"(","fieldUpdates":["work.title","work.department"]}})";
}

struct Flood {
  std::atomic<long> sent{0};
  std::atomic<long> rejected{0};
  std::atomic<long> other{0};
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  return values[index];
}

// One flood of `total` requests from `threads` keep-alive clients, each
// request made by `make` (returns the body and the signature header).
template<typename Make>
double flood(int port, long total, double seconds, int threads, Flood& counts, Make make) {
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(std::chrono::seconds(5));
      std::mt19937 rng(static_cast<unsigned>(t) + 1);
      while (SteadyClock::now() < deadline && counts.sent.fetch_add(1) < total) {
        const auto [body, signature] = make(rng);
        httplib::Headers headers;
        if (!signature.empty()) {
          headers.emplace("Bob-Signature", signature);
        }
        const auto result = client.Post("/webhooks/bob", headers, body, "application/json");
        if (result && (result->status == 401 || result->status == 413)) {
          ++counts.rejected;
        } else {
          ++counts.other;
        }
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

} // namespace

int main(int argc, char** argv) {
  const long total = argc > 1 ? std::atol(argv[1]) : 20000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 10.0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 4;

  observability::Metrics metrics("bench");
  std::atomic<long> enqueued{0};
  server::ListenerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.webhook_secret = std::string(k_secret);
  server::ListenerCallbacks callbacks;
  callbacks.enqueue = [&enqueued](const std::string&, std::string_view) { ++enqueued; };
  server::Listener listener(options, callbacks, metrics);
  listener.start();
  const int port = listener.bound_port();
  std::printf("listener: %zu threads, %d client threads, at most %ld requests or %.0f s per run\n",
              options.threads,
              threads,
              total,
              seconds);

  const auto junk_signature = [](std::mt19937& rng) {
    static constexpr char k_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string s(86, 'A');
    for (auto& c : s) {
      c = k_alphabet[rng() % 64];
    }
    return s + "==";
  };

  // 1. Well-formed bodies with a wrong (random) signature: each costs an HMAC.
  {
    Flood counts;
    const double took = flood(port, total, seconds, threads, counts, [&](std::mt19937& rng) {
      return std::pair{envelope(std::to_string(rng() % 100000)), junk_signature(rng)};
    });
    const long done = counts.rejected + counts.other;
    std::printf("bad signature (%zu-byte body):  %8.0f rejected/s  (%ld requests, %ld not 401)\n",
                envelope("12345").size(),
                static_cast<double>(done) / took,
                done,
                counts.other.load());
  }
  // 2. No signature at all.
  {
    Flood counts;
    const double took = flood(port, total, seconds, threads, counts, [&](std::mt19937& rng) {
      return std::pair{envelope(std::to_string(rng() % 100000)), std::string()};
    });
    const long done = counts.rejected + counts.other;
    std::printf("no signature:                  %8.0f rejected/s  (%ld requests, %ld not 401)\n",
                static_cast<double>(done) / took,
                done,
                counts.other.load());
  }
  // 3. Bad signature over a 64 KiB body: the HMAC grows with the body.
  {
    Flood counts;
    std::string big = envelope("1");
    big.insert(big.size() - 1, ",\"pad\":\"" + std::string(64 * 1024, 'x') + "\"");
    const double took = flood(port, total / 4, seconds, threads, counts, [&](std::mt19937& rng) {
      return std::pair{big, junk_signature(rng)};
    });
    const long done = counts.rejected + counts.other;
    std::printf("bad signature, 64 KiB body:    %8.0f rejected/s  (%ld requests, %ld not 401)\n",
                static_cast<double>(done) / took,
                done,
                counts.other.load());
  }
  // 4. Valid webhooks during a bad-signature flood: time to the 202.
  {
    Flood counts;
    std::vector<double> latencies;
    std::atomic<bool> flooding{true};
    std::thread valid([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_tcp_nodelay(true);
      for (int i = 0; i < 200 && flooding; ++i) {
        const auto body = envelope(std::to_string(900000 + i));
        httplib::Headers headers{{"Bob-Signature", server::bob_signature(k_secret, body)}};
        const auto before = SteadyClock::now();
        const auto result = client.Post("/webhooks/bob", headers, body, "application/json");
        if (result && result->status == 202) {
          latencies.push_back(Millis(SteadyClock::now() - before).count());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    const double took = flood(port, total, seconds, threads, counts, [&](std::mt19937& rng) {
      return std::pair{envelope(std::to_string(rng() % 100000)), junk_signature(rng)};
    });
    flooding = false;
    valid.join();
    const long done = counts.rejected + counts.other;
    std::printf("during a flood of %8.0f rejected/s: %zu valid webhooks accepted, 202 after "
                "p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                static_cast<double>(done) / took,
                latencies.size(),
                percentile(latencies, 0.5),
                percentile(latencies, 0.99),
                latencies.empty() ? 0.0 : *std::max_element(latencies.begin(), latencies.end()));
  }
  listener.stop();
  std::printf("enqueued: %ld (only the valid webhooks)\n", enqueued.load());
  return 0;
}
