// Reads 100,000 employees from FakeBob and 100,000 users from FakeJumpCloud
// through the real clients over loopback HTTP (synthetic, seeded data).
// Reports wall time, requests made and peak RSS.
//   build/bench/bench_read [N] [RTT_MS] [--apart]
// --apart: the fakes run in a child process (forked before any thread), so
// the peak RSS is bobsync's alone, as in production.
// Not a timed test: the figures go in the closing note. Expected: one Bob
// search and exactly ceil(N/100) JumpCloud list requests.

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/bob/bob_record.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/ports/clock.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "policies/desired_state_builder.hpp"
#include "policies/policy_parser.hpp"
#include "sandbox/fake_bob.hpp"
#include "sandbox/fake_jumpcloud.hpp"
#include "state/planner.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench_support.hpp"

namespace {

using namespace bobsync;
using sandbox::BobValue;
using Seconds = std::chrono::duration<double>;

void seed_bob(sandbox::FakeBob& bob, int n, std::mt19937& rng) {
  std::vector<std::pair<std::string, std::string>> titles;
  std::vector<std::pair<std::string, std::string>> departments;
  for (int i = 0; i < 40; ++i) {
    titles.emplace_back(std::to_string(253271800 + i), "Title " + std::to_string(i));
    departments.emplace_back(std::to_string(100 + i), "Department " + std::to_string(i));
  }
  bob.define_list("work.title", titles);
  bob.define_list("work.department", departments);
  bob.define_list("payroll.employment.type", {{"4501", "Full-time"}, {"4502", "Part-time"}});
  bob.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    sandbox::BobEmployee e;
    e.id = std::to_string(3332883804594373380LL + i);
    const std::string first = bench::k_first_names[rng() % 10];
    const std::string last = bench::k_last_names[rng() % 10];
    const auto number = std::to_string(10000 + i);
    e.set("root.email", BobValue::string("person" + number + "@example.com"));
    e.set("root.firstName", BobValue::string(first));
    e.set("root.surname", BobValue::string(last));
    e.set("root.secondName", BobValue::null());
    e.set("root.displayName", BobValue::string(first + " " + last));
    e.set("work.workPhone", BobValue::string("+44 20 7946 " + std::to_string(1000 + i % 9000)));
    e.set("work.workMobile",
          i % 3 == 0 ? BobValue::null() : BobValue::string("+44 7700 9" + number));
    e.set("work.title", BobValue::string(titles[rng() % titles.size()].first));
    e.set("work.department", BobValue::string(departments[rng() % departments.size()].first));
    e.set("work.employeeIdInCompany", BobValue::number(number));
    e.set("work.site", BobValue::string(bench::k_sites[rng() % 4]));
    e.set("payroll.employment.type", BobValue::string(i % 7 == 0 ? "4502" : "4501"));
    e.set("work.startDate", BobValue::string(i % 50 == 0 ? "2027-02-01" : "2020-01-06"));
    e.set("internal.terminationDate",
          i % 97 == 0 ? BobValue::string("2026-10-31") : BobValue::null());
    e.set("employee.lastDayOfWork",
          i % 97 == 0 ? BobValue::string("2026-10-31") : BobValue::null());
    bob.put_employee(std::move(e));
  }
}

void seed_jumpcloud(sandbox::FakeJumpCloud& jumpcloud, int n, std::mt19937& rng) {
  jumpcloud.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto number = std::to_string(10000 + i);
    const std::string first = bench::k_first_names[rng() % 10];
    const std::string last = bench::k_last_names[rng() % 10];
    std::string user =
        R"({"username": "user)" + number + R"(", "email": "person)" + number
        + R"(@example.com", "firstname": ")" + first + R"(", "lastname": ")" + last
        + R"(", "displayname": ")" + first + " " + last + R"(", "jobTitle": "Title )"
        + std::to_string(rng() % 40) + R"(", "department": "Department )"
        + std::to_string(rng() % 40) + R"(", "employeeIdentifier": ")" + number
        + R"(", "location": ")" + bench::k_sites[rng() % 4]
        + R"(", "employeeType": "Full-time", "phoneNumbers": [{"type": "work", "number": "+44 20 7946 )"
        + std::to_string(1000 + i % 9000)
        + R"("}], "attributes": [{"name": "bobEmployeeId", "value": ")"
        + std::to_string(3332883804594373380LL + i) + R"("}], "state": ")"
        + (i % 97 == 0 ? "SUSPENDED" : "ACTIVATED") + "\"}";
    jumpcloud.add_user(user);
  }
}

// The two fakes, seeded, in this process or in a child.
class Fakes {
public:
  Fakes(int n, bool apart)
      : m_n(n) {
    if (!apart) {
      seed();
      return;
    }
    int urls[2];
    int done[2];
    if (::pipe(urls) != 0 || ::pipe(done) != 0) {
      throw std::runtime_error("pipe failed");
    }
    m_child = ::fork();
    if (m_child < 0) {
      throw std::runtime_error("fork failed");
    }
    if (m_child == 0) { // the fakes' process: serve until the parent is done
      ::close(urls[0]);
      ::close(done[1]);
      seed();
      const auto line = m_bob->base_url() + " " + m_jumpcloud->base_url() + "\n";
      (void)!::write(urls[1], line.data(), line.size());
      char byte = 0;
      while (::read(done[0], &byte, 1) > 0) {
      }
      const auto counts =
          std::to_string(m_bob->search_count()) + " " + std::to_string(list_requests()) + "\n";
      (void)!::write(urls[1], counts.data(), counts.size());
      std::_Exit(0);
    }
    ::close(urls[1]);
    ::close(done[0]);
    m_from_child = urls[0];
    m_to_child = done[1];
    std::istringstream line(read_line());
    line >> m_bob_url >> m_jumpcloud_url;
  }
  Fakes(const Fakes&) = delete;
  Fakes& operator=(const Fakes&) = delete;
  ~Fakes() {
    if (m_child > 0) {
      counts();
    }
  }

  const std::string& bob_url() const { return m_bob_url; }
  const std::string& jumpcloud_url() const { return m_jumpcloud_url; }
  sandbox::FakeJumpCloud* in_process_jumpcloud() { return m_jumpcloud.get(); }

  // Bob searches and JumpCloud list requests served (ends the child).
  std::pair<int, int> counts() {
    if (m_child <= 0) {
      return {m_bob->search_count(), list_requests()};
    }
    ::close(m_to_child);
    std::istringstream line(read_line());
    ::close(m_from_child);
    ::waitpid(m_child, nullptr, 0);
    m_child = 0;
    line >> m_counts.first >> m_counts.second;
    return m_counts;
  }

private:
  void seed() {
    std::mt19937 rng(20261127);
    m_bob = std::make_unique<sandbox::FakeBob>();
    m_jumpcloud = std::make_unique<sandbox::FakeJumpCloud>();
    seed_bob(*m_bob, m_n, rng);
    seed_jumpcloud(*m_jumpcloud, m_n, rng);
    m_bob_url = m_bob->base_url();
    m_jumpcloud_url = m_jumpcloud->base_url();
  }
  int list_requests() const { return m_jumpcloud->stats().count("GET", "/api/systemusers"); }
  std::string read_line() const {
    std::string line;
    char c = 0;
    while (::read(m_from_child, &c, 1) == 1 && c != '\n') {
      line += c;
    }
    return line;
  }

  int m_n = 0;
  pid_t m_child = 0;
  int m_from_child = -1;
  int m_to_child = -1;
  std::unique_ptr<sandbox::FakeBob> m_bob;
  std::unique_ptr<sandbox::FakeJumpCloud> m_jumpcloud;
  std::string m_bob_url;
  std::string m_jumpcloud_url;
  std::pair<int, int> m_counts{0, 0};
};

} // namespace

int main(int argc, char** argv) {
  controller::tune_allocator_for_passes(); // what the bobsync binary does at its start
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    const auto apart_flag = std::find(args.begin(), args.end(), "--apart");
    const bool apart = apart_flag != args.end();
    if (apart) {
      args.erase(apart_flag);
    }
    const int n = !args.empty() ? std::stoi(args[0]) : 100000;
    const auto policy = bench::example_policy();
    const auto fields = policy.bob_fields();

    const auto s0 = std::chrono::steady_clock::now();
    Fakes fakes(n, apart);
    const auto s1 = std::chrono::steady_clock::now();
    const long rss_seeded = bench::peak_rss_mb();

    controller::http::CurlTransport transport;
    controller::SystemClock clock;
    controller::BobSettings bob_settings;
    bob_settings.base_url = fakes.bob_url();
    bob_settings.service_user_id = "sandbox-user";
    bob_settings.service_user_token = "sandbox-token";
    controller::BobHrSource hr(transport, clock, bob_settings);
    controller::JumpCloudSettings jc_settings;
    jc_settings.base_url = fakes.jumpcloud_url();
    jc_settings.api_key = "sandbox-key";
    controller::JumpCloudDirectory directory(transport, clock, jc_settings);

    // Bob is read on another thread while JumpCloud is listed, as a reconcile
    // pass reads them (controller/reconcile/reconciler.cpp); each read is
    // timed on its own thread, and the read ends when both have.
    const auto t0 = std::chrono::steady_clock::now();
    auto bob_read = std::async(std::launch::async, [&hr, &fields] {
      auto read = hr.list_employees(fields);
      return std::make_pair(std::move(read), std::chrono::steady_clock::now());
    });
    auto users = directory.list_users();
    const auto t_jumpcloud = std::chrono::steady_clock::now();
    auto [employees, t_bob] = bob_read.get();
    const auto t2 = std::chrono::steady_clock::now();
    const long rss_read = bench::peak_rss_mb();
    if (!employees || !users) {
      std::cerr << "read failed: "
                << (!employees ? employees.error().message : users.error().message) << '\n';
      return 1;
    }

    // Plan on top of the read, as a reconcile pass does.
    const auto employee_count = employees->size();
    const auto user_count = users->size();
    controller::PassRequest request;
    request.policy = std::make_shared<const policies::Policy>(policy);
    request.now = clock.wall_now();
    const auto pass = controller::plan_from(std::move(*employees), std::move(*users), request);
    const auto& plan = pass.plan;
    const auto t3 = std::chrono::steady_clock::now();

    const long rss_planned = bench::peak_rss_mb();
    // Bob's answer alone (after the RSS above was taken): fetched whole,
    // then split and read on one thread.
    controller::http::Request search;
    search.method = "POST";
    search.url = fakes.bob_url() + "/people/search";
    search.headers = {
        {"Authorization", controller::basic_authorization("sandbox-user", "sandbox-token")},
        {"Content-Type", "application/json"}};
    nlohmann::json body = {{"fields", fields}, {"showInactive", true}, {"humanReadable", "APPEND"}};
    body["fields"].push_back("root.id");
    search.body = body.dump();
    search.timeout = std::chrono::minutes(5);
    const auto answer = transport.send(search);

    auto [searches, list_requests] = fakes.counts();
    --searches; // the fetch above
    std::printf("N=%d, %zu Bob fields requested\n", n, fields.size());
    std::printf("seed fakes:        %.2f s (not part of the read)\n", Seconds(s1 - s0).count());
    std::printf("read Bob:          %.2f s  %zu employees, %d people search(es)\n",
                Seconds(t_bob - t0).count(),
                employee_count,
                searches);
    std::printf("read JumpCloud:    %.2f s  %zu users, %d list requests (ceil(N/100) = %d), "
                "while Bob is read\n",
                Seconds(t_jumpcloud - t0).count(),
                user_count,
                list_requests,
                (n + 99) / 100);
    std::printf("read total:        %.2f s  (both at once, as a pass reads them)\n",
                Seconds(t2 - t0).count());
    std::printf("desired + plan:    %.2f s  (%zu changes)\n",
                Seconds(t3 - t2).count(),
                plan.changes.size());
    std::printf("read + plan:       %.2f s\n", Seconds(t3 - t0).count());
    std::printf("peak RSS:          %ld MB, %s (after seeding the fakes: %ld MB, after the "
                "reads: %ld MB)\n",
                rss_planned,
                apart ? "the fakes in another process" : "the fakes included",
                rss_seeded,
                rss_read);
    std::printf("figures: read_s=%.2f bob_s=%.2f jumpcloud_s=%.2f plan_s=%.2f read_plan_s=%.2f "
                "rss_mb=%ld requests=%d\n",
                Seconds(t2 - t0).count(),
                Seconds(t_bob - t0).count(),
                Seconds(t_jumpcloud - t0).count(),
                Seconds(t3 - t2).count(),
                Seconds(t3 - t0).count(),
                rss_planned,
                searches + list_requests);
    const bool ok = searches == 1 && list_requests == std::max(1, (n + 99) / 100)
                    && employee_count == static_cast<std::size_t>(n)
                    && user_count == static_cast<std::size_t>(n);
    std::printf("%s\n", ok ? "request counts as expected" : "UNEXPECTED request or record counts");

    if (answer && answer->status == 200) {
      const auto p0 = std::chrono::steady_clock::now();
      // The Bob adapter's split and read, without its worker threads.
      const controller::EmployeeReader reader(fields);
      std::vector<state::Employee> parsed;
      std::string error;
      controller::SearchSplitter splitter([&](std::string&& text) {
        auto employee = reader.read(text, error);
        if (employee) {
          parsed.push_back(std::move(*employee));
        }
        return employee.has_value();
      });
      const bool read_ok = splitter.feed(answer->body) && splitter.finish();
      const auto p1 = std::chrono::steady_clock::now();
      const double parse_s = Seconds(p1 - p0).count();
      const double mb = static_cast<double>(answer->body.size()) / 1e6;
      std::printf(
          "parse Bob's answer: %.2f s on one thread  (%zu employees, %.0f MB, %.0f MB/s)%s\n",
          parse_s,
          parsed.size(),
          mb,
          mb / parse_s,
          read_ok ? "" : (" FAILED: " + error + splitter.error()).c_str());
      std::printf("figures: parse_s=%.2f\n", parse_s);
    } else {
      std::printf("parse Bob's answer: the search failed\n");
    }

    // The JumpCloud listing with a round-trip time: pages one at a time, then
    // at the default concurrency (bench_read N RTT_MS).
    const int rtt_ms = args.size() > 1 ? std::stoi(args[1]) : 0;
    if (rtt_ms > 0 && fakes.in_process_jumpcloud() != nullptr) {
      fakes.in_process_jumpcloud()->faults().set_latency(std::chrono::milliseconds(rtt_ms));
      for (const int concurrency : {1, controller::JumpCloudSettings{}.list_concurrency}) {
        auto settings = jc_settings;
        settings.list_concurrency = concurrency;
        controller::JumpCloudDirectory lister(transport, clock, settings);
        const auto l0 = std::chrono::steady_clock::now();
        auto listed = lister.list_users();
        const auto l1 = std::chrono::steady_clock::now();
        std::printf("list JumpCloud, %d ms RTT, %d page(s) at once: %.2f s  (%zu users)\n",
                    rtt_ms,
                    concurrency,
                    Seconds(l1 - l0).count(),
                    listed ? listed->size() : std::size_t{0});
      }
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bench_read: " << e.what() << '\n';
    return 1;
  }
}
