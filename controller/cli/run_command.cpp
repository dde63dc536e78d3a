#include "controller/cli/run_command.hpp"

#include "controller/adapters/http/api_client.hpp"
#include "controller/adapters/http/redactor.hpp"
#include "controller/cli/cli.hpp"
#include "controller/cli/settings.hpp"
#include "controller/cli/wiring.hpp"
#include "controller/observability/log.hpp"
#include "controller/observability/metrics.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "controller/run/policy_source.hpp"
#include "controller/run/reconcile_runner.hpp"
#include "controller/run/shifted_clock.hpp"
#include "controller/server/listener.hpp"
#include "controller/status/status_page.hpp"
#include "state/store.hpp"

#include <boost/program_options.hpp>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace bobsync::cli {
namespace {

namespace po = boost::program_options;
namespace obs = controller::observability;
namespace run = controller::run;

#ifndef BOBSYNC_VERSION
#define BOBSYNC_VERSION "0.1.0"
#endif

// How long SIGTERM waits for the pass in flight before exiting anyway: every
// JumpCloud write is journaled before it is sent, so the next start settles
// whatever was in flight.
constexpr auto k_stop_grace = std::chrono::seconds(8);

std::string iso(std::chrono::system_clock::time_point tp) {
  const auto t = std::chrono::system_clock::to_time_t(tp);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string run_id() {
  static std::atomic<unsigned> counter{0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  char buffer[48];
  std::snprintf(buffer,
                sizeof buffer,
                "r%llx-%x",
                static_cast<unsigned long long>(ms),
                counter.fetch_add(1) + static_cast<unsigned>(::getpid()));
  return buffer;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) {
      out += separator;
    }
    out += p;
  }
  return out;
}

obs::PassKind metric_kind(run::PassKind kind) {
  switch (kind) {
  case run::PassKind::full:
    return obs::PassKind::full;
  case run::PassKind::targeted:
    return obs::PassKind::targeted;
  }
  return obs::PassKind::full;
}

obs::PassResult metric_result(const run::PassReport& r) {
  if (r.failed) {
    return obs::PassResult::failed;
  }
  if (r.blocked) {
    return obs::PassResult::blocked;
  }
  return r.apply_failed > 0 ? obs::PassResult::partial : obs::PassResult::ok;
}

// The loop's events as log lines and metrics.
class Observer final : public run::LoopObserver {
public:
  Observer(obs::Logger& log, obs::Metrics& metrics, run::Clock& clock)
      : m_log(log),
        m_metrics(metrics),
        m_clock(clock) {}

  void attach(const run::Loop* loop) { m_loop = loop; }

  void pass_started(const run::PassSpec& spec) override {
    m_metrics.set_queue_depth(m_loop != nullptr ? m_loop->status().queue_depth : 0);
    m_log.debug("pass started",
                {{"kind", run::to_string(spec.kind)},
                 {"reason", spec.reason},
                 {"employees", static_cast<std::int64_t>(spec.employee_ids.size())},
                 {"attempt", spec.attempt}});
  }

  void pass_finished(const run::PassSpec& spec,
                     const run::PassReport& r,
                     std::chrono::duration<double> seconds) override {
    m_metrics.pass_finished(metric_kind(spec.kind), metric_result(r), seconds, m_clock.wall_now());
    for (const auto& [action, ok] : r.changes) {
      m_metrics.change_applied(action, ok ? "ok" : "failed");
    }
    if (!r.failed) {
      m_metrics.plan_blocked(r.blocked);
      if (spec.kind == run::PassKind::full) {
        m_metrics.set_open_conflicts(static_cast<std::uint64_t>(r.conflicts));
      }
    }
    m_metrics.set_queue_depth(m_loop != nullptr ? m_loop->status().queue_depth : 0);
    const std::string employee =
        spec.employee_ids.size() == 1 ? spec.employee_ids[0] : std::string();
    const std::string ids = join(r.run_ids, ",");
    const auto ms = static_cast<std::int64_t>(seconds.count() * 1000);
    if (r.failed) {
      m_log.error("pass failed",
                  {{"kind", run::to_string(spec.kind)},
                   {"reason", spec.reason},
                   {"run_id", ids},
                   {"employee_id", employee},
                   {"attempt", spec.attempt},
                   {"error", r.error},
                   {"duration_ms", ms}});
      return;
    }
    if (r.blocked) {
      m_log.warn("plan held by the safety limits: nothing applied (review with 'bobsync plan', "
                 "apply with --allow-mass-changes if it is right)",
                 {{"kind", run::to_string(spec.kind)},
                  {"run_id", ids},
                  {"planned", r.planned},
                  {"blocked_by", join(r.blocked_by, "; ")},
                  {"policy_hash", spec.policy->hash.substr(0, 12)}});
    }
    if (r.conflicts > 0) {
      m_log.warn("conflicts not applied (see 'bobsync plan')",
                 {{"run_id", ids}, {"conflicts", r.conflicts}});
    }
    m_log.log(r.apply_failed > 0 ? obs::LogLevel::warn : obs::LogLevel::info,
              "pass finished",
              {{"kind", run::to_string(spec.kind)},
               {"reason", spec.reason},
               {"run_id", ids},
               {"employee_id", employee},
               {"employees", static_cast<std::int64_t>(spec.employee_ids.size())},
               {"planned", r.planned},
               {"applied", r.applied},
               {"failed", r.apply_failed},
               {"conflicts", r.conflicts},
               {"deferred", r.deferred},
               {"refreshed", r.refreshed},
               {"recovered", r.recovered},
               {"policy_generation", static_cast<std::int64_t>(spec.policy->generation)},
               {"duration_ms", ms}});
  }

  void policy_checked(const run::PolicyCheck& check, const run::PolicySnapshot& current) override {
    switch (check.result) {
    case run::PolicyCheck::Result::reloaded:
      m_metrics.set_policy(current.generation, true);
      m_log.info("policy reloaded: it takes effect with the next pass",
                 {{"policy_hash", current.hash},
                  {"policy_generation", static_cast<std::int64_t>(current.generation)}});
      for (const auto& d : check.diagnostics) {
        m_log.warn("policy warning", {{"diagnostic", d}});
      }
      return;
    case run::PolicyCheck::Result::rejected:
      m_metrics.set_policy(current.generation, false);
      m_metrics.policy_reload_failed();
      m_log.error("policy rejected: the last good policy keeps running",
                  {{"policy_hash", current.hash},
                   {"policy_generation", static_cast<std::int64_t>(current.generation)},
                   {"problems", static_cast<std::int64_t>(check.diagnostics.size())}});
      for (const auto& d : check.diagnostics) {
        m_log.error("policy problem", {{"diagnostic", d}});
      }
      return;
    case run::PolicyCheck::Result::unchanged:
      return;
    }
  }

  void enqueued(const std::string& employee_id, run::Enqueued what) override {
    if (m_loop != nullptr) {
      m_metrics.set_queue_depth(m_loop->status().queue_depth);
    }
    if (what == run::Enqueued::overflow) {
      m_log.warn("work queue full: collapsed into one full pass", {{"employee_id", employee_id}});
    }
  }

private:
  obs::Logger& m_log;
  obs::Metrics& m_metrics;
  run::Clock& m_clock;
  const run::Loop* m_loop = nullptr;
};

} // namespace

struct Controller::Impl {
  RunSettings settings;
  std::unique_ptr<obs::Logger> log;
  std::unique_ptr<obs::Metrics> metrics;
  std::unique_ptr<run::PolicySource> policy;
  std::shared_ptr<run::ShiftedClock> clock;
  std::unique_ptr<state::StateStore> store;
  std::unique_ptr<run::ReconcileRunner> runner;
  std::unique_ptr<Observer> observer;
  std::unique_ptr<run::Loop> loop;
  std::unique_ptr<controller::server::Listener> listener;
  controller::server::ListenAddress listen;

  mutable std::mutex serving_mutex;
  mutable std::condition_variable serving_changed;
  int port = 0;

  controller::server::Readiness readiness() const {
    const auto s = loop->status();
    controller::server::Readiness r;
    const std::string running = s.policy
                                    ? "policy generation " + std::to_string(s.policy->generation)
                                          + " (" + s.policy->hash.substr(0, 12) + ")"
                                    : "no policy";
    if (!s.policy_rejected.empty()) {
      r.detail = "policy file " + policy->path() + " rejected, still running the last good "
                 + running + ": " + join(s.policy_rejected, "; ") + "\n";
      return r;
    }
    if (s.failing) {
      r.detail = "the last " + std::to_string(s.consecutive_failures)
                 + " passes failed (retrying with backoff): " + s.last_error + "\n";
      return r;
    }
    r.ready = true;
    r.detail = "ready: " + running + ", last successful pass "
               + (s.last_success ? iso(*s.last_success) : std::string("none yet"))
               + ", queue depth " + std::to_string(s.queue_depth) + "\n";
    return r;
  }
};

Controller::Controller(RunSettings settings)
    : m_impl(std::make_unique<Impl>()) {
  auto& d = *m_impl;
  d.settings = std::move(settings);
  const auto& s = d.settings;

  const auto format = obs::parse_log_format(s.log_format);
  if (!format) {
    throw Fatal("--log-format must be text or json, not '" + s.log_format + "'");
  }
  const auto level = obs::parse_log_level(s.log_level);
  if (!level) {
    throw Fatal("--log-level must be debug, info, warn or error, not '" + s.log_level + "'");
  }
  if (s.policy_path.empty()) {
    throw Fatal("missing -f POLICY: the policy file to use");
  }
  const auto offset = s.start_at ? *s.start_at - std::chrono::system_clock::now()
                                 : std::chrono::system_clock::duration{};
  d.clock = std::make_shared<run::ShiftedClock>(offset);

  obs::LoggerOptions log_options;
  log_options.format = *format;
  log_options.level = *level;
  log_options.out = s.log_out;
  log_options.now = [clock = d.clock.get()] { return clock->wall_now(); };
  d.log = std::make_unique<obs::Logger>(log_options);
  std::vector<std::string> secrets;
  for (const char* name : {"BOB_SERVICE_USER_TOKEN", "JUMPCLOUD_API_KEY"}) {
    if (auto secret = read_secret(name)) {
      secrets.push_back(*secret);
    }
  }
  if (s.webhook_secret) {
    secrets.push_back(*s.webhook_secret);
  }
  d.log->set_redactor([redactor = controller::http::Redactor(secrets)](std::string_view text) {
    return redactor.redact(text);
  });
  d.metrics = std::make_unique<obs::Metrics>(BOBSYNC_VERSION);

  d.policy = std::make_unique<run::PolicySource>(s.policy_path,
                                                 run::file_loader(sha256_hex, apply_url_overrides));
  const auto first = d.policy->check();
  if (!d.policy->current()) {
    throw Fatal(join(first.diagnostics, "\n") + "\n" + s.policy_path + " is not a valid policy ("
                + std::to_string(first.diagnostics.size()) + " problem"
                + (first.diagnostics.size() == 1 ? "" : "s") + "); the controller did not start");
  }
  d.metrics->set_policy(1, true);

  if (!s.once) {
    try {
      d.listen = controller::server::parse_listen_address(s.listen);
    } catch (const std::invalid_argument& e) {
      throw Fatal(std::string("--listen: ") + e.what());
    }
    if (!s.no_webhooks && !s.webhook_secret) {
      throw Fatal("BOB_WEBHOOK_SECRET (or BOB_WEBHOOK_SECRET_FILE) is not set: 'run' serves Bob "
                  "webhooks on --listen and must check their signatures. Set it to the secret of "
                  "your Bob webhook, or pass --no-webhooks to rely on the interval alone.");
    }
  }

  // Fails at start, not in every pass, when a credential or URL is wrong.
  std::shared_ptr<controller::Clock> http_clock = s.http_clock;
  if (!http_clock) {
    http_clock = d.clock;
  }
  // Every HTTP attempt of either client is counted (api, method, status,
  // latency, retries). The metrics outlive the clients (Impl's order).
  obs::Metrics* metrics = d.metrics.get();
  auto on_attempt = [metrics](const controller::http::AttemptInfo& a) {
    metrics->api_request(a.api, a.method, a.status, a.latency);
    if (a.is_retry) {
      metrics->api_retry(a.api);
    }
  };
  run::SourcesFactory factory = [http_clock, on_attempt](const policies::Policy& policy) {
    auto live = make_live_sources(policy, http_clock, on_attempt);
    return run::RunnerSources{live.keep_alive, std::move(live.hr), std::move(live.directory)};
  };
  (void)factory(*d.policy->current()->policy);

  // Refused, naming the holder, while another writer runs.
  d.store = open_store(s.db_path, true, d.clock);

  run::ReconcileRunnerOptions runner_options;
  runner_options.new_run_id = run_id;
  runner_options.fault_point = s.fault_point;
  d.runner = std::make_unique<run::ReconcileRunner>(*d.store, *d.clock, factory, runner_options);
  d.observer = std::make_unique<Observer>(*d.log, *d.metrics, *d.clock);
  d.loop = std::make_unique<run::Loop>(*d.clock, *d.policy, *d.runner, d.observer.get(), s.loop);
  d.observer->attach(d.loop.get());
}

Controller::~Controller() {
  if (m_impl->listener) {
    m_impl->listener->stop();
  }
}

int Controller::run() {
  auto& d = *m_impl;
  const auto& s = d.settings;
  const auto snapshot = d.policy->current();
  if (s.once) {
    d.log->info("one pass (run --once)", {{"policy_hash", snapshot->hash}, {"db", s.db_path}});
    d.loop->step();
    const auto status = d.loop->status();
    if (status.failed_passes > 0) {
      return k_exit_error;
    }
    return status.last_blocked ? k_exit_blocked : k_exit_ok;
  }

  controller::server::ListenerOptions options;
  options.host = d.listen.host;
  options.port = d.listen.port;
  options.webhook_secret = s.no_webhooks ? std::string() : s.webhook_secret.value_or("");
  controller::server::ListenerCallbacks callbacks;
  if (!s.no_webhooks) {
    callbacks.enqueue = [loop = d.loop.get()](const std::string& id, std::string_view) {
      loop->enqueue(id);
    };
  }
  callbacks.readiness = [&d] { return d.readiness(); };
  // GET /: the status page, only behind BOBSYNC_STATUS_TOKEN (names and emails).
  if (auto token = read_secret("BOBSYNC_STATUS_TOKEN")) {
    auto page =
        std::make_shared<controller::status::StatusPage>(*token, [&d](const std::string& employee) {
          const auto loop = d.loop->status();
          controller::status::StatusSnapshot snap;
          snap.now = iso(d.clock->wall_now());
          snap.policy_path = d.policy->path();
          snap.policy_hash = loop.policy ? loop.policy->hash : std::string();
          snap.policy_rejected = loop.policy_rejected;
          snap.last_error = loop.consecutive_failures > 0 ? loop.last_error : std::string();
          snap.blocked = loop.last_blocked;
          const auto plan = d.runner->last_plan();
          snap.plan_known = true;
          for (const auto& r : plan.block_reasons) {
            snap.blocked_by.push_back({r.kind == state::BlockKind::bad_read, r.message});
          }
          for (const auto& c : plan.pending) {
            const std::string name = c.username.empty() ? c.email : c.username;
            if (c.action == state::Action::defer) {
              const std::string what =
                  c.target_state ? std::string(state::to_string(*c.target_state)) + ": " : "";
              snap.upcoming.push_back({c.employee_id,
                                       name,
                                       c.email,
                                       what + c.reason,
                                       c.date + " at local midnight (the policy's time zone)"});
            } else {
              const bool email = c.reason.find("email") != std::string::npos;
              snap.conflicts.push_back(
                  {c.employee_id,
                   name,
                   c.email,
                   c.reason,
                   email
                       ? "give each employee their own work email in Bob (or remove the duplicate "
                         "JumpCloud user); the next pass re-checks"
                       : "change the data in Bob or JumpCloud that the reason names; the next "
                         "pass re-checks ('bobsync explain ID' shows the details)"});
            }
          }
          snap.runs = d.store->recent_runs(controller::status::k_max_runs);
          snap.employee_filter = employee;
          snap.audit = d.store->audit(employee, controller::status::k_max_audit_rows);
          snap.audit_limit = controller::status::k_max_audit_rows;
          return snap;
        });
    callbacks.status_page = [page](const controller::server::PageRequest& request) {
      const auto reply = page->serve({request.authorization, request.employee});
      return controller::server::PageReply{reply.status, reply.body};
    };
  }
  d.listener = std::make_unique<controller::server::Listener>(
      options, std::move(callbacks), *d.metrics, d.log.get());
  d.listener->start(); // throws naming host:port (address in use, ...)
  {
    const std::lock_guard lock(d.serving_mutex);
    d.port = d.listener->bound_port();
  }
  d.serving_changed.notify_all();
  const auto& schedule = snapshot->policy->schedule;
  d.log->info(
      "controller started",
      {{"listen", d.listen.host + ":" + std::to_string(d.listener->bound_port())},
       {"webhooks", !s.no_webhooks},
       {"db", s.db_path},
       {"policy", s.policy_path},
       {"policy_hash", snapshot->hash},
       {"policy_generation", static_cast<std::int64_t>(snapshot->generation)},
       {"interval_s", static_cast<std::int64_t>(schedule.interval.count())},
       {"full_refresh_interval_s",
        static_cast<std::int64_t>(schedule.full_refresh_interval.count())},
       {"webhook_debounce_ms", static_cast<std::int64_t>(schedule.webhook_debounce.count())},
       {"now", iso(d.clock->wall_now())}});

  d.loop->run();

  d.listener->stop();
  d.log->info("controller stopped",
              {{"passes", static_cast<std::int64_t>(d.loop->status().passes)}});
  return k_exit_ok;
}

void Controller::stop() {
  m_impl->loop->stop();
}

void Controller::reload() {
  m_impl->log->info("SIGHUP: checking the policy file now", {});
  m_impl->loop->request_reload();
}

int Controller::port() const {
  const std::lock_guard lock(m_impl->serving_mutex);
  return m_impl->settings.once ? -1 : m_impl->port;
}

bool Controller::wait_until_serving(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_impl->serving_mutex);
  return m_impl->serving_changed.wait_for(lock, timeout, [this] { return m_impl->port > 0; });
}

controller::run::Loop& Controller::loop() {
  return *m_impl->loop;
}

controller::observability::Metrics& Controller::metrics() {
  return *m_impl->metrics;
}

std::string run_summary() {
  return "the controller: reconciles continuously (interval, Bob webhooks, date boundaries, "
         "policy reload); /healthz, /readyz, /metrics";
}

std::string run_usage() {
  return "bobsync run -f POLICY [--listen HOST:PORT] [--db PATH] [--now TS] [--log-format "
         "text|json] [--log-level L] [--once] [--no-webhooks]\n\n"
         "Runs until SIGTERM or SIGINT (the pass in flight finishes or is journaled; exit 0).\n"
         "SIGHUP re-reads the policy file now (it is also checked every few seconds). Bob\n"
         "webhooks (POST /webhooks/bob, signed with BOB_WEBHOOK_SECRET or _FILE) bring one\n"
         "employee forward; /healthz, /readyz and /metrics serve probes and Prometheus. GET /\n"
         "is a status page (names and emails): off unless BOBSYNC_STATUS_TOKEN (or _FILE) is\n"
         "set, then only with 'Authorization: Bearer <token>'. One\n"
         "controller per database: a second 'run' or an 'apply' is refused while it runs;\n"
         "plan, status, history and explain keep working. --now shifts the controller's\n"
         "clock: it starts at that moment and runs on in real time.";
}

void add_run_options(po::options_description& options) {
  options.add_options()(
      "file,f", po::value<std::string>(), "policy file (YAML), watched for changes")(
      "listen",
      po::value<std::string>()->default_value("127.0.0.1:8080"),
      "HOST:PORT (or :PORT for every interface) for webhooks, /healthz, /readyz, /metrics")(
      "once", "one full pass, then exit (0 converged, 1 failed, 3 blocked); no listener")(
      "no-webhooks", "serve /healthz, /readyz and /metrics only (no BOB_WEBHOOK_SECRET needed)")(
      "log-level", po::value<std::string>()->default_value("info"), "debug|info|warn|error");
}

int cmd_run(const po::variables_map& vm,
            std::ostream& /*out*/,
            std::ostream& err,
            const Hooks* hooks) {
  controller::tune_allocator_for_long_runs();
  RunSettings settings;
  if (!vm.count("file")) {
    throw Fatal("missing -f POLICY: the policy file to use");
  }
  settings.policy_path = vm["file"].as<std::string>();
  if (vm.count("db")) {
    settings.db_path = vm["db"].as<std::string>();
  } else if (const char* env = std::getenv("BOBSYNC_DB"); env != nullptr && *env != '\0') {
    settings.db_path = env;
  }
  if (vm.count("now")) {
    settings.start_at = parse_now(vm["now"].as<std::string>());
  } else if (const char* env = std::getenv("BOBSYNC_NOW"); env != nullptr && *env != '\0') {
    settings.start_at = parse_now(env);
  }
  settings.listen = vm["listen"].as<std::string>();
  settings.log_format = vm["log-format"].as<std::string>();
  settings.log_level = vm["log-level"].as<std::string>();
  settings.once = vm.count("once") > 0;
  settings.no_webhooks = vm.count("no-webhooks") > 0;
  settings.webhook_secret = read_secret("BOB_WEBHOOK_SECRET");
  settings.log_out = &err;
  if (hooks != nullptr) {
    settings.http_clock = hooks->clock;
    settings.fault_point = hooks->fault_point;
  }
  if (!settings.fault_point) {
    settings.fault_point = crash_hook_from_env();
  }

  // SIGTERM, SIGINT and SIGHUP are taken by one thread with sigtimedwait: they
  // are blocked before any other thread starts, so every thread inherits the
  // mask and no handler runs in the middle of a pass.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &signals, &previous);
  struct Restore {
    sigset_t mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};

  Controller controller(std::move(settings));
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    while (!done.load()) {
      timespec wait{0, 200 * 1000 * 1000};
      const int signal = sigtimedwait(&signals, nullptr, &wait);
      if (signal == SIGHUP) {
        controller.reload();
      } else if (signal == SIGTERM || signal == SIGINT) {
        if (!deadline) {
          deadline = std::chrono::steady_clock::now() + k_stop_grace;
          controller.stop();
        }
      }
      if (deadline && std::chrono::steady_clock::now() > *deadline && !done.load()) {
        // The pass in flight outlived the grace period: its writes are
        // journaled (intent before call), so the next start settles them.
        err << "bobsync: a pass was still in flight " << k_stop_grace.count()
            << " s after the stop signal; exiting, the next start settles its journal\n"
            << std::flush;
        std::_Exit(k_exit_ok);
      }
    }
  });
  int code = k_exit_error;
  try {
    code = controller.run();
  } catch (...) {
    done.store(true);
    watcher.join();
    throw;
  }
  done.store(true);
  watcher.join();
  return code;
}

} // namespace bobsync::cli
