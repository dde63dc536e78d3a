#include "controller/cli/cli.hpp"

#include "controller/cli/settings.hpp"
#include "controller/cli/wiring.hpp"
#include "controller/reconcile/reconciler.hpp"
#include "policies/policy_parser.hpp"
#include "sandbox/sandbox_main.hpp"
#include "state/plan_render.hpp"

#include <boost/program_options.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>

namespace bobsync::cli {
namespace {

namespace po = boost::program_options;

struct Command {
  std::string summary;
  std::string usage;
  std::function<void(po::options_description&)> add_options;
  std::function<int(const po::variables_map&, std::ostream&, std::ostream&)> run;
  std::vector<std::string> positional; // names of positional options, in order
};

void add_common(po::options_description& options) {
  options.add_options()("help,h", "show this help")(
      "db", po::value<std::string>(), "state database (env BOBSYNC_DB; default bobsync.db)")(
      "now",
      po::value<std::string>(),
      "evaluate dates as of this moment, e.g. 2026-11-27 or 2026-11-27T09:00:00Z (env "
      "BOBSYNC_NOW)")("log-format", po::value<std::string>()->default_value("text"), "text|json");
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
  return std::chrono::system_clock::now();
}

struct LoadedPolicy {
  policies::Policy policy;
  std::string hash;
};

// Parses the policy and prints every diagnostic; nullopt when it is invalid.
std::optional<LoadedPolicy> load_policy(const std::string& path, std::ostream& err) {
  const std::string text = read_file(path);
  auto result = policies::parse_policy(text, path);
  for (const auto& d : result.diagnostics) {
    err << format(d) << "\n";
  }
  if (!result.policy) {
    err << "bobsync: error: " << path << " is not a valid policy (" << result.diagnostics.size()
        << " problem" << (result.diagnostics.size() == 1 ? "" : "s") << ")\n";
    return std::nullopt;
  }
  apply_url_overrides(*result.policy);
  return LoadedPolicy{std::move(*result.policy), sha256_hex(text)};
}

int cmd_validate(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  const auto path = policy_path(vm);
  auto loaded = load_policy(path, err);
  if (!loaded) {
    return k_exit_error;
  }
  out << path << ": valid policy (" << loaded->policy.mapping.size() << " mapped fields, "
      << loaded->policy.bob_fields().size() << " Bob fields read, hash "
      << loaded->hash.substr(0, 12) << ")\n";
  return k_exit_ok;
}

int exit_code_for(const state::Plan& plan) {
  if (plan.blocked) {
    return k_exit_blocked;
  }
  return plan.empty() ? k_exit_ok : k_exit_changes;
}

int cmd_plan(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  auto loaded = load_policy(policy_path(vm), err);
  if (!loaded) {
    return k_exit_error;
  }
  const auto now = evaluation_time(vm);
  auto sources = make_live_sources(loaded->policy);
  controller::PassRequest request;
  request.policy = &loaded->policy;
  request.now = now;
  request.policy_hash = loaded->hash;
  if (vm.count("employee")) {
    request.only_employee = vm["employee"].as<std::string>();
  }
  auto pass = controller::plan_pass(*sources.hr, *sources.directory, request);
  if (!pass) {
    err << "bobsync: error: " << pass.error().message << "\n";
    return k_exit_error;
  }
  const auto& plan = pass->plan;
  if (vm.count("out")) {
    const auto path = vm["out"].as<std::string>();
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << state::render_json(plan) << "\n";
    if (!file) {
      throw Fatal("cannot write the plan to '" + path + "'");
    }
  }
  if (vm.count("json")) {
    out << state::render_json(plan) << "\n";
  } else {
    out << state::render_text(plan);
  }
  return exit_code_for(plan);
}

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int /*signal*/) {
  g_stop.store(true);
}

int cmd_sandbox(const po::variables_map& vm, std::ostream& out, std::ostream& err) {
  sandbox::SandboxOptions options;
  options.port = vm["port"].as<int>();
  options.seed_dir = vm["seed"].as<std::string>();
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

int not_yet(const std::string& name, std::ostream& err) {
  err << "bobsync: error: '" << name
      << "' is not available yet in this version (see README: Status). Nothing was done.\n";
  return k_exit_error;
}

std::map<std::string, Command> commands() {
  std::map<std::string, Command> c;
  c["validate"] = {"parse and check a policy file (exit 0 valid, 1 invalid)",
                   "bobsync validate -f POLICY",
                   [](po::options_description& o) { add_policy(o); },
                   cmd_validate,
                   {}};
  c["plan"] = {"read Bob and JumpCloud and print the changes an apply would make (exit 0 none, 2 "
               "changes, 1 error, 3 blocked by safety)",
               "bobsync plan -f POLICY [--json] [--out PLAN] [--employee ID]",
               [](po::options_description& o) {
                 add_policy(o);
                 o.add_options()("json", "print the plan as JSON")(
                     "out", po::value<std::string>(), "also save the plan as JSON to this file")(
                     "employee", po::value<std::string>(), "plan only this Bob employee id");
               },
               cmd_plan,
               {}};
  c["apply"] = {"converge JumpCloud to the plan (exit 0 converged, 1 error or partial failure, 3 "
                "blocked)",
                "bobsync apply -f POLICY [--plan PLAN] [--employee ID] [--allow-mass-changes]",
                [](po::options_description& o) {
                  add_policy(o);
                  o.add_options()(
                      "plan", po::value<std::string>(), "apply exactly this saved plan")(
                      "employee", po::value<std::string>(), "sync only this Bob employee id")(
                      "allow-mass-changes", "apply a plan blocked by the safety limits");
                },
                [](const po::variables_map&, std::ostream&, std::ostream& err) {
                  return not_yet("apply", err);
                },
                {}};
  c["run"] = {"the controller: periodic reconcile, Bob webhooks, /healthz, /readyz, /metrics",
              "bobsync run -f POLICY [--listen HOST:PORT]",
              [](po::options_description& o) {
                add_policy(o);
                o.add_options()("listen",
                                po::value<std::string>()->default_value("127.0.0.1:8080"),
                                "address for webhooks, health and metrics");
              },
              [](const po::variables_map&, std::ostream&, std::ostream& err) {
                return not_yet("run", err);
              },
              {}};
  c["status"] = {"last runs, counts, conflicts, pending journal entries",
                 "bobsync status [--db PATH]",
                 [](po::options_description&) {},
                 [](const po::variables_map&, std::ostream&, std::ostream& err) {
                   return not_yet("status", err);
                 },
                 {}};
  c["history"] = {"the audit log",
                  "bobsync history [--employee ID]",
                  [](po::options_description& o) {
                    o.add_options()("employee", po::value<std::string>(), "only this employee");
                  },
                  [](const po::variables_map&, std::ostream&, std::ostream& err) {
                    return not_yet("history", err);
                  },
                  {}};
  c["explain"] = {"how each field of one employee's JumpCloud user is derived, and why it is (not) "
                  "created, activated or suspended now",
                  "bobsync explain ID -f POLICY",
                  [](po::options_description& o) {
                    add_policy(o);
                    o.add_options()("id", po::value<std::string>(), "Bob employee id");
                  },
                  [](const po::variables_map&, std::ostream&, std::ostream& err) {
                    return not_yet("explain", err);
                  },
                  {"id"}};
  c["sandbox"] = {
      "serve the built-in fake Bob and fake JumpCloud on loopback, seeded with example "
      "data",
      "bobsync sandbox [--port N] [--seed DIR]",
      [](po::options_description& o) {
        o.add_options()("port",
                        po::value<int>()->default_value(0),
                        "Bob on N, JumpCloud on N+1 (0: any free ports)")(
            "seed", po::value<std::string>()->default_value("examples/sandbox"), "seed directory")(
            "webhook-url", po::value<std::string>(), "where the fake Bob sends signed webhooks");
      },
      cmd_sandbox,
      {}};
  return c;
}

void print_usage(std::ostream& out, const std::map<std::string, Command>& all) {
  out << "bobsync: keeps JumpCloud users in line with HiBob.\n\nUsage: bobsync COMMAND "
         "[OPTIONS]\n\nCommands:\n";
  for (const auto& [name, command] : all) {
    out << "  " << name << std::string(10 - std::min<std::size_t>(name.size(), 9), ' ')
        << command.summary << "\n";
  }
  out << "\nRun 'bobsync COMMAND --help' for a command's options.\n";
}

} // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const auto all = commands();
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? err : out, all);
    return args.empty() ? k_exit_error : k_exit_ok;
  }
  const auto it = all.find(args[0]);
  if (it == all.end()) {
    err << "bobsync: error: unknown command '" << args[0] << "'\n";
    print_usage(err, all);
    return k_exit_error;
  }
  const auto& command = it->second;
  po::options_description options(command.usage + "\n\n" + command.summary + "\n\nOptions");
  add_common(options);
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
