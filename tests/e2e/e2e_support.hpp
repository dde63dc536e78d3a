#pragma once

// What the end-to-end tests (tests/e2e) and the chaos suite (tests/chaos)
// share: the sandbox's fakes started over loopback HTTP with known
// credentials and the CLI's environment pointed at them, the CLI run
// in-process (cli::run) or as the real binary, and SandboxE2E, the fixture
// most e2e suites derive from (a temporary directory, a SQLite database in
// it, the example policy, a clock the test sets).
//
// Needs BOBSYNC_SOURCE_DIR (and BOBSYNC_BINARY for spawn_binary and
// run_binary) from the build.

#include "controller/cli/cli.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/sandbox.hpp"
#include "state/timestamp.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <spawn.h>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <utility>
#include <vector>

extern char** environ;

namespace bobsync::e2e {

// The default credentials of the e2e suites; fake, but shaped like secrets
// so that a test can search every output for them.
inline const std::string k_bob_user = "svc-e2e-user";
inline const std::string k_bob_token = "bob-token-S3CR3T-e2e-7731";
inline const std::string k_jc_key = "jc-key-S3CR3T-e2e-9920";
inline const std::string k_webhook_secret = "webhook-S3CR3T-e2e-4410";

// Seeded people (examples/sandbox).
inline const std::string k_amelia = "3332883854254931000"; // employeeIdentifier 1001, London
inline const std::string k_admin_id = "5f0c1b2c3d4e5f6a7b8c00f0";

// What the fakes accept and what the CLI is given through the environment.
struct Secrets {
  std::string bob_user = k_bob_user;
  std::string bob_token = k_bob_token;
  std::string jumpcloud_key = k_jc_key;
  // nullopt: the sandbox keeps its own default and BOB_WEBHOOK_SECRET is
  // unset.
  std::optional<std::string> webhook_secret = k_webhook_secret;
};

inline std::string source_path(const std::string& relative) {
  return std::string(BOBSYNC_SOURCE_DIR) + "/" + relative;
}

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline std::chrono::system_clock::time_point parse_time(const std::string& text) {
  return state::parse_timestamp(text).value();
}

// A fresh directory /tmp/<prefix>-XXXXXX; empty when mkdtemp fails.
inline std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  return mkdtemp(pattern.data()) == nullptr ? std::string() : pattern;
}

// The sandbox's fakes with `secrets`, seeded from `seed_dir`, on `clock`.
inline std::unique_ptr<sandbox::Sandbox>
start_sandbox(const Secrets& secrets, sandbox::WallClock clock, const std::string& seed_dir) {
  sandbox::SandboxConfig config;
  config.seed_dir = seed_dir;
  config.bob_user = secrets.bob_user;
  config.bob_token = secrets.bob_token;
  config.jumpcloud_key = secrets.jumpcloud_key;
  if (secrets.webhook_secret) {
    config.webhook_secret = *secrets.webhook_secret;
  }
  config.clock = std::move(clock);
  return std::make_unique<sandbox::Sandbox>(config);
}

// Points the CLI's environment at the sandbox with `secrets`; unsets
// BOBSYNC_NOW, BOBSYNC_DB and `also_unset`.
inline void export_environment(sandbox::Sandbox& sandbox,
                               const Secrets& secrets,
                               const std::vector<std::string>& also_unset = {}) {
  setenv("BOB_API_URL", sandbox.bob().base_url().c_str(), 1);
  setenv("JUMPCLOUD_API_URL", sandbox.jumpcloud().base_url().c_str(), 1);
  setenv("BOB_SERVICE_USER_ID", secrets.bob_user.c_str(), 1);
  setenv("BOB_SERVICE_USER_TOKEN", secrets.bob_token.c_str(), 1);
  setenv("JUMPCLOUD_API_KEY", secrets.jumpcloud_key.c_str(), 1);
  if (secrets.webhook_secret) {
    setenv("BOB_WEBHOOK_SECRET", secrets.webhook_secret->c_str(), 1);
  } else {
    unsetenv("BOB_WEBHOOK_SECRET");
  }
  unsetenv("BOBSYNC_NOW");
  unsetenv("BOBSYNC_DB");
  for (const auto& name : also_unset) {
    unsetenv(name.c_str());
  }
}

// A new employee as hire() in FakeBob takes it: first.last@example.com,
// the seed's title, department and employment type.
inline sandbox::BobEmployee new_employee(const std::string& first,
                                         const std::string& last,
                                         const std::string& start,
                                         const std::string& site = "London",
                                         int eid = 5001) {
  sandbox::BobEmployee e;
  e.set("root.firstName", sandbox::BobValue::string(first));
  e.set("root.surname", sandbox::BobValue::string(last));
  e.set("root.displayName", sandbox::BobValue::string(first + " " + last));
  e.set("root.email", sandbox::BobValue::string(lower(first + "." + last) + "@example.com"));
  e.set("work.startDate", sandbox::BobValue::string(start));
  e.set("work.site", sandbox::BobValue::string(site));
  e.set("work.title", sandbox::BobValue::string("253271805"));
  e.set("work.department", sandbox::BobValue::string("100"));
  e.set("work.employeeIdInCompany", sandbox::BobValue::number(std::to_string(eid)));
  e.set("payroll.employment.type", sandbox::BobValue::string("4501"));
  return e;
}

// ---- running the CLI ----------------------------------------------------------------

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs exactly `args` in-process, with a manual clock (retries never really
// sleep).
inline CliResult run_cli(const std::vector<std::string>& args,
                         std::function<void(std::string_view)> fault_point = {}) {
  cli::Hooks hooks;
  hooks.clock = std::make_shared<controller::ManualClock>();
  hooks.fault_point = std::move(fault_point);
  std::ostringstream out;
  std::ostringstream err;
  CliResult r;
  r.code = cli::run(args, out, err, hooks);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Pointers to `items`' characters, then a null pointer: argv or envp for
// exec. Valid while `items` is unchanged.
inline std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& item : items) {
    out.push_back(item.data());
  }
  out.push_back(nullptr);
  return out;
}

// This process's environment with `extra_env` ("NAME=value") in place of
// the variables it names: getenv finds the first NAME=, so appending alone
// would not override.
inline std::vector<std::string> environment_with(const std::vector<std::string>& extra_env) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const auto name = entry.substr(0, entry.find('=') + 1);
    const bool overridden = std::any_of(
        extra_env.begin(), extra_env.end(), [&](const auto& x) { return x.rfind(name, 0) == 0; });
    if (!overridden) {
      env.push_back(entry);
    }
  }
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  return env;
}

// Starts `program` with `argv` (argv[0] included) and environment_with(
// `extra_env`), its stdout and stderr written to the files named (created
// 0600, truncated; "/dev/null" to drop them). -1 when it cannot be started.
inline pid_t spawn_program(const std::string& program,
                           std::vector<std::string> argv,
                           const std::vector<std::string>& extra_env,
                           const std::string& out_file,
                           const std::string& err_file) {
  auto env = environment_with(extra_env);
  const auto args = c_strings(argv);
  const auto envp = c_strings(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(
      &actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// The real binary with `args`; see spawn_program.
inline pid_t spawn_binary(const std::vector<std::string>& args,
                          const std::vector<std::string>& extra_env,
                          const std::string& out_file,
                          const std::string& err_file) {
  const std::string binary = BOBSYNC_BINARY;
  std::vector<std::string> command{binary};
  command.insert(command.end(), args.begin(), args.end());
  return spawn_program(binary, std::move(command), extra_env, out_file, err_file);
}

// Waits for `pid`: its exit code, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The real binary to the end (as spawn_binary); -1 when it cannot be started.
inline int run_binary(const std::vector<std::string>& args,
                      const std::vector<std::string>& extra_env,
                      const std::string& out_file = "/dev/null",
                      const std::string& err_file = "/dev/null") {
  const pid_t pid = spawn_binary(args, extra_env, out_file, err_file);
  return pid < 0 ? -1 : wait_exit(pid);
}

// ---- the fixture --------------------------------------------------------------------

using Replacements = std::vector<std::pair<std::string, std::string>>;

// The example policy (examples/desired-state.yaml) with some lines replaced;
// a replacement whose text is not found fails the test.
inline std::string example_policy_text(const Replacements& replacements) {
  std::string text = read_all(source_path("examples/desired-state.yaml"));
  for (const auto& [from, to] : replacements) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) {
      text.replace(at, from.size(), to);
    }
  }
  return text;
}

struct SandboxOptions {
  std::string temp_prefix = "bobsync-e2e"; // the directory is /tmp/<temp_prefix>-XXXXXX
  Secrets secrets;
  std::string seed_dir = source_path("examples/sandbox");
  std::string now = "2026-11-27";          // m_now and the fakes' clock at the start
  std::vector<std::string> unset_env = {}; // beyond BOBSYNC_NOW and BOBSYNC_DB
};

// A sandbox, a temporary directory (m_dir) holding the database (m_db) and
// the example policy (m_policy, written by write_policy), the environment
// pointed at the fakes, and the fakes' clock at m_now (set_now moves it).
class SandboxE2E : public ::testing::Test {
protected:
  explicit SandboxE2E(SandboxOptions options = {})
      : m_options(std::move(options)) {}

  void SetUp() override {
    m_dir = make_temp_dir(m_options.temp_prefix);
    ASSERT_FALSE(m_dir.empty());
    m_db = m_dir + "/state.db";
    set_now(m_options.now);
    m_sandbox = start_sandbox(
        m_options.secrets, [this] { return m_fake_now.load(); }, m_options.seed_dir);
    export_environment(*m_sandbox, m_options.secrets, m_options.unset_env);
    m_policy = write_policy("policy.yaml", {});
  }

  void TearDown() override {
    m_sandbox.reset();
    std::filesystem::remove_all(m_dir);
  }

  void set_now(const std::string& now) {
    m_now = now;
    m_fake_now.store(parse_time(now));
  }

  // The example policy with some lines replaced, written to m_dir/name; its
  // path.
  virtual std::string write_policy(const std::string& name, const Replacements& replacements) {
    const auto path = m_dir + "/" + name;
    std::ofstream(path) << example_policy_text(replacements);
    return path;
  }

  // In-process; plan, apply and explain get -f m_policy (unless given) and
  // --now m_now, every command --db m_db. Everything printed goes to
  // m_transcript.
  CliResult cli(std::vector<std::string> args) {
    const auto& command = args.front();
    if (command == "plan" || command == "apply" || command == "explain") {
      if (std::find(args.begin(), args.end(), "-f") == args.end()) {
        args.insert(args.end(), {"-f", m_policy});
      }
      args.insert(args.end(), {"--now", m_now});
    }
    args.insert(args.end(), {"--db", m_db});
    auto r = run_cli(args, m_fault_point);
    m_transcript += r.out + r.err;
    return r;
  }

  std::vector<nlohmann::json> users() const {
    std::vector<nlohmann::json> out;
    for (const auto& text : m_sandbox->jumpcloud().users_json()) {
      out.push_back(nlohmann::json::parse(text));
    }
    return out;
  }

  std::vector<nlohmann::json> users_with_email(const std::string& email) const {
    std::vector<nlohmann::json> out;
    for (auto& u : users()) {
      if (lower(u.value("email", "")) == lower(email)) {
        out.push_back(u);
      }
    }
    return out;
  }

  static std::string attribute(const nlohmann::json& user, const std::string& name) {
    for (const auto& a : user.value("attributes", nlohmann::json::array())) {
      if (a.value("name", "") == name) {
        return a.value("value", "");
      }
    }
    return {};
  }

  std::optional<nlohmann::json> user_of(const std::string& employee_id) const {
    for (auto& u : users()) {
      if (attribute(u, "bobEmployeeId") == employee_id) {
        return u;
      }
    }
    return std::nullopt;
  }

  // No two JumpCloud users share an email (in any case).
  void expect_unique_emails() const {
    std::set<std::string> emails;
    for (const auto& u : users()) {
      EXPECT_TRUE(emails.insert(lower(u.value("email", ""))).second) << u.dump();
    }
  }

  // No two JumpCloud users share an email or an employeeIdentifier.
  void expect_no_duplicates() const {
    std::set<std::string> emails;
    std::set<std::string> eids;
    for (const auto& u : users()) {
      EXPECT_TRUE(emails.insert(lower(u.value("email", ""))).second) << u.dump();
      const auto eid = u.value("employeeIdentifier", "");
      if (!eid.empty()) {
        EXPECT_TRUE(eids.insert(eid).second) << u.dump();
      }
    }
  }

  // Hires first last in Bob, starting on `start` at `site`; the Bob id.
  std::string hire(const std::string& first,
                   const std::string& last,
                   const std::string& start,
                   const std::string& site = "London",
                   int eid = 5001) {
    return m_sandbox->bob().hire(new_employee(first, last, start, site, eid));
  }

  // A converged plan: the seed's two Alex Morgans share an email, so it still
  // reports that conflict, and `plan` exits 2 for conflicts (issue 9 §8).
  static bool nothing_to_apply(const CliResult& r) {
    return r.code == 2
           && r.out.find("Nothing to apply, but 2 conflicts need attention") != std::string::npos;
  }

  sandbox::FakeBob& bob() { return m_sandbox->bob(); }
  sandbox::FakeJumpCloud& jumpcloud() { return m_sandbox->jumpcloud(); }

  const SandboxOptions m_options;
  std::string m_dir;
  std::string m_db;
  std::string m_policy;
  std::string m_now;
  std::string m_transcript; // everything cli() printed
  std::atomic<std::chrono::system_clock::time_point> m_fake_now{};
  std::function<void(std::string_view)> m_fault_point;
  std::unique_ptr<sandbox::Sandbox> m_sandbox;
};

} // namespace bobsync::e2e
