#include "state/timestamp.hpp"

#include <gtest/gtest.h>

namespace bobsync::state {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;

constexpr sys_days k_day{std::chrono::year{2026} / 11 / 27};

TEST(ParseTimestamp, Forms) {
  EXPECT_EQ(parse_timestamp("2026-11-27"), k_day + hours{12});
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00Z"), k_day + hours{9} + minutes{30});
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00"), k_day + hours{9} + minutes{30});
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00+01:00"), k_day + hours{8} + minutes{30});
  EXPECT_EQ(parse_timestamp("2026-11-27T09:30:00-05:30"), k_day + hours{15});
}

TEST(ParseTimestamp, RejectsNonsense) {
  for (const char* bad : {"",
                          "2026",
                          "2026-02-30",
                          "2026-13-01",
                          "27/11/2026",
                          "2026-11-27T25:00:00Z",
                          "2026-11-27T09:30",
                          "2026-11-27T09:30:00+1",
                          "2026-11-27 09:30:00",
                          "2026-11-27T09:30:00Zjunk",
                          "tomorrow"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

} // namespace
} // namespace bobsync::state
