#include "controller/observability/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bobsync::controller::observability {
namespace {

const auto k_t0 = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795000000123));

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  return lines;
}

LoggerOptions options(LogFormat format, std::ostream& out) {
  LoggerOptions o;
  o.format = format;
  o.out = &out;
  o.now = [] { return k_t0; };
  return o;
}

TEST(Logger, JsonLineHasTimeLevelMessageAndTypedFields) {
  std::ostringstream out;
  Logger log(options(LogFormat::json, out));
  log.info("pass finished",
           {{"run_id", "r-42"}, {"changes", 3}, {"duration_ms", 12.5}, {"blocked", false}});
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 1U);
  const auto object = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(object["time"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(object["level"], "info");
  EXPECT_EQ(object["msg"], "pass finished");
  EXPECT_EQ(object["run_id"], "r-42");
  EXPECT_EQ(object["changes"], 3);
  EXPECT_EQ(object["duration_ms"], 12.5);
  EXPECT_EQ(object["blocked"], false);
  // time, level, msg first: a reader's eye finds them where expected.
  EXPECT_EQ(lines[0].rfind(R"({"time":)", 0), 0U) << lines[0];
}

TEST(Logger, JsonEscapesControlCharactersAndKeepsOneObjectPerLine) {
  std::ostringstream out;
  Logger log(options(LogFormat::json, out));
  const std::string hostile = "Ann\nfake line {\"level\":\"error\"}\r\t\x01\x1b[31m \"q\" \\";
  log.warn(hostile, {{"employee_id", hostile}, {"error", std::string("bad\xff\xfe utf8")}});
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 1U) << out.str();
  const auto object = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(object["msg"], hostile);
  EXPECT_EQ(object["employee_id"], hostile);
  EXPECT_EQ(object["level"], "warn");
  EXPECT_TRUE(object["error"].is_string()) << "invalid UTF-8 is replaced, not a broken line";
  for (const char c : lines[0]) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in the line";
  }
}

TEST(Logger, ReservedKeysCannotOverwriteTimeLevelOrMessage) {
  std::ostringstream out;
  Logger log(options(LogFormat::json, out));
  log.error("real", {{"level", "debug"}, {"msg", "forged"}, {"time", "1970"}});
  const auto object = nlohmann::json::parse(lines_of(out.str()).at(0));
  EXPECT_EQ(object["level"], "error");
  EXPECT_EQ(object["msg"], "real");
  EXPECT_EQ(object["time"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(object["field_msg"], "forged");
}

TEST(Logger, TextLineIsReadableAndCannotBeSplit) {
  std::ostringstream out;
  Logger log(options(LogFormat::text, out));
  log.info("pass finished", {{"run_id", "r-42"}, {"changes", 3}});
  log.warn("bad\nname", {{"employee_id", "a b"}, {"error", "say \"hi\"\n"}});
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2U) << out.str();
  EXPECT_EQ(lines[0], "2026-11-18T11:06:40.123Z INFO  pass finished run_id=r-42 changes=3");
  EXPECT_EQ(lines[1],
            R"(2026-11-18T11:06:40.123Z WARN  bad\nname employee_id="a b" error="say \"hi\"\n")");
}

TEST(Logger, LevelFilters) {
  std::ostringstream out;
  Logger log(options(LogFormat::text, out));
  log.debug("hidden");
  EXPECT_TRUE(out.str().empty());
  log.set_level(LogLevel::debug);
  EXPECT_TRUE(log.enabled(LogLevel::debug));
  log.debug("shown");
  EXPECT_EQ(lines_of(out.str()).size(), 1U);
  log.set_level(LogLevel::error);
  log.warn("hidden");
  EXPECT_EQ(lines_of(out.str()).size(), 1U);
}

TEST(Logger, ARegisteredSecretNeverAppears) {
  const std::string secret = "tok-9f8e7d6c5b4a";
  for (const auto format : {LogFormat::text, LogFormat::json}) {
    std::ostringstream out;
    Logger log(options(format, out));
    log.set_redactor([secret](std::string_view text) {
      std::string s(text);
      for (auto at = s.find(secret); at != std::string::npos; at = s.find(secret)) {
        s.replace(at, secret.size(), "***");
      }
      return s;
    });
    log.error("request failed: Authorization: Basic " + secret,
              {{"error", "curl said " + secret + " was wrong"}, {"url", "https://x/?t=" + secret}});
    EXPECT_EQ(out.str().find(secret), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("***"), std::string::npos) << out.str();
  }
}

TEST(Logger, ParsesFormatAndLevelNames) {
  EXPECT_EQ(parse_log_format("json"), LogFormat::json);
  EXPECT_EQ(parse_log_format("text"), LogFormat::text);
  EXPECT_FALSE(parse_log_format("JSON"));
  EXPECT_FALSE(parse_log_format("yaml"));
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_FALSE(parse_log_level("verbose"));
}

TEST(Logger, ManyThreadsNeverInterleaveLines) {
  std::ostringstream out;
  Logger log(options(LogFormat::json, out));
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 300; ++i) {
        log.info("tick", {{"thread", t}, {"i", i}, {"pad", std::string(200, 'x')}});
        if (i == 150) {
          log.set_redactor([](std::string_view text) { return std::string(text); });
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 1800U);
  for (const auto& line : lines) {
    const auto object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(object.is_discarded()) << line;
    EXPECT_EQ(object["msg"], "tick");
  }
}

} // namespace
} // namespace bobsync::controller::observability
