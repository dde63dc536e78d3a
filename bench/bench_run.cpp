// The controller (`bobsync run`) under load, against the fakes on loopback.
//   bench_run latency [WEBHOOKS=200] [POPULATION=1000]
//     webhook -> user converged in the fake JumpCloud, one webhook for each of
//     WEBHOOKS different employees, 25 ms apart, default debounce (300 ms):
//     p50 / p99 / max.
//   bench_run flood [SECONDS=5] [VALID=20]
//     bad-signature webhooks from 4 connections for SECONDS (rejected per
//     second) while VALID signed webhooks are sent: their latency.
//   bench_run memory [N=10000] [PASSES=1000]
//     PASSES full passes of the loop over N employees (a manual clock moves
//     the interval on; nothing sleeps): RSS and open file descriptors after
//     the first 10 passes and after all of them. One reading of RSS after a
//     pass moves by several MB with what the allocator keeps, so the
//     comparison is also made between medians: passes 10-19 against the
//     last 10 passes.
// Not timed tests: the figures go in README.

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_mapping.hpp"
#include "controller/cli/run_command.hpp"
#include "controller/ports/clock.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "controller/run/reconcile_runner.hpp"
#include "controller/server/webhook.hpp"
#include "sandbox/sandbox.hpp"
#include "state/sqlite/sqlite_store.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "bench/bench_support.hpp"
#include "bench/synthetic_bob.hpp"

namespace {

using namespace bobsync;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using nlohmann::json;

const std::string k_secret = "bench-webhook-secret";

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::atol(line.c_str() + 6);
    }
  }
  return -1;
}

int open_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) {
      ++n;
    }
    closedir(d);
  }
  return n - 3; // ".", "..", and the directory itself
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string policy_file(const std::string& dir) {
  std::ifstream in(std::string(BOBSYNC_SOURCE_DIR) + "/examples/desired-state.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string policy = text.str();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"interval: 5m", "interval: 1h"},
           {"maxSuspensions: 10", "maxSuspensions: null"},
           {"maxSuspensionsPercent: 20", "maxSuspensionsPercent: null"}}) {
    if (const auto at = policy.find(from); at != std::string::npos) {
      policy.replace(at, from.size(), to);
    }
  }
  const auto path = dir + "/policy.yaml";
  std::ofstream(path) << policy;
  return path;
}

// A controller over a converged sandbox of `population` employees.
struct Rig {
  std::string dir;
  std::unique_ptr<sandbox::Sandbox> sandbox;
  std::unique_ptr<cli::Controller> controller;
  std::thread thread;
  int port = 0;
  std::map<std::string, std::string> user_of; // employee id -> JumpCloud id

  explicit Rig(int population) {
    char temp[] = "/tmp/bobsync-bench-run-XXXXXX";
    dir = mkdtemp(temp);
    sandbox::SandboxConfig config;
    config.webhook_secret = k_secret;
    sandbox = std::make_unique<sandbox::Sandbox>(config);
    bench::add_employees(sandbox->bob(), population);
    setenv("BOB_API_URL", sandbox->bob().base_url().c_str(), 1);
    setenv("JUMPCLOUD_API_URL", sandbox->jumpcloud().base_url().c_str(), 1);
    setenv("BOB_SERVICE_USER_ID", "sandbox-user", 1);
    setenv("BOB_SERVICE_USER_TOKEN", "sandbox-token", 1);
    setenv("JUMPCLOUD_API_KEY", "sandbox-key", 1);
    cli::RunSettings s;
    s.policy_path = policy_file(dir);
    s.db_path = dir + "/state.db";
    s.listen = "127.0.0.1:0";
    s.webhook_secret = k_secret;
    s.start_at = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 10h;
    static std::ofstream logs("/dev/null");
    s.log_out = &logs;
    controller = std::make_unique<cli::Controller>(s);
    thread = std::thread([this] { controller->run(); });
    controller->wait_until_serving(10s);
    port = controller->port();
    const auto t0 = Steady::now();
    controller->loop().wait_for_passes(1, 600s); // greenfield: creates everyone
    std::printf("first pass (creates %d users): %.1f s\n",
                population,
                std::chrono::duration<double>(Steady::now() - t0).count());
    for (const auto& text : sandbox->jumpcloud().users_json()) {
      const auto u = json::parse(text);
      for (const auto& a : u.value("attributes", json::array())) {
        if (a.value("name", "") == "bobEmployeeId") {
          user_of[a.value("value", "")] = u.value("_id", "");
        }
      }
    }
    sandbox->bob().set_webhook("http://127.0.0.1:" + std::to_string(port) + "/webhooks/bob",
                               k_secret);
  }

  ~Rig() {
    controller->stop();
    thread.join();
    controller.reset();
    sandbox.reset();
    std::filesystem::remove_all(dir);
  }

  bool has_first_name(const std::string& employee, const std::string& name) {
    const auto text = sandbox->jumpcloud().user_json(user_of[employee]);
    return text && json::parse(*text).value("firstname", "") == name;
  }
};

// Sends one signed webhook per employee in `employees` (through the fake Bob,
// which changes the first name and signs) every `spacing`, and measures each
// until its user carries the new name.
std::vector<double> converge_latencies(Rig& rig,
                                       const std::vector<std::string>& employees,
                                       std::chrono::milliseconds spacing,
                                       const std::string& tag) {
  std::vector<Steady::time_point> sent(employees.size());
  std::vector<double> latency(employees.size(), -1);
  std::atomic<std::size_t> sent_count{0};
  std::atomic<bool> done{false};
  std::thread poller([&] {
    const auto deadline = Steady::now() + 120s;
    while (Steady::now() < deadline) {
      bool all = true;
      const std::size_t n = sent_count.load();
      for (std::size_t i = 0; i < n; ++i) {
        if (latency[i] >= 0) {
          continue;
        }
        if (rig.has_first_name(employees[i], tag + std::to_string(i))) {
          latency[i] = std::chrono::duration<double>(Steady::now() - sent[i]).count();
        } else {
          all = false;
        }
      }
      if (all && n == employees.size()) {
        break;
      }
      std::this_thread::sleep_for(2ms);
    }
    done = true;
  });
  for (std::size_t i = 0; i < employees.size(); ++i) {
    sent[i] = Steady::now();
    rig.sandbox->bob().change(
        employees[i], {{"root.firstName", sandbox::BobValue::string(tag + std::to_string(i))}});
    sent_count.store(i + 1);
    std::this_thread::sleep_until(sent[i] + spacing);
  }
  poller.join();
  std::vector<double> out;
  int missing = 0;
  for (double l : latency) {
    if (l < 0) {
      ++missing;
    } else {
      out.push_back(l);
    }
  }
  if (missing > 0) {
    std::printf("  NOT converged within 120 s: %d\n", missing);
  }
  return out;
}

int latency(int webhooks, int population) {
  Rig rig(population);
  std::vector<std::string> employees;
  for (int i = 0; i < webhooks; ++i) {
    employees.push_back(std::to_string(4000000000000000000LL + (i * 7919) % population));
  }
  std::sort(employees.begin(), employees.end());
  employees.erase(std::unique(employees.begin(), employees.end()), employees.end());
  const auto passes = rig.controller->loop().status().passes;
  const auto l = converge_latencies(rig, employees, 25ms, "Hook");
  const auto status = rig.controller->loop().status();
  std::printf("latency: %zu webhooks for different employees, 25 ms apart, population %d, "
              "debounce 300 ms\n",
              employees.size(),
              population);
  std::printf("  webhook -> converged in JumpCloud: p50 %.3f s, p99 %.3f s, max %.3f s\n",
              percentile(l, 0.5),
              percentile(l, 0.99),
              percentile(l, 1.0));
  std::printf("  targeted passes %llu (of %llu passes since)\n",
              static_cast<unsigned long long>(status.targeted_passes),
              static_cast<unsigned long long>(status.passes - passes));
  return 0;
}

int flood(int seconds, int valid) {
  Rig rig(1000);
  std::atomic<bool> stop{false};
  std::atomic<long> rejected{0};
  std::atomic<long> other{0};
  std::vector<std::thread> attackers;
  const std::string body =
      json{{"type", "employee.updated"}, {"data", {{"employeeId", "4000000000000000001"}}}}.dump();
  const auto wrong = controller::server::bob_signature("guessed-secret", body);
  const auto start = Steady::now();
  for (int t = 0; t < 4; ++t) {
    attackers.emplace_back([&] {
      httplib::Client client("127.0.0.1", rig.port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      httplib::Headers headers{{"Bob-Signature", wrong}};
      while (!stop.load()) {
        auto r = client.Post("/webhooks/bob", headers, body, "application/json");
        (r && r->status == 401 ? rejected : other)++;
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  std::vector<std::string> employees;
  for (int i = 0; i < valid; ++i) {
    employees.push_back(std::to_string(4000000000000000000LL + 10 + i * 13));
  }
  const auto l = converge_latencies(rig, employees, 200ms, "Flood");
  std::this_thread::sleep_until(start + std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : attackers) {
    t.join();
  }
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  std::printf("flood: 4 connections sending wrongly signed webhooks for %.1f s\n", elapsed);
  std::printf("  rejected (401) %ld = %.0f/s; other answers %ld\n",
              rejected.load(),
              static_cast<double>(rejected.load()) / elapsed,
              other.load());
  std::printf("  %zu valid webhooks meanwhile: converged %zu, p50 %.3f s, max %.3f s\n",
              employees.size(),
              l.size(),
              percentile(l, 0.5),
              percentile(l, 1.0));
  return l.size() == employees.size() ? 0 : 1;
}

// The loop itself (no listener): a manual clock makes every step a full pass.
// The fakes run in a child process, so that the figures are the controller's
// alone. Their clock runs 1,000 times faster than real time (Bob's 50
// searches a minute would otherwise throttle back-to-back passes).
struct FakesProcess {
  pid_t pid = -1;
  std::string bob_url;
  std::string jumpcloud_url;

  explicit FakesProcess(int n) {
    int fds[2];
    if (pipe(fds) != 0) {
      throw std::runtime_error("pipe failed");
    }
    pid = fork(); // no thread exists yet
    if (pid == 0) {
      close(fds[0]);
      prctl(PR_SET_PDEATHSIG, SIGKILL); // the fakes go when the benchmark is killed
      const auto start = std::chrono::steady_clock::now();
      const auto base = std::chrono::system_clock::time_point(
                            std::chrono::sys_days{std::chrono::year{2026} / 11 / 27})
                        + 10h;
      sandbox::SandboxConfig config;
      config.clock = [start, base] {
        return base + (std::chrono::steady_clock::now() - start) * 1000;
      };
      sandbox::Sandbox fakes(config);
      bench::add_employees(fakes.bob(), n);
      const auto line = fakes.bob().base_url() + " " + fakes.jumpcloud().base_url() + "\n";
      if (write(fds[1], line.data(), line.size()) < 0) {
        _exit(1);
      }
      close(fds[1]);
      pause(); // until the parent's SIGTERM
      _exit(0);
    }
    close(fds[1]);
    std::string line;
    char c = 0;
    while (read(fds[0], &c, 1) == 1 && c != '\n') {
      line += c;
    }
    close(fds[0]);
    const auto space = line.find(' ');
    if (space == std::string::npos) {
      throw std::runtime_error("the fakes did not start");
    }
    bob_url = line.substr(0, space);
    jumpcloud_url = line.substr(space + 1);
  }
  ~FakesProcess() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

// The loop itself (no listener), its passes back to back: a manual clock
// makes the interval pass at once.
int memory(int n, int passes) {
  FakesProcess fakes(n);
  controller::tune_allocator_for_passes();    // what the bobsync binary does at its start
  controller::tune_allocator_for_long_runs(); // and `bobsync run` then
  const auto dir = std::filesystem::temp_directory_path() / "bobsync-bench-run-memory";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  setenv("BOB_API_URL", fakes.bob_url.c_str(), 1);
  setenv("JUMPCLOUD_API_URL", fakes.jumpcloud_url.c_str(), 1);
  const auto policy_path = policy_file(dir.string());

  controller::ManualClock clock(std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 10h);
  controller::http::CurlTransport transport;
  auto store = state::SqliteStore::open((dir / "state.db").string(), state::OpenMode::writer);
  controller::run::PolicySource policy(
      policy_path,
      controller::run::file_loader(
          [](const std::string& text) { return std::to_string(text.size()); },
          [&](policies::Policy& p) {
            p.bob_url = fakes.bob_url;
            p.jumpcloud_url = fakes.jumpcloud_url;
          }));
  policy.check();
  controller::run::SourcesFactory factory = [&](const policies::Policy& p) {
    controller::BobSettings b;
    b.base_url = p.bob_url;
    b.service_user_id = "sandbox-user";
    b.service_user_token = "sandbox-token";
    controller::JumpCloudSettings j;
    j.base_url = p.jumpcloud_url;
    j.api_key = "sandbox-key";
    j.write_concurrency = p.write_concurrency;
    controller::run::RunnerSources s;
    s.hr = std::make_unique<controller::BobHrSource>(transport, clock, b);
    s.directory = std::make_unique<controller::JumpCloudDirectory>(transport, clock, j);
    return s;
  };
  int counter = 0;
  controller::run::ReconcileRunner runner(
      *store, clock, factory, {[&counter] { return "bench-" + std::to_string(++counter); }, {}});
  controller::run::LoopOptions options;
  options.policy_check_every = 24h; // the file does not change here
  controller::run::Loop loop(clock, policy, runner, nullptr, options);
  long rss10 = 0;
  int fds10 = 0;
  std::vector<double> rss_after; // MB after each pass
  const auto t0 = Steady::now();
  double t10 = 0;
  for (int i = 1; i <= passes; ++i) {
    while (!loop.step()) {
      clock.advance(
          std::chrono::duration_cast<std::chrono::milliseconds>(loop.next_wake() - clock.now())
          + 1ms);
    }
    rss_after.push_back(static_cast<double>(rss_kb()) / 1024.0);
    if (i % 100 == 0 || (i < 100 && i % 20 == 0)) {
      std::printf("  pass %d: RSS %ld MB, open fds %d\n", i, rss_kb() / 1024, open_fds());
      std::fflush(stdout);
    }
    if (i == 10) {
      rss10 = rss_kb();
      fds10 = open_fds();
      t10 = std::chrono::duration<double>(Steady::now() - t0).count();
    }
  }
  const double total = std::chrono::duration<double>(Steady::now() - t0).count();
  const auto status = loop.status();
  const long rss = rss_kb();
  const int fds = open_fds();
  std::printf("memory: %d full passes over %d employees, the first creating them (%.2f s per "
              "pass after the first 10; failed %llu)\n",
              passes,
              n,
              (total - t10) / std::max(1, passes - 10),
              static_cast<unsigned long long>(status.failed_passes));
  std::printf("  after 10 passes: RSS %ld MB, open fds %d\n", rss10 / 1024, fds10);
  std::printf("  after %d passes: RSS %ld MB (%+.1f%%), open fds %d\n",
              passes,
              rss / 1024,
              100.0 * static_cast<double>(rss - rss10) / static_cast<double>(rss10),
              fds);
  if (passes >= 20) {
    const auto window = [&rss_after](std::size_t from) {
      const auto first = rss_after.begin() + static_cast<std::ptrdiff_t>(from);
      return percentile(std::vector<double>(first, first + 10), 0.5);
    };
    const double early = window(9); // passes 10-19
    const double late = window(rss_after.size() - 10);
    std::printf("  median RSS of passes 10-19: %.1f MB; of the last 10: %.1f MB (%+.1f%%); "
                "lowest %.1f MB, highest %.1f MB after any pass from the 10th\n",
                early,
                late,
                100.0 * (late - early) / early,
                *std::min_element(rss_after.begin() + 9, rss_after.end()),
                *std::max_element(rss_after.begin() + 9, rss_after.end()));
  }
  std::filesystem::remove_all(dir);
  return status.failed_passes == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "latency";
  auto arg = [&](int i, int fallback) { return argc > i ? std::atoi(argv[i]) : fallback; };
  try {
    if (mode == "latency") {
      return latency(arg(2, 200), arg(3, 1000));
    }
    if (mode == "flood") {
      return flood(arg(2, 5), arg(3, 20));
    }
    if (mode == "memory") {
      return memory(arg(2, 10000), arg(3, 1000));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_run: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: bench_run latency|flood|memory [ARGS]\n");
  return 2;
}
