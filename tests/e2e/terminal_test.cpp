// Colours in plan text on a terminal only (NO_COLOR honoured), and the
// progress line of the reads and of apply: the real binary on a
// pseudo-terminal against the sandbox's fakes, and in pipes and files.

#include "controller/cli/terminal.hpp"
#include "sandbox/sandbox.hpp"
#include "tests/e2e/e2e_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pty.h>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bobsync::cli {
namespace {

TEST(PlanColours, ColoursLinesByTheirSymbolAndStripsBackToTheText) {
  const std::string text = "+ create Ada  [1001]\n    + email = \"a@x\"\n~ update Bob  [1002]\n"
                           "- suspend Cy  [1003]\n! conflict Di  [1004]\n    reason: x\n"
                           "BLOCKED; nothing will be applied.\nPlan: 1 to create\n";
  const auto coloured = colour_plan_text(text);
  EXPECT_NE(coloured, text);
  EXPECT_EQ(coloured.rfind("\x1b[32m+ create Ada  [1001]\x1b[0m\n", 0), 0u) << coloured;
  EXPECT_NE(coloured.find("\x1b[31m- suspend"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[1;31m! conflict"), std::string::npos);
  EXPECT_NE(coloured.find("\n    reason: x\n"), std::string::npos); // left alone
  EXPECT_EQ(std::regex_replace(coloured, std::regex("\x1b\\[[0-9;]*m"), ""), text);
}

TEST(PlanColours, NeverInAPipeAndNotWithNoColor) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_FALSE(colour_enabled(fds[1]));
  ::close(fds[0]);
  ::close(fds[1]);
  // NO_COLOR set: off even on a terminal (a terminal may not exist here, so
  // only the negative can be checked without one).
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(colour_enabled(STDOUT_FILENO));
  ::unsetenv("NO_COLOR");
}

TEST(Progress, ThousandsSeparators) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(1234), "1,234");
  EXPECT_EQ(thousands(10000), "10,000");
  EXPECT_EQ(thousands(1234567), "1,234,567");
  EXPECT_EQ(thousands(-1234), "-1,234");
}

TEST(Progress, DisabledItWritesNothing) {
  std::ostringstream out;
  {
    ProgressLine line(out, false);
    line.show("reading Bob: 1 employee", true);
    line.clear();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(Progress, RedrawsInPlaceOverTheLongerTextAndErasesItself) {
  std::ostringstream out;
  {
    ProgressLine line(out, true);
    line.show("reading JumpCloud: 100 / 300 users");
    line.show("reading JumpCloud: 300 / 300 users", true); // forced: not throttled
    line.show("done", true);
  }
  const std::string first = "\rreading JumpCloud: 100 / 300 users";
  const std::string second = "\rreading JumpCloud: 300 / 300 users";
  const std::string third = "\rdone" + std::string(30, ' ');
  const std::string erased = "\r" + std::string(4, ' ') + "\r";
  EXPECT_EQ(out.str(), first + second + third + erased);
}

TEST(Progress, ThrottledToTenTimesASecond) {
  std::ostringstream out;
  ProgressLine line(out, true);
  for (int i = 0; i < 1000; ++i) {
    line.show("reading Bob: " + thousands(i) + " employees");
  }
  // The first draw, then none within 100 ms (this loop takes far less).
  EXPECT_EQ(out.str(), "\rreading Bob: 0 employees");
}

namespace fs = std::filesystem;

struct TerminalRun {
  int code = -1;
  std::string terminal; // what the binary wrote to the pseudo-terminal
  std::string out;      // stdout, when it went to a file
  std::string err;      // stderr, when it went to a file
};

// The real binary against the sandbox's seed, its standard streams on a
// pseudo-terminal unless sent to files.
class TerminalE2E : public ::testing::Test {
protected:
  void SetUp() override {
    char dir[] = "/tmp/bobsync-terminal-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    m_dir = dir;
    sandbox::SandboxConfig config;
    config.seed_dir = std::string(BOBSYNC_SOURCE_DIR) + "/examples/sandbox";
    m_sandbox = std::make_unique<sandbox::Sandbox>(config);
    m_env = {"BOB_API_URL=" + m_sandbox->bob().base_url(),
             "JUMPCLOUD_API_URL=" + m_sandbox->jumpcloud().base_url(),
             "BOB_SERVICE_USER_ID=" + config.bob_user,
             "BOB_SERVICE_USER_TOKEN=" + config.bob_token,
             "JUMPCLOUD_API_KEY=" + config.jumpcloud_key,
             "PATH=/usr/bin:/bin",
             "TERM=xterm"};
  }

  void TearDown() override {
    m_sandbox.reset();
    fs::remove_all(m_dir);
  }

  TerminalRun run(const std::string& command,
                  bool out_to_file,
                  bool err_to_file,
                  const std::vector<std::string>& extra_env = {}) {
    const std::string out_path = m_dir + "/stdout";
    const std::string err_path = m_dir + "/stderr";
    std::vector<std::string> args = {BOBSYNC_BINARY,
                                     command,
                                     "-f",
                                     std::string(BOBSYNC_SOURCE_DIR)
                                         + "/examples/desired-state.yaml",
                                     "--db",
                                     m_dir + "/state.db",
                                     "--now",
                                     "2026-11-27"};
    std::vector<std::string> env = m_env;
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    const auto argv = e2e::c_strings(args);
    const auto envp = e2e::c_strings(env);

    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) {
      ADD_FAILURE() << "forkpty: " << std::strerror(errno);
      return {};
    }
    if (pid == 0) { // the child: only async-signal-safe calls until exec
      if (out_to_file) {
        const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, STDOUT_FILENO);
      }
      if (err_to_file) {
        const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    TerminalRun result;
    std::array<char, 4096> buffer{};
    while (true) {
      const ssize_t n = ::read(master, buffer.data(), buffer.size());
      if (n > 0) {
        result.terminal.append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        break; // EIO: the child closed the terminal's last descriptor
      }
    }
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto slurp = [](const std::string& path) {
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      return text.str();
    };
    if (out_to_file) {
      result.out = slurp(out_path);
    }
    if (err_to_file) {
      result.err = slurp(err_path);
    }
    return result;
  }

  std::string m_dir;
  std::unique_ptr<sandbox::Sandbox> m_sandbox;
  std::vector<std::string> m_env;
};

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// The progress line was erased ("\r", spaces, "\r") after its last `text`.
bool erased_after(const std::string& terminal, const std::string& text) {
  const auto last = terminal.rfind(text);
  return last != std::string::npos
         && std::regex_search(terminal.substr(last), std::regex("\r +\r"));
}

TEST_F(TerminalE2E, PlanShowsTheReadsOnTheTerminalAndErasesTheLineBeforeThePlan) {
  const auto r = run("plan", true, false);
  EXPECT_EQ(r.code, 2) << r.terminal; // the seed's standing conflict
  // JumpCloud's listing, its last page always drawn; Bob's search.
  EXPECT_TRUE(std::regex_search(r.terminal, std::regex("reading JumpCloud: ([0-9,]+) / \\1 users")))
      << r.terminal;
  EXPECT_TRUE(has(r.terminal, "reading Bob: ")) << r.terminal;
  EXPECT_TRUE(erased_after(r.terminal, "reading ")) << r.terminal;
  // The plan went to the file, without the line or colours.
  EXPECT_TRUE(has(r.out, "Plan:")) << r.out;
  EXPECT_FALSE(has(r.out, "reading")) << r.out;
  EXPECT_FALSE(has(r.out, "\x1b[")) << r.out;
}

TEST_F(TerminalE2E, PlanOnATerminalIsColouredUnlessNoColor) {
  const auto coloured = run("plan", false, false);
  EXPECT_TRUE(has(coloured.terminal, "\x1b[32m+ create")) << coloured.terminal;
  EXPECT_TRUE(has(coloured.terminal, "Plan:")) << coloured.terminal;

  const auto plain = run("plan", false, false, {"NO_COLOR=1"});
  EXPECT_TRUE(has(plain.terminal, "Plan:")) << plain.terminal;
  EXPECT_FALSE(has(plain.terminal, "\x1b[")) << plain.terminal;
  EXPECT_TRUE(has(plain.terminal, "reading JumpCloud: ")) << plain.terminal; // not a colour
}

TEST_F(TerminalE2E, NoProgressLineWhenStderrIsAFile) {
  const auto r = run("plan", true, true);
  EXPECT_TRUE(has(r.out, "Plan:")) << r.out;
  EXPECT_FALSE(has(r.err, "reading")) << r.err;
  EXPECT_FALSE(has(r.err, "\r")) << r.err;
  EXPECT_EQ(r.terminal, "");
}

TEST_F(TerminalE2E, ApplyCountsTheChangesOnTheTerminalWhileTheirLinesGoToAFile) {
  const auto r = run("apply", true, false);
  EXPECT_EQ(r.code, 0) << r.terminal << r.out;
  EXPECT_TRUE(has(r.out, "ok        create")) << r.out;
  EXPECT_FALSE(has(r.out, "applying")) << r.out;
  EXPECT_TRUE(std::regex_search(r.terminal, std::regex("applying ([0-9,]+) / \\1 changes")))
      << r.terminal;
  EXPECT_TRUE(erased_after(r.terminal, "applying ")) << r.terminal;
}

TEST_F(TerminalE2E, ApplyWithItsLinesOnTheTerminalShowsNoCounterOverThem) {
  const auto r = run("apply", false, false);
  EXPECT_EQ(r.code, 0) << r.terminal;
  EXPECT_TRUE(has(r.terminal, "ok        create")) << r.terminal;
  EXPECT_FALSE(has(r.terminal, "applying")) << r.terminal;
  // The reads' line was erased before the first change's line.
  const auto first = r.terminal.find("ok        ");
  ASSERT_NE(first, std::string::npos);
  EXPECT_TRUE(erased_after(r.terminal.substr(0, first), "reading ")) << r.terminal;
}

} // namespace
} // namespace bobsync::cli
