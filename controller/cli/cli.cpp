#include "controller/cli/cli.hpp"

#include "controller/cli/bob_fields_command.hpp"
#include "controller/cli/completion.hpp"
#include "controller/cli/run_command.hpp"
#include "controller/cli/settings.hpp"
#include "controller/cli/terminal.hpp"
#include "controller/cli/wiring.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "policies/desired_state_builder.hpp"
#include "policies/policy_parser.hpp"
#include "sandbox/sandbox_main.hpp"
#include "state/diagnostic_render.hpp"
#include "state/plan_markdown.hpp"
#include "state/plan_render.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <ostream>
#include <unistd.h>

namespace bobsync::cli {
namespace {

namespace po = boost::program_options;

// The hooks of the current in-process run (tests); empty for the binary.
const Hooks* g_hooks = nullptr;

// The process's one clock (the test's, or the system clock).
std::shared_ptr<controller::Clock> process_clock() {
  static const auto system = make_clock();
  return g_hooks != nullptr && g_hooks->clock ? g_hooks->clock : system;
}

// Progress lines go to stderr when it is a terminal, never to pipes, files
// or logs (nor to the streams of an in-process test).
bool terminal_stderr(const std::ostream& err) {
  return &err == &std::cerr && ::isatty(STDERR_FILENO) != 0;
}

// `line` (may be null) shows the progress of the full reads.
LiveSources live_sources(const policies::Policy& policy, ProgressLine* line = nullptr) {
  ReadProgress progress;
  if (line != nullptr && line->enabled()) {
    progress.bob = [line](std::size_t employees) {
      // Called for every employee: the text is made for one in 256 only
      // (the line is redrawn ten times a second at most anyway). The first
      // one always shows that Bob is being read now.
      if (employees != 1 && employees % 256 != 0) {
        return;
      }
      line->show("reading Bob: " + thousands(static_cast<long long>(employees))
                     + (employees == 1 ? " employee" : " employees") + " \u2026",
                 employees == 1);
    };
    progress.jumpcloud = [line](long long read, long long total) {
      line->show("reading JumpCloud: " + thousands(read) + " / " + thousands(total)
                     + " users \u2026",
                 read == total);
    };
  }
  return make_live_sources(policy, process_clock(), nullptr, std::move(progress));
}

struct Command {
  std::string summary;
  std::string usage;
  std::function<void(po::options_description&)> add_options;
  std::function<int(const po::variables_map&, std::ostream&, std::ostream&)> run;
  std::vector<std::string> positional; // names of positional options, in order
  bool uses_db = true;                 // takes --db
  bool uses_now = true;                // takes --now
};

// Plan text; coloured when it goes to a terminal (NO_COLOR honoured).
std::string plan_text(const state::Plan& plan, const std::ostream& out) {
  auto text = state::render_text(plan);
  if (&out == &std::cout && colour_enabled(STDOUT_FILENO)) {
    return colour_plan_text(text);
  }
  return text;
}

void add_common(po::options_description& options, const Command& command) {
  options.add_options()("help,h", "show this help");
  if (command.uses_db) {
    options.add_options()(
        "db", po::value<std::string>(), "state database (env BOBSYNC_DB; default bobsync.db)");
  }
  if (command.uses_now) {
    options.add_options()("now",
                          po::value<std::string>(),
                          "evaluate dates as of this moment, from 1970-01-01 to 2199-12-31, e.g. "
                          "2026-11-27 or 2026-11-27T09:00:00Z (env BOBSYNC_NOW)");
  }
}

// --log-format: only the controller logs.
void add_log_format(po::options_description& options) {
  options.add_options()(
      "log-format",
      po::value<std::string>()->default_value("text")->notifier([](const std::string& format) {
        if (format != "text" && format != "json") {
          throw po::error("--log-format: expected text or json, got '" + format + "'");
        }
      }),
      "text|json: the format of the controller's logs");
}

// plan, apply and explain list JumpCloud fresh unless --cached.
void add_observe(po::options_description& options) {
  options.add_options()("cached",
                        "use the JumpCloud cache in the database (listed again only when older "
                        "than schedule.fullRefreshInterval) instead of listing JumpCloud now; "
                        "apply --plan always lists")(
      "refresh", "list every JumpCloud user now (the default; kept for old scripts)");
}

void add_policy(po::options_description& options) {
  options.add_options()("file,f", po::value<std::string>(), "policy file (YAML)");
}

std::string policy_path(const po::variables_map& vm) {
  if (!vm.count("file")) {
    throw Fatal("missing -f POLICY: the policy file to use");
  }
  return vm["file"].as<std::string>();
}

std::chrono::system_clock::time_point evaluation_time(const po::variables_map& vm) {
  if (vm.count("now")) {
    return parse_now(vm["now"].as<std::string>());
  }
  if (const char* env = std::getenv("BOBSYNC_NOW"); env != nullptr && *env != '\0') {
    return parse_now(env);
  }
  return process_clock()->wall_now();
}

std::string db_path(const po::variables_map& vm) {
  if (vm.count("db")) {
    return vm["db"].as<std::string>();
  }
  if (const char* env = std::getenv("BOBSYNC_DB"); env != nullptr && *env != '\0') {
    return env;
  }
  return "bobsync.db";
}

std::string new_run_id() {
  static std::atomic<unsigned> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  char buffer[48];
  std::snprintf(buffer,
                sizeof buffer,
                "r%llx-%x",
                static_cast<unsigned long long>(ms),
                counter.fetch_add(1) + static_cast<unsigned>(::getpid()));
  return buffer;
}

struct LoadedPolicy {
  policies::Policy policy;
  std::string hash;
};

// Reads a file for `what` ("policy file"), refusing what read_file refuses.
std::string read_input(const std::string& what, const std::string& path, std::size_t max_bytes) {
  try {
    return read_file(path, max_bytes);
  } catch (const Fatal& e) {
    throw Fatal(what + " " + e.what());
  }
}

// The most diagnostics printed for one policy; the rest are counted.
constexpr std::size_t k_max_printed_diagnostics = 50;

// Parses the policy and prints its diagnostics (at most
// k_max_printed_diagnostics); nullopt when it is invalid.
std::optional<LoadedPolicy> load_policy(const std::string& path, std::ostream& err) {
  const std::string text = read_input("policy file", path, k_max_policy_bytes);
  auto result = policies::parse_policy(text, path);
  for (std::size_t i = 0; i < result.diagnostics.size(); ++i) {
    if (i == k_max_printed_diagnostics) {
      err << "... and " << result.diagnostics.size() - i << " more\n";
      break;
    }
    err << format(result.diagnostics[i]) << "\n";
  }
  if (!result.policy) {
    err << "bobsync: error: " << path << " is not a valid policy (" << result.diagnostics.size()
        << " problem" << (result.diagnostics.size() == 1 ? "" : "s") << ")\n";
    return std::nullopt;
  }
  apply_url_overrides(*result.policy);
  return LoadedPolicy{std::move(*result.policy), sha256_hex(text)};
}

// --format of validate and plan: one of `allowed`.
void add_format(po::options_description& options,
                const std::vector<std::string>& allowed,
                const std::string& help) {
  options.add_options()(
      "format",
      po::value<std::string>()->default_value("text")->notifier([allowed](const std::string& f) {
        if (std::find(allowed.begin(), allowed.end(), f) == allowed.end()) {
          std::string list;
          for (const auto& a : allowed) {
            list += (list.empty() ? "" : ", ") + a;
          }
          throw po::error("--format: expected one of " + list + ", got '" + f + "'");
        }
      }),
      help.c_str());
}

int cmd_validate(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  const auto path = policy_path(vm);
  const auto output = vm["format"].as<std::string>();
  const std::string text = read_input("policy file", path, k_max_policy_bytes);
  auto result = policies::parse_policy(text, path);
  auto diagnostics = result.diagnostics;
  if (result.policy) {
    apply_url_overrides(*result.policy);
    if (vm.count("online")) {
      auto online = check_policy_fields_online(*result.policy, text, path, process_clock());
      diagnostics.insert(diagnostics.end(), online.begin(), online.end());
    }
  }
  const bool valid = result.policy && !has_errors(diagnostics);
  if (output == "json") {
    out << state::render_diagnostics_json(path, diagnostics) << "\n";
    return valid ? k_exit_ok : k_exit_error;
  }
  for (std::size_t i = 0; i < diagnostics.size(); ++i) {
    if (output == "github") {
      out << state::format_github(diagnostics[i]) << "\n";
      continue;
    }
    if (i == k_max_printed_diagnostics) {
      err << "... and " << diagnostics.size() - i << " more\n";
      break;
    }
    err << format(diagnostics[i]) << "\n";
  }
  if (!valid) {
    err << "bobsync: error: " << path << " is not a valid policy (" << diagnostics.size()
        << " problem" << (diagnostics.size() == 1 ? "" : "s") << ")\n";
    return k_exit_error;
  }
  out << path << ": valid policy (" << result.policy->mapping.size() << " mapped fields, "
      << result.policy->bob_fields().size() << " Bob fields read"
      << (vm.count("online") ? " and checked against Bob's field catalogue" : "") << ", hash "
      << sha256_hex(text).substr(0, 12) << ")\n";
  return k_exit_ok;
}

int cmd_bob(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  const std::string what = vm.count("what") ? vm["what"].as<std::string>() : "";
  if (what != "fields") {
    throw Fatal(what.empty() ? "missing what to list: bobsync bob fields [--search TEXT] [--json]"
                             : "unknown 'bob " + what + "': expected 'bob fields'");
  }
  BobFieldsRequest request;
  if (vm.count("file")) {
    auto loaded = load_policy(vm["file"].as<std::string>(), err);
    if (!loaded) {
      return k_exit_error;
    }
    request.bob_url = loaded->policy.bob_url;
    const char* env = std::getenv("BOB_API_URL");
    request.url_origin = env != nullptr && *env != '\0' ? "BOB_API_URL" : "source.bob.url";
  } else if (const char* env = std::getenv("BOB_API_URL"); env != nullptr && *env != '\0') {
    request.bob_url = env;
    request.url_origin = "BOB_API_URL";
  } else {
    request.bob_url = policies::Policy{}.bob_url;
    request.url_origin = "the default Bob URL";
  }
  request.search = vm.count("search") ? vm["search"].as<std::string>() : "";
  request.json = vm.count("json") > 0;
  return run_bob_fields(request, process_clock(), out, err);
}

// The request plan and apply share: policy, time, --employee, --cached.
controller::ReconcileRequest
reconcile_request(const po::variables_map& vm, const LoadedPolicy& loaded, controller::Mode mode) {
  controller::ReconcileRequest request;
  request.pass.policy = std::make_shared<const policies::Policy>(loaded.policy);
  request.pass.now = evaluation_time(vm);
  request.pass.policy_hash = loaded.hash;
  if (vm.count("employee")) {
    request.pass.only_employee = vm["employee"].as<std::string>();
  }
  request.mode = mode;
  // The command line observes JumpCloud fresh unless told to use the cache
  // (--refresh, the old opt-in, is the default now).
  request.observe =
      vm.count("cached") > 0 ? controller::Observe::cached : controller::Observe::fresh;
  return request;
}

// Writes `text` to `path` as a new file of mode 0600 (a plan holds names,
// emails and phone numbers), whatever the mode of a file already there:
// written beside it under a temporary name, then renamed over it.
void write_private_file(const std::string& path, const std::string& text) {
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkstemp(temp.data()); // mode 0600
  if (fd < 0) {
    throw Fatal("cannot write the plan to '" + path + "': " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  const bool ok = written == text.size() && ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_error = ok ? errno : error;
    ::unlink(temp.c_str());
    throw Fatal("cannot write the plan to '" + path + "': " + std::strerror(rename_error));
  }
}

int exit_code_for(const state::Plan& plan) {
  if (plan.blocked) {
    return k_exit_blocked;
  }
  // Conflicts write nothing, but JumpCloud is not in line: they need attention.
  const bool attention = !plan.empty() || plan.summary.count(state::Action::conflict) > 0;
  return attention ? k_exit_changes : k_exit_ok;
}

int cmd_plan(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  auto loaded = load_policy(policy_path(vm), err);
  if (!loaded) {
    return k_exit_error;
  }
  auto request = reconcile_request(vm, *loaded, controller::Mode::plan);
  ProgressLine line(err, terminal_stderr(err));
  auto sources = live_sources(loaded->policy, &line);
  auto store = open_store(db_path(vm), false);
  const auto outcome =
      controller::reconcile(*sources.hr, *sources.directory, *store, *process_clock(), request);
  line.clear();
  if (outcome.error) {
    err << "bobsync: error: " << outcome.error->message << "\n";
    return k_exit_error;
  }
  const auto& plan = outcome.pass.plan;
  if (vm.count("out")) {
    write_private_file(vm["out"].as<std::string>(), state::render_json(plan) + "\n");
  }
  std::string format = vm["format"].as<std::string>();
  if (vm.count("json")) {
    if (!vm["format"].defaulted() && format != "json") {
      throw Fatal("--json is --format json; it cannot be combined with --format " + format);
    }
    format = "json";
  }
  if (format == "json") {
    out << state::render_json(plan) << "\n";
  } else if (format == "markdown") {
    state::MarkdownOptions options;
    options.json_artifact = vm.count("out") ? vm["out"].as<std::string>() : "";
    out << state::render_markdown(plan, options);
  } else {
    out << plan_text(plan, out);
  }
  return exit_code_for(plan);
}

// One line per change, printed and flushed as the change completes: a
// killed apply leaves a line for every change it made.
void print_result(const controller::ChangeResult& r, std::ostream& out) {
  const auto& c = r.change;
  out << (r.ok ? (r.recovered ? "recovered " : "ok        ") : "FAILED    ") << to_string(c.action)
      << " " << (c.username.empty() ? c.email : c.username) << " [bob:" << c.employee_id
      << (c.user_id.empty() ? "" : " jumpcloud:" + c.user_id) << "]";
  if (!r.ok) {
    out << ": " << r.error;
  }
  out << std::endl; // NOLINT(performance-avoid-endl): flushed on purpose
}

int cmd_apply(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  auto loaded = load_policy(policy_path(vm), err);
  if (!loaded) {
    return k_exit_error;
  }
  auto request = reconcile_request(vm, *loaded, controller::Mode::apply);
  request.allow_mass_changes = vm.count("allow-mass-changes") > 0;
  request.apply.concurrency = loaded->policy.write_concurrency;
  request.apply.run_id = new_run_id();
  request.apply.fault_point =
      g_hooks != nullptr && g_hooks->fault_point ? g_hooks->fault_point : crash_hook_from_env();
  if (vm.count("plan")) {
    const auto path = vm["plan"].as<std::string>();
    std::string error;
    auto saved = state::parse_plan_json(read_input("saved plan", path, k_max_plan_bytes), error);
    if (!saved) {
      err << "bobsync: error: " << path << ": " << error << "\n";
      return k_exit_error;
    }
    if (saved->policy_hash != loaded->hash) {
      err << "bobsync: error: saved plan " << path
          << " is stale: it was made with another version of the policy. Run 'bobsync plan "
             "--out' again.\n";
      return k_exit_error;
    }
    request.expected = std::move(*saved);
  }
  // The reads' progress, then the changes' counter, on a terminal's
  // stderr; the counter only when the lines of the changes go elsewhere
  // (they would be written over), and the line is erased before anything
  // is written to a terminal's stdout.
  ProgressLine line(err, terminal_stderr(err));
  const bool out_is_terminal = &out == &std::cout && ::isatty(STDOUT_FILENO) != 0;
  request.apply.on_result = [&out, &line, out_is_terminal](const controller::ChangeResult& r) {
    if (out_is_terminal) {
      line.clear();
    }
    print_result(r, out);
  };
  if (line.enabled() && !out_is_terminal) {
    request.apply.progress = [&line](int done, int total) {
      if (total >= 20) {
        line.show("applying " + thousands(done) + " / " + thousands(total) + " changes \u2026",
                  done == total);
      }
    };
  }
  auto sources = live_sources(loaded->policy, &line);
  auto store = open_store(db_path(vm), true, process_clock());
  const auto outcome =
      controller::reconcile(*sources.hr, *sources.directory, *store, *process_clock(), request);
  line.clear();
  if (outcome.recovered > 0) {
    out << "settled " << outcome.recovered
        << " journal entries left by an interrupted run (see 'bobsync history')\n";
  }
  if (outcome.error) {
    err << "bobsync: error: " << outcome.error->message << "\n";
    return k_exit_error;
  }
  if (outcome.stale) {
    err << "bobsync: error: saved plan is stale: Bob or JumpCloud changed since it was made. "
           "Nothing was applied; run 'bobsync plan --out' again and review it.\n";
    return k_exit_error;
  }
  const auto& plan = outcome.pass.plan;
  if (outcome.blocked) {
    out << plan_text(plan, out);
    if (plan.overridable()) {
      err << "bobsync: the plan is blocked by the safety limits; nothing was applied. Review it, "
             "then run again with --allow-mass-changes if it is right.\n";
    } else {
      err << "bobsync: the plan is blocked because Bob or JumpCloud answered with data that "
             "cannot be trusted (see the reasons above); nothing was applied. "
             "--allow-mass-changes does not lift this: fix the read, then run again.\n";
    }
    return k_exit_blocked;
  }
  if (!outcome.applied) {
    out << plan_text(plan, out);
    return k_exit_ok;
  }
  out << "Apply: " << outcome.applied->succeeded << " succeeded, " << outcome.applied->failed
      << " failed; " << plan.summary.count(state::Action::conflict) << " conflicts and "
      << plan.summary.count(state::Action::defer) << " deferred not applied (run " << outcome.run_id
      << ").\n";
  if (outcome.applied->aborted) {
    err << "bobsync: error: the run stopped: " << *outcome.applied->aborted
        << ". Changes not started were not attempted; the next run settles what was pending.\n";
  }
  if (outcome.applied->stopped_rate_limited) {
    const auto wait = outcome.applied->rate_limit_wait;
    out << "Stopped writing: JumpCloud answered 429 Too Many Requests"
        << (wait ? " and asked to wait " + std::to_string((wait->count() + 999) / 1000) + " s"
                 : std::string())
        << ", longer than a run waits; " << outcome.applied->left_for_next_pass
        << " changes not started are left for the next pass.\n";
  }
  if (outcome.applied->stopped_unauthorized) {
    err << "bobsync: error: JumpCloud refused the API key; the remaining changes were skipped. "
           "Check JUMPCLOUD_API_KEY.\n";
  }
  return outcome.applied->failed > 0 || outcome.applied->aborted ? k_exit_error : k_exit_ok;
}

int cmd_status(const po::variables_map& vm, std::ostream& out, std::ostream& /*err*/) {
  auto store = open_store(db_path(vm), false);
  const auto runs = store->recent_runs(10);
  const auto pending = store->pending_intents();
  const auto users = store->load_users();
  const auto links = store->load_links();
  const auto refreshed = store->last_full_refresh();
  out << "database: " << db_path(vm) << "\n";
  out << "cached JumpCloud users: " << users.size()
      << " (last full refresh: " << refreshed.value_or("never") << ")\n";
  out << "linked employees: " << links.size() << "\n";
  out << "pending journal entries: " << pending.size()
      << (pending.empty() ? "" : " (settled by the next apply or run)") << "\n";
  out << "last runs:\n";
  if (runs.empty()) {
    out << "  (none)\n";
  }
  for (const auto& r : runs) {
    out << "  " << r.started_at << "  " << r.kind << "  " << r.id << "  "
        << (r.outcome.empty() ? "running or interrupted" : r.outcome) << "  " << r.summary << "\n";
  }
  return k_exit_ok;
}

int cmd_history(const po::variables_map& vm, std::ostream& out, std::ostream& /*err*/) {
  auto store = open_store(db_path(vm), false);
  const std::string employee = vm.count("employee") ? vm["employee"].as<std::string>() : "";
  const int limit = vm["limit"].as<int>();
  const auto records = store->audit(employee, limit);
  if (records.empty()) {
    out << "no audit records" << (employee.empty() ? "" : " for employee " + employee) << "\n";
  }
  for (const auto& a : records) {
    out << a.time << "  " << to_string(a.action) << "  bob:" << a.employee_id
        << (a.user_id.empty() ? "" : "  jumpcloud:" + a.user_id) << "  " << a.outcome << "  run "
        << a.run_id << "  policy " << a.policy_hash.substr(0, 12) << "\n";
    for (const auto& f : a.fields) {
      out << "    " << f.name << ": "
          << (f.old_value ? "\"" + state::terminal_safe(*f.old_value) + "\"" : "(none)") << " -> \""
          << state::terminal_safe(f.new_value) << "\"\n";
    }
    if (!a.message.empty()) {
      out << "    " << a.message << "\n";
    }
  }
  return k_exit_ok;
}

int cmd_explain(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  if (!vm.count("id")) {
    throw Fatal("missing the Bob employee id: bobsync explain ID -f POLICY");
  }
  const auto id = vm["id"].as<std::string>();
  auto loaded = load_policy(policy_path(vm), err);
  if (!loaded) {
    return k_exit_error;
  }
  const auto& policy = loaded->policy;
  const auto now = evaluation_time(vm);
  auto sources = live_sources(policy);
  auto employee = sources.hr->get_employee(id, policy.bob_fields());
  if (!employee) {
    err << "bobsync: error: " << employee.error().message << "\n";
    return k_exit_error;
  }
  if (!*employee) {
    err << "bobsync: error: Bob has no employee " << id << "\n";
    return k_exit_error;
  }
  const auto x = policies::explain_employee(**employee, policy, now);
  out << "employee " << id << " ("
      << state::terminal_safe((**employee).get(policy.lifecycle.fields.display_name)) << ")\n";
  out << "scope: " << (x.in_scope ? "in scope" : "out of scope") << " (" << x.scope_reason << ")\n";
  out << "today: " << x.local_date << " in " << x.time_zone << "\n";
  out << "lifecycle: " << to_string(x.phase) << ": " << x.phase_reason << "\n";
  out << "fields:\n";
  for (const auto& f : x.fields) {
    out << "  " << f.target << " <- " << f.sources << " = " << state::terminal_safe(f.raw);
    if (!f.transforms.empty()) {
      out << " | " << f.transforms;
    }
    out << " => \"" << state::terminal_safe(f.result) << "\" (" << to_string(f.mode) << ")\n";
  }
  auto request = reconcile_request(vm, *loaded, controller::Mode::plan);
  request.pass.only_employee = id;
  request.pass.record_matches = true;
  auto store = open_store(db_path(vm), false);
  const auto outcome =
      controller::reconcile(*sources.hr, *sources.directory, *store, *process_clock(), request);
  if (outcome.error) {
    err << "bobsync: error: " << outcome.error->message << "\n";
    return k_exit_error;
  }
  const auto& plan = outcome.pass.plan;
  for (const auto& m : plan.matches) {
    if (!m.conflict.empty()) {
      out << "matching: conflict: " << m.conflict << "\n";
    } else if (m.user_id.empty()) {
      out << "matching: no JumpCloud user found (rules: link, attribute";
      for (auto rule : policy.matching.rules) {
        out << ", " << to_string(rule);
      }
      out << ")\n";
    } else {
      out << "matching: JumpCloud user " << m.user_id << " found by " << m.matched_by << "\n";
    }
  }
  const bool has_account = std::any_of(plan.matches.begin(), plan.matches.end(), [](const auto& m) {
    return m.conflict.empty() && !m.user_id.empty();
  });
  const bool has_conflict = std::any_of(
      plan.matches.begin(), plan.matches.end(), [](const auto& m) { return !m.conflict.empty(); });
  if (!has_account && !has_conflict) {
    out << "account: there is no JumpCloud account yet; ";
    if (!x.in_scope) {
      out << "none is created while the employee is out of scope (" << x.scope_reason << ")\n";
    } else if (plan.changes.empty()) {
      out << "none is created now (lifecycle: " << to_string(x.phase) << ": " << x.phase_reason
          << ")\n";
    } else {
      out << "the plan below says what happens and when (lifecycle: " << to_string(x.phase) << ": "
          << x.phase_reason << ")\n";
    }
  }
  if (plan.changes.empty()) {
    out << (has_account ? "plan: nothing to do: the JumpCloud user is in line with Bob\n"
                        : "plan: nothing to do now\n");
  } else {
    out << "plan:\n" << state::render_text(plan);
  }
  return k_exit_ok;
}

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int /*signal*/) {
  g_stop.store(true);
}

int cmd_sandbox(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  sandbox::SandboxOptions options;
  options.port = vm["port"].as<int>();
  if (vm.count("seed")) {
    options.seed_dir = vm["seed"].as<std::string>();
  }
  options.bob_user = read_secret("BOB_SERVICE_USER_ID").value_or("sandbox-user");
  options.bob_token = read_secret("BOB_SERVICE_USER_TOKEN").value_or("sandbox-token");
  options.jumpcloud_key = read_secret("JUMPCLOUD_API_KEY").value_or("sandbox-key");
  options.webhook_secret = read_secret("BOB_WEBHOOK_SECRET").value_or("sandbox-webhook-secret");
  if (vm.count("webhook-url")) {
    options.webhook_url = vm["webhook-url"].as<std::string>();
  }
  g_stop.store(false);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return sandbox::run_sandbox(options, out, err, g_stop);
}

std::map<std::string, Command> commands() {
  std::map<std::string, Command> c;
  c["validate"] = {"parse and check a policy file (exit 0 valid, 1 invalid)",
                   "bobsync validate -f POLICY [--format text|github|json] [--online]",
                   [](po::options_description& o) {
                     add_policy(o);
                     add_format(o,
                                {"text", "github", "json"},
                                "text|github|json: diagnostics as text (stderr), GitHub Actions "
                                "annotations or a JSON document (stdout)");
                     o.add_options()("online",
                                     "also check the Bob fields the policy reads against the "
                                     "tenant's field catalogue and the service user's permissions "
                                     "(needs the Bob credentials)");
                   },
                   cmd_validate,
                   {},
                   false,
                   false};
  c["plan"] = {"read Bob and JumpCloud and print the changes an apply would make (exit 0 none, 2 "
               "changes, 1 error, 3 blocked by safety)",
               "bobsync plan -f POLICY [--format text|json|markdown] [--json] [--out PLAN] "
               "[--employee ID] [--cached] [--refresh] [--db PATH] [--now TIME]",
               [](po::options_description& o) {
                 add_policy(o);
                 add_format(o,
                            {"text", "json", "markdown"},
                            "text|json|markdown: markdown is for a pull-request comment (stays "
                            "under GitHub's 65,536-character limit; the whole plan is in --out)");
                 o.add_options()("json", "print the plan as JSON (--format json)")(
                     "out", po::value<std::string>(), "also save the plan as JSON to this file")(
                     "employee", po::value<std::string>(), "plan only this Bob employee id");
                 add_observe(o);
               },
               cmd_plan,
               {}};
  c["apply"] = {"converge JumpCloud to the plan (exit 0 converged, 1 error or partial failure, 3 "
                "blocked)",
                "bobsync apply -f POLICY [--plan PLAN] [--employee ID] [--allow-mass-changes] "
                "[--cached] [--refresh] [--db PATH] [--now TIME]",
                [](po::options_description& o) {
                  add_policy(o);
                  o.add_options()(
                      "plan", po::value<std::string>(), "apply exactly this saved plan")(
                      "employee", po::value<std::string>(), "sync only this Bob employee id")(
                      "allow-mass-changes", "apply a plan blocked by the safety limits");
                  add_observe(o);
                },
                cmd_apply,
                {}};
  c["run"] = {run_summary(),
              run_usage(),
              [](po::options_description& o) {
                add_log_format(o);
                add_run_options(o);
              },
              [](const po::variables_map& vm, std::ostream& out, std::ostream& err) {
                return cmd_run(vm, out, err, g_hooks);
              },
              {}};
  c["status"] = {"last runs, counts, conflicts, pending journal entries",
                 "bobsync status [--db PATH]",
                 [](po::options_description&) {},
                 cmd_status,
                 {},
                 true,
                 false};
  c["history"] = {"the audit log",
                  "bobsync history [--employee ID] [--limit N] [--db PATH]",
                  [](po::options_description& o) {
                    o.add_options()("employee", po::value<std::string>(), "only this employee")(
                        "limit", po::value<int>()->default_value(100), "newest N records (0: all)");
                  },
                  cmd_history,
                  {},
                  true,
                  false};
  c["explain"] = {"how each field of one employee's JumpCloud user is derived, and why it is (not) "
                  "created, activated or suspended now",
                  "bobsync explain ID -f POLICY [--cached] [--refresh] [--db PATH] [--now TIME]",
                  [](po::options_description& o) {
                    add_policy(o);
                    o.add_options()("id", po::value<std::string>(), "Bob employee id");
                    add_observe(o);
                  },
                  cmd_explain,
                  {"id"}};
  c["bob"] = {"list the Bob tenant's fields (id, label, category, type, list id) for writing a "
              "mapping",
              "bobsync bob fields [--search TEXT] [--json] [-f POLICY]",
              [](po::options_description& o) {
                o.add_options()("what", po::value<std::string>(), "what to list: fields")(
                    "search",
                    po::value<std::string>(),
                    "only fields whose id, label or category "
                    "contain TEXT (case-insensitive)")("json", "print JSON")(
                    "file,f",
                    po::value<std::string>(),
                    "policy file whose source.bob.url to use (BOB_API_URL overrides it; "
                    "without -f: BOB_API_URL, else https://api.hibob.com/v1)");
              },
              cmd_bob,
              {"what"},
              false,
              false};
  c["sandbox"] = {
      "serve the built-in fake Bob and fake JumpCloud on loopback, seeded with example "
      "data",
      "bobsync sandbox [--port N] [--seed DIR] [--webhook-url URL]",
      [](po::options_description& o) {
        o.add_options()("port",
                        po::value<int>()->default_value(0),
                        "Bob on N, JumpCloud on N+1 (0..65534; 0: any free ports)")(
            "seed",
            po::value<std::string>(),
            "seed directory (employees.json, jumpcloud-users.json); default: the built-in "
            "example seed (examples/sandbox)")(
            "webhook-url", po::value<std::string>(), "where the fake Bob sends signed webhooks");
      },
      cmd_sandbox,
      {},
      false,
      false};
  return c;
}

// "bobsync 0.1.0 (git v0.1.0-12-gabcdef0)": the CMake project version, and
// where the build came from when it was built from a git checkout.
std::string version_text() {
  std::string text = std::string("bobsync ") + BOBSYNC_VERSION;
  const std::string describe = BOBSYNC_GIT_DESCRIBE;
  if (!describe.empty()) {
    text += " (git " + describe + ")";
  }
  return text;
}

void print_usage(std::ostream& out, const std::map<std::string, Command>& all) {
  out << "bobsync: keeps JumpCloud users in line with HiBob.\n\nUsage: bobsync COMMAND "
         "[OPTIONS]\n       bobsync --version\n\nCommands:\n";
  for (const auto& [name, command] : all) {
    out << "  " << name << std::string(10 - std::min<std::size_t>(name.size(), 9), ' ')
        << command.summary << "\n";
  }
  out << "  completion print a bash or zsh completion script (bobsync completion bash|zsh)\n";
  out << "\nRun 'bobsync COMMAND --help' for a command's options.\n";
}

// Every command and its options, from the same definitions as --help.
std::vector<CompletionCommand> completion_commands(const std::map<std::string, Command>& all) {
  std::vector<CompletionCommand> result;
  for (const auto& [name, command] : all) {
    po::options_description options;
    add_common(options, command);
    command.add_options(options);
    CompletionCommand c{name, command.summary, {}};
    for (const auto& option : options.options()) {
      CompletionOption o;
      o.long_name = option->long_name();
      const auto short_name =
          option->canonical_display_name(po::command_line_style::allow_dash_for_short);
      if (short_name.size() == 2 && short_name[0] == '-') {
        o.short_name = short_name.substr(1);
      }
      o.takes_value = option->semantic()->max_tokens() > 0;
      o.description = option->description();
      c.options.push_back(std::move(o));
    }
    result.push_back(std::move(c));
  }
  result.push_back({"completion", "print a bash or zsh completion script", {}});
  return result;
}

} // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return run(args, out, err, Hooks{});
}

int run(const std::vector<std::string>& args,
        std::ostream& out,
        std::ostream& err,
        const Hooks& hooks) {
  g_hooks = &hooks;
  struct Reset {
    ~Reset() { g_hooks = nullptr; }
  } reset;
  const auto all = commands();
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? err : out, all);
    return args.empty() ? k_exit_error : k_exit_ok;
  }
  if (args[0] == "--version" || args[0] == "version") {
    out << version_text() << "\n";
    return k_exit_ok;
  }
  if (args[0] == "completion") {
    if (args.size() != 2 || (args[1] != "bash" && args[1] != "zsh")) {
      err << "bobsync completion: error: name the shell: bobsync completion bash|zsh\n";
      return k_exit_error;
    }
    out << (args[1] == "bash" ? bash_completion(completion_commands(all))
                              : zsh_completion(completion_commands(all)));
    return k_exit_ok;
  }
  const auto it = all.find(args[0]);
  if (it == all.end()) {
    err << "bobsync: error: unknown command '" << args[0] << "'\n";
    print_usage(err, all);
    return k_exit_error;
  }
  const auto& command = it->second;
  set_default_store_holder("bobsync " + args[0]); // names a writer in the lock file
  po::options_description options(command.usage + "\n\n" + command.summary + "\n\nOptions");
  add_common(options, command);
  command.add_options(options);
  po::positional_options_description positional;
  for (const auto& name : command.positional) {
    positional.add(name.c_str(), 1);
  }
  try {
    po::variables_map vm;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    po::store(po::command_line_parser(rest).options(options).positional(positional).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      out << options << "\n";
      return k_exit_ok;
    }
    return command.run(vm, out, err);
  } catch (const po::error& e) {
    err << "bobsync " << args[0] << ": error: " << e.what() << "\n\n" << options << "\n";
    return k_exit_error;
  } catch (const std::exception& e) {
    err << "bobsync: error: " << e.what() << "\n";
    return k_exit_error;
  }
}

} // namespace bobsync::cli
