// `bobsync completion bash|zsh`: the scripts name every command of
// `bobsync --help` and every option of each command's --help.

#include "controller/cli/cli.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace bobsync::cli {
namespace {

std::string run_cli(const std::vector<std::string>& args, int expected = 0) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(run(args, out, err), expected) << err.str();
  return out.str();
}

// The command names listed under "Commands:" in `bobsync --help`.
std::vector<std::string> help_commands() {
  std::istringstream in(run_cli({"--help"}));
  std::vector<std::string> names;
  bool listing = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "Commands:") {
      listing = true;
    } else if (listing && line.empty()) {
      break;
    } else if (listing) {
      std::istringstream words(line);
      std::string name;
      words >> name;
      names.push_back(name);
    }
  }
  return names;
}

// The long options of `bobsync COMMAND --help` (lines "  -f [ --file ] arg" or "  --db arg").
std::set<std::string> help_options(const std::string& command) {
  std::set<std::string> options;
  std::istringstream in(run_cli({command, "--help"}));
  const std::regex option(R"(^\s+(?:-\w \[ )?--([a-z][a-z0-9-]*))");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option)) {
      options.insert(m[1]);
    }
  }
  return options;
}

TEST(Completion, BashNamesEveryCommandAndOption) {
  const auto script = run_cli({"completion", "bash"});
  const auto commands = help_commands();
  ASSERT_GE(commands.size(), 9u);
  for (const auto& command : commands) {
    if (command == "completion") {
      continue;
    }
    const auto at = script.find("\n    " + command + ") opts=\"");
    ASSERT_NE(at, std::string::npos) << command;
    auto line = script.substr(at + 1, script.find('\n', at + 1) - at - 1);
    std::replace(line.begin(), line.end(), '"', ' ');
    const auto options = help_options(command);
    ASSERT_FALSE(options.empty()) << command;
    for (const auto& option : options) {
      EXPECT_NE(line.find(" --" + option + " "), std::string::npos)
          << command << " --" << option << " missing from: " << line;
    }
  }
  EXPECT_NE(script.find("complete -o default -F _bobsync bobsync"), std::string::npos);
}

TEST(Completion, ZshNamesEveryCommand) {
  const auto script = run_cli({"completion", "zsh"});
  EXPECT_EQ(script.rfind("#compdef bobsync", 0), 0u);
  for (const auto& command : help_commands()) {
    EXPECT_NE(script.find("'" + command + ":"), std::string::npos) << command;
  }
  EXPECT_NE(script.find("{-f,--file}"), std::string::npos);
}

TEST(Completion, AnUnknownShellIsAnError) {
  run_cli({"completion", "fish"}, 1);
  run_cli({"completion"}, 1);
}

} // namespace
} // namespace bobsync::cli
