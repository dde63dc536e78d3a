// Colours in plan text on a terminal only (NO_COLOR honoured), and the
// thousands separators of the progress counter.

#include "controller/cli/terminal.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <string>
#include <unistd.h>

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

} // namespace
} // namespace bobsync::cli
