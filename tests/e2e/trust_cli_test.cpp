// End to end (issue 9): the command line refuses bad input with clear
// errors, keeps its files private and its words true. The CLI runs
// in-process (cli::run) against the sandbox's fakes over loopback HTTP, as
// in cli_test.cpp; one test runs the real binary.

#include "state/sqlite/sqlite_store.hpp"
#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace bobsync {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using e2e::CliResult;
using e2e::k_bob_token;
using e2e::k_jc_key;
using e2e::read_all;
using e2e::run_binary;

e2e::SandboxOptions trust_cli_options() {
  e2e::SandboxOptions options;
  options.temp_prefix = "bobsync-trust-e2e";
  options.unset_env = {"JUMPCLOUD_API_KEY_FILE"};
  return options;
}

class TrustCliE2E : public e2e::SandboxE2E {
protected:
  TrustCliE2E()
      : SandboxE2E(trust_cli_options()) {}

  // Runs exactly `args` (no options added).
  static CliResult raw(const std::vector<std::string>& args) { return e2e::run_cli(args); }

  // Every command with -f, --now and --db added unless given (in place of
  // SandboxE2E::cli, which adds them to plan, apply and explain alone).
  CliResult cli(std::vector<std::string> args) const {
    const auto has = [&](const char* option) {
      return std::find(args.begin(), args.end(), option) != args.end();
    };
    if (!has("-f")) {
      args.insert(args.end(), {"-f", m_policy});
    }
    if (!has("--now")) {
      args.insert(args.end(), {"--now", m_now});
    }
    if (!has("--db")) {
      args.insert(args.end(), {"--db", m_db});
    }
    return raw(args);
  }

  std::string hire_future_starter() { return hire("Mia", "Tanaka", "2026-12-07"); }
};

// ---- §5: --now has a range ----------------------------------------------------------

TEST_F(TrustCliE2E, NowOutsideItsRangeIsRefused) {
  for (const auto* now : {"2262-04-12", "2200-01-01", "1969-12-31", "12026-01-01"}) {
    const auto r = cli({"plan", "--now", now});
    EXPECT_EQ(r.code, 1) << now;
    EXPECT_NE(r.err.find("--now / BOBSYNC_NOW: '" + std::string(now)
                         + "' is out of range: give a moment from 1970-01-01 to 2199-12-31"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(m_sandbox->jumpcloud().write_count(), 0U);
  }
  setenv("BOBSYNC_NOW", "2262-04-12", 1);
  EXPECT_NE(raw({"plan", "-f", m_policy, "--db", m_db}).err.find("out of range"),
            std::string::npos);
  unsetenv("BOBSYNC_NOW");
  for (const auto* now : {"2199-12-31", "1970-01-01"}) {
    const auto r = cli({"plan", "--now", now});
    EXPECT_NE(r.code, 1) << now << ": " << r.err;
  }
}

// ---- §6: credentials, plan files ----------------------------------------------------

TEST_F(TrustCliE2E, CredentialsWithControlCharactersAreRefusedByName) {
  setenv("JUMPCLOUD_API_KEY", (k_jc_key + "\r\nX-Injected: yes").c_str(), 1);
  auto r = cli({"plan"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("JUMPCLOUD_API_KEY contains a control character"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("X-Injected"), std::string::npos) << "the value is never printed";
  EXPECT_EQ(r.err.find(k_jc_key), std::string::npos);

  setenv("BOB_SERVICE_USER_TOKEN", "tab\there", 1);
  setenv("JUMPCLOUD_API_KEY", k_jc_key.c_str(), 1);
  r = cli({"plan"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("BOB_SERVICE_USER_TOKEN contains a control character"), std::string::npos)
      << r.err;

  // From a file: the trailing newline is stripped, one inside is refused.
  setenv("BOB_SERVICE_USER_TOKEN", k_bob_token.c_str(), 1);
  unsetenv("JUMPCLOUD_API_KEY");
  const auto file = m_dir + "/key";
  std::ofstream(file) << k_jc_key << "\nsecond line\n";
  setenv("JUMPCLOUD_API_KEY_FILE", file.c_str(), 1);
  r = cli({"plan"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("JUMPCLOUD_API_KEY_FILE ('" + file + "') contains a control character"),
            std::string::npos)
      << r.err;
  std::ofstream(file) << k_jc_key << "\n";
  r = cli({"plan"});
  EXPECT_EQ(r.code, 2) << r.err;
}

unsigned mode_of(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777U;
}

TEST_F(TrustCliE2E, PlanOutFileIsPrivateEvenWhenItExistedWithAWiderMode) {
  const auto fresh = m_dir + "/fresh.json";
  const auto existing = m_dir + "/existing.json";
  std::ofstream(existing) << "old";
  ASSERT_EQ(::chmod(existing.c_str(), 0644), 0);

  ASSERT_EQ(cli({"plan", "--out", fresh}).code, 2);
  ASSERT_EQ(cli({"plan", "--out", existing}).code, 2);

  EXPECT_EQ(mode_of(fresh), 0600U);
  EXPECT_EQ(mode_of(existing), 0600U);
  EXPECT_FALSE(json::parse(read_all(existing))["changes"].empty());
  for (const auto& entry : fs::directory_iterator(m_dir)) {
    EXPECT_EQ(entry.path().string().find(".json."), std::string::npos)
        << "no temporary file is left: " << entry.path();
  }
  const auto unwritable = cli({"plan", "--out", m_dir + "/no/such/dir/plan.json"});
  EXPECT_EQ(unwritable.code, 1);
  EXPECT_NE(unwritable.err.find("cannot write the plan to '" + m_dir + "/no/such/dir/plan.json'"),
            std::string::npos)
      << unwritable.err;
}

// ---- §5: the policy file's limits --------------------------------------------------

TEST_F(TrustCliE2E, PolicyThatIsNotASmallRegularFileIsRefusedWithWhatIsWrong) {
  const auto fifo = m_dir + "/fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto large = m_dir + "/large.yaml";
  {
    std::ofstream out(large);
    out << "version: 1\n# " << std::string(std::size_t{1} << 20U, 'x') << "\n";
  }
  const std::vector<std::pair<std::string, std::string>> cases = {
      {m_dir + "/missing.yaml", "policy file '" + m_dir + "/missing.yaml' does not exist"},
      {m_dir, "policy file '" + m_dir + "' is a directory, not a file"},
      {"/dev/zero", "policy file '/dev/zero' is not a regular file (a device, FIFO or socket)"},
      {fifo, "policy file '" + fifo + "' is not a regular file (a device, FIFO or socket)"},
      {large, "policy file '" + large + "' is larger than 1024 KiB, the most bobsync reads for it"},
  };
  for (const auto& [path, message] : cases) {
    const auto started = std::chrono::steady_clock::now();
    const auto r = raw({"validate", "-f", path});
    EXPECT_EQ(r.code, 1) << path;
    EXPECT_EQ(r.err, "bobsync: error: " + message + "\n");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << path;
  }
}

TEST_F(TrustCliE2E, AnUnreadablePolicyIsNotReportedAsMissing) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root reads any file";
  }
  ASSERT_EQ(::chmod(m_policy.c_str(), 0), 0);
  const auto r = raw({"validate", "-f", m_policy});
  EXPECT_EQ(r.err,
            "bobsync: error: policy file '" + m_policy + "' cannot be read: permission denied\n");
}

TEST_F(TrustCliE2E, PolicyDiagnosticsArePrintedUpToACap) {
  std::string text = "version: 1\n";
  for (int i = 0; i < 300; ++i) {
    text += "unknownKey" + std::to_string(i) + ": x\n";
  }
  const auto path = m_dir + "/many.yaml";
  std::ofstream(path) << text;

  const auto r = raw({"validate", "-f", path});

  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknownKey49"), std::string::npos);
  EXPECT_EQ(r.err.find("unknownKey50'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n... and 250 more\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is not a valid policy (300 problems)"), std::string::npos) << r.err;
}

// ---- §2: one writer per database file, whatever its name -------------------------------

TEST_F(TrustCliE2E, ApplyByASymlinkOrAnotherPathIsRefusedWhileTheDatabaseIsHeld) {
  ASSERT_EQ(cli({"plan"}).code, 2);
  auto held = state::SqliteStore::open(m_db, state::OpenMode::writer, "bobsync run");
  const auto link = m_dir + "/link.db";
  fs::create_symlink(m_db, link);
  const auto writes = m_sandbox->jumpcloud().write_count();

  for (const auto& path : {link,
                           m_dir + "/./state.db",
                           m_dir + "/../" + fs::path(m_dir).filename().string() + "/state.db"}) {
    const auto r = cli({"apply", "--db", path});
    EXPECT_EQ(r.code, 1) << path;
    EXPECT_NE(r.err.find("another bobsync process is applying to " + path
                         + ": held by bobsync run (pid " + std::to_string(::getpid())
                         + "); wait for it to finish or stop it"),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(m_sandbox->jumpcloud().write_count(), writes) << "nothing was sent";

  held.reset();
  const auto applied = cli({"apply", "--db", link});
  EXPECT_EQ(applied.code, 0) << applied.err;
  // apply recorded itself in the lock file of the file the link names.
  EXPECT_EQ(read_all(m_db + ".lock"), std::to_string(::getpid()) + " bobsync apply\n");
  EXPECT_FALSE(fs::exists(link + ".lock"));
}

// ---- §5: a damaged database ---------------------------------------------------------

TEST_F(TrustCliE2E, ADamagedDatabaseIsRefusedWithWhatToDo) {
  ASSERT_EQ(cli({"apply"}).code, 0);
  const auto size = fs::file_size(m_db);
  {
    std::fstream file(m_db, std::ios::binary | std::ios::in | std::ios::out);
    file.seekp(static_cast<std::streamoff>(size / 2));
    const std::string garbage(static_cast<std::size_t>(size / 2), '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  const auto writes = m_sandbox->jumpcloud().write_count();
  for (const auto* command : {"apply", "plan", "status"}) {
    const auto r =
        std::string(command) == "status" ? raw({"status", "--db", m_db}) : cli({command});
    EXPECT_EQ(r.code, 1) << command;
    EXPECT_NE(r.err.find("state database " + m_db + " is damaged"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Restore it from a backup"), std::string::npos) << r.err;
  }
  EXPECT_EQ(m_sandbox->jumpcloud().write_count(), writes);
}

// ---- §8: words -------------------------------------------------------------------

TEST_F(TrustCliE2E, VersionIsPrinted) {
  for (const auto* flag : {"--version", "version"}) {
    const auto r = raw({flag});
    EXPECT_EQ(r.code, 0) << flag;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("^bobsync [0-9]+\\.[0-9]+\\.[0-9]+"))) << r.out;
  }
}

// Every option a command's --help lists is in its usage line, and no
// command lists an option it does not use.
TEST_F(TrustCliE2E, UsageLinesListEveryOptionOfTheirCommand) {
  for (const auto* command :
       {"validate", "plan", "apply", "status", "history", "explain", "sandbox"}) {
    const auto r = raw({command, "--help"});
    ASSERT_EQ(r.code, 0) << command;
    const auto usage = r.out.substr(0, r.out.find('\n'));
    const std::regex option("\n  (-[a-z] \\[ )?(--[a-z-]+)");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), option);
         it != std::sregex_iterator();
         ++it) {
      const auto name = (*it)[2].str();
      if (name == "--help" || name == "--id") { // --id: the positional ID
        continue;
      }
      const auto spelled = (*it)[1].matched ? (*it)[1].str().substr(0, 2) : name;
      EXPECT_NE(usage.find(spelled), std::string::npos)
          << command << ": " << spelled << " missing from: " << usage;
    }
  }
  for (const auto* command : {"validate", "sandbox"}) {
    const auto help = raw({command, "--help"}).out;
    for (const auto* unused : {"--db", "--now", "--log-format"}) {
      EXPECT_EQ(help.find(unused), std::string::npos) << command << " lists " << unused;
    }
    const auto r = raw({command, "--db", m_db, "--help"});
    EXPECT_EQ(r.code, 1) << command << " accepts --db";
  }
}

TEST_F(TrustCliE2E, LogFormatIsOnlyOnTheControllerAndOnlyTextOrJson) {
  for (const auto* command : {"validate", "plan", "apply", "status", "history", "explain"}) {
    const auto r = raw({command, "--log-format", "json", "--help"});
    EXPECT_EQ(r.code, 1) << command << " accepts --log-format";
  }
  const auto bad = raw({"run", "-f", m_policy, "--log-format", "xml"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("--log-format: expected text or json, got 'xml'"), std::string::npos)
      << bad.err;
  EXPECT_NE(raw({"run", "--help"}).out.find("--log-format"), std::string::npos);
}

TEST_F(TrustCliE2E, RunHelpNamesEverySecretItReads) {
  const auto help = raw({"run", "--help"}).out;
  for (const auto* variable : {"BOB_WEBHOOK_SECRET", "BOBSYNC_STATUS_TOKEN"}) {
    EXPECT_NE(help.find(variable), std::string::npos) << variable << "\n" << help;
  }
}

TEST_F(TrustCliE2E, ExplainOfAnEmployeeWithoutAnAccountSaysSoAndWhy) {
  const auto id = hire_future_starter();
  const auto r = cli({"explain", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("the JumpCloud user is in line"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("account: there is no JumpCloud account yet; the plan below says what "
                       "happens and when (lifecycle: pending: starts on 2026-12-07)"),
            std::string::npos)
      << r.out;

  // Out of scope: nothing is planned, and it says why.
  const auto out_of_scope = m_dir + "/out-of-scope.yaml";
  auto text = read_all(m_policy);
  text.replace(text.find("scope:\n"), 7, "scope:\n  exclude: {sites: [London]}\n");
  std::ofstream(out_of_scope) << text;
  const auto excluded = cli({"explain", id, "-f", out_of_scope});
  ASSERT_EQ(excluded.code, 0) << excluded.err;
  EXPECT_EQ(excluded.out.find("in line"), std::string::npos) << excluded.out;
  EXPECT_NE(excluded.out.find("account: there is no JumpCloud account yet; none is created while "
                              "the employee is out of scope ("),
            std::string::npos)
      << excluded.out;
  EXPECT_NE(excluded.out.find("plan: nothing to do now\n"), std::string::npos) << excluded.out;
}

// ---- §6: a killed apply leaves a line per change it made ---------------------------

TEST_F(TrustCliE2E, AKilledApplyLeavesALineForEveryChangeItMade) {
  // One write at a time: the sixth call's crash comes after five settled changes.
  auto text = read_all(m_policy);
  const auto at = text.find("writeConcurrency: 4");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 19, "writeConcurrency: 1");
  std::ofstream(m_policy) << text;
  const auto out = m_dir + "/apply.out";
  const int code = run_binary({"apply", "-f", m_policy, "--db", m_db, "--now", m_now},
                              {"BOBSYNC_CRASH_AT=after_call:6"},
                              out);
  ASSERT_EQ(code, 137);
  const auto printed = read_all(out);
  std::size_t lines = 0;
  for (std::size_t from = printed.find("ok        create "); from != std::string::npos;
       from = printed.find("ok        create ", from + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 5U) << printed;
}

} // namespace
} // namespace bobsync
