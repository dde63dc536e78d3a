#include "controller/observability/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bobsync::controller::observability {
namespace {

using namespace std::chrono_literals;

// A strict reader of the Prometheus text exposition format 0.0.4: every line
// is a # HELP, a # TYPE or a sample; names and label names are valid; label
// values use only the \\, \" and \n escapes; values are numbers; a family's
// TYPE comes before its samples and only once; no series twice. Returns the
// samples as "name{a="x",b="y"}" (labels sorted) -> value, or fails the test.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::vector<std::string> errors;
};

bool valid_metric_name(const std::string& name) {
  static const std::regex k_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(name, k_name);
}

bool valid_label_name(const std::string& name) {
  static const std::regex k_name("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(name, k_name) && name.rfind("__", 0) != 0;
}

std::optional<double> parse_value(const std::string& text) {
  if (text == "+Inf") {
    return INFINITY;
  }
  if (text == "-Inf") {
    return -INFINITY;
  }
  if (text == "NaN") {
    return NAN;
  }
  static const std::regex k_number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(text, k_number)) {
    return std::nullopt;
  }
  return std::stod(text);
}

// The family a sample belongs to: histogram series carry suffixes.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const auto base = name.substr(0, name.size() - s.size());
      const auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) {
        return base;
      }
    }
  }
  return name;
}

Exposition parse_exposition(const std::string& text) {
  Exposition out;
  auto fail = [&out](std::size_t line_no, const std::string& why, const std::string& line) {
    out.errors.push_back("line " + std::to_string(line_no) + ": " + why + ": " + line);
  };
  if (text.empty() || text.back() != '\n') {
    out.errors.emplace_back("the exposition does not end with a newline");
  }
  std::set<std::string> helped;
  std::set<std::string> families_with_samples;
  std::istringstream in(text);
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) {
      fail(line_no, "empty line", line);
      continue;
    }
    if (line[0] == '#') {
      static const std::regex k_help(R"(# HELP ([^ ]+) (.*))");
      static const std::regex k_type(R"(# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped))");
      std::smatch m;
      if (std::regex_match(line, m, k_help)) {
        const std::string help = m[2];
        for (std::size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\'
              && (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n'))) {
            fail(line_no, "bad escape in HELP", line);
          }
          if (help[i] == '\\') {
            ++i;
          }
        }
        if (!valid_metric_name(m[1]) || !helped.insert(m[1]).second) {
          fail(line_no, "bad or repeated HELP", line);
        }
      } else if (std::regex_match(line, m, k_type)) {
        if (!valid_metric_name(m[1]) || out.types.count(m[1]) != 0
            || families_with_samples.count(m[1]) != 0) {
          fail(line_no, "bad, repeated or late TYPE", line);
        }
        out.types[m[1]] = m[2];
      } else {
        fail(line_no, "a comment that is neither HELP nor TYPE", line);
      }
      continue;
    }
    // name{labels} value [timestamp]
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') {
      ++i;
    }
    const std::string name = line.substr(0, i);
    if (!valid_metric_name(name)) {
      fail(line_no, "bad metric name", line);
      continue;
    }
    std::map<std::string, std::string> labels;
    bool ok = true;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (ok && i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          ok = false;
          break;
        }
        const std::string label = line.substr(i, eq - i);
        if (!valid_label_name(label) || eq + 1 >= line.size() || line[eq + 1] != '"') {
          ok = false;
          break;
        }
        std::string value;
        std::size_t j = eq + 2;
        bool closed = false;
        for (; j < line.size(); ++j) {
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) {
              break;
            }
            const char e = line[j + 1];
            if (e == '\\' || e == '"') {
              value += e;
            } else if (e == 'n') {
              value += '\n';
            } else {
              break; // any other escape is invalid
            }
            ++j;
          } else if (line[j] == '"') {
            closed = true;
            break;
          } else {
            value += line[j];
          }
        }
        if (!closed || !labels.emplace(label, value).second) {
          ok = false;
          break;
        }
        i = j + 1;
        if (i < line.size() && line[i] == ',') {
          ++i;
        }
      }
      if (!ok || i >= line.size() || line[i] != '}') {
        fail(line_no, "bad labels", line);
        continue;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail(line_no, "no space before the value", line);
      continue;
    }
    std::istringstream rest(line.substr(i + 1));
    std::string value_text;
    std::string timestamp;
    std::string extra;
    rest >> value_text >> timestamp >> extra;
    const auto value = parse_value(value_text);
    if (!value || !extra.empty()
        || (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?\\d+")))) {
      fail(line_no, "bad value", line);
      continue;
    }
    const auto family = family_of(name, out.types);
    if (out.types.count(family) == 0) {
      fail(line_no, "sample before its TYPE", line);
    }
    families_with_samples.insert(family);
    std::string key = name + "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
      key += (first ? "" : ",") + k + "=\"" + v + "\"";
      first = false;
    }
    key += "}";
    if (!out.samples.emplace(key, *value).second) {
      fail(line_no, "duplicate series", line);
    }
  }
  return out;
}

double sample(const Exposition& e, const std::string& key) {
  const auto it = e.samples.find(key);
  if (it == e.samples.end()) {
    ADD_FAILURE() << "no sample " << key;
    return NAN;
  }
  return it->second;
}

TEST(PrometheusChecker, RejectsWhatIsNotTheTextFormat) {
  // The checker itself must be able to fail.
  EXPECT_TRUE(parse_exposition("# TYPE a counter\na 1\n").errors.empty());
  EXPECT_FALSE(parse_exposition("a 1\n").errors.empty()) << "no TYPE";
  EXPECT_FALSE(parse_exposition("# TYPE a counter\na 1").errors.empty()) << "no final newline";
  EXPECT_FALSE(parse_exposition("# TYPE a counter\na{x=\"1\\t\"} 1\n").errors.empty()) << "escape";
  EXPECT_FALSE(parse_exposition("# TYPE a counter\na{x=\"1} 1\n").errors.empty()) << "unclosed";
  EXPECT_FALSE(parse_exposition("# TYPE 1a counter\n1a 1\n").errors.empty()) << "name";
  EXPECT_FALSE(parse_exposition("# TYPE a counter\na one\n").errors.empty()) << "value";
  EXPECT_FALSE(parse_exposition("# TYPE a counter\na 1\na 2\n").errors.empty()) << "twice";
  EXPECT_FALSE(parse_exposition("# TYPE a counter\na{b-c=\"1\"} 1\n").errors.empty()) << "label";
  EXPECT_FALSE(parse_exposition("# hello\n").errors.empty()) << "comment";
}

TEST(Metrics, FreshRegistryIsValidAndHasTheSeriesAlertsNeed) {
  Metrics metrics("1.2.3");
  const auto e = parse_exposition(metrics.serialize());
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  EXPECT_EQ(sample(e, R"(bobsync_passes_total{kind="full",result="failed"})"), 0);
  EXPECT_EQ(sample(e, R"(bobsync_webhook_requests_total{result="unauthorized"})"), 0);
  EXPECT_EQ(sample(e, "bobsync_last_successful_pass_timestamp_seconds{}"), 0);
  EXPECT_EQ(sample(e, "bobsync_consecutive_failed_passes{}"), 0);
  EXPECT_EQ(sample(e, "bobsync_policy_valid{}"), 0);
  EXPECT_EQ(sample(e, R"(bobsync_build_info{version="1.2.3"})"), 1);
  EXPECT_EQ(e.types.at("bobsync_pass_duration_seconds"), "histogram");
  EXPECT_EQ(e.types.at("bobsync_passes_total"), "counter");
  EXPECT_EQ(e.types.at("bobsync_queue_depth"), "gauge");
}

TEST(Metrics, RecordsEveryKindOfEvent) {
  Metrics metrics;
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));
  metrics.pass_finished(PassKind::full, PassResult::ok, 2.5s, t0);
  metrics.pass_finished(PassKind::targeted, PassResult::failed, 30ms, t0 + 60s);
  metrics.pass_finished(PassKind::targeted, PassResult::failed, 40ms, t0 + 120s);
  metrics.change_applied("create", "ok", 3);
  metrics.change_applied("suspend", "failed");
  metrics.api_request("jumpcloud", "PUT", 200, 12ms);
  metrics.api_request("jumpcloud", "PUT", 200, 20ms);
  metrics.api_request("bob", "POST", 429, 5ms);
  metrics.api_request("bob", "POST", 0, 10s);
  metrics.api_retry("bob");
  metrics.set_open_conflicts(4);
  metrics.plan_blocked(true);
  metrics.set_queue_depth(17);
  metrics.webhook_request(WebhookResult::accepted);
  metrics.webhook_request(WebhookResult::unauthorized);
  metrics.webhook_request(WebhookResult::unauthorized);
  metrics.webhook_event("employee.updated");
  metrics.webhook_event("timeoff.request.created");
  metrics.webhook_event("x\"y\\z\nw"); // hostile: must not become a label
  metrics.set_policy(3, false);
  metrics.policy_reload_failed();

  const auto e = parse_exposition(metrics.serialize());
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  EXPECT_EQ(sample(e, R"(bobsync_passes_total{kind="full",result="ok"})"), 1);
  EXPECT_EQ(sample(e, R"(bobsync_passes_total{kind="targeted",result="failed"})"), 2);
  EXPECT_EQ(sample(e, R"(bobsync_pass_duration_seconds_count{kind="targeted"})"), 2);
  EXPECT_EQ(sample(e, R"(bobsync_pass_duration_seconds_bucket{kind="full",le="1"})"), 0);
  EXPECT_EQ(sample(e, R"(bobsync_pass_duration_seconds_bucket{kind="full",le="+Inf"})"), 1);
  EXPECT_DOUBLE_EQ(sample(e, R"(bobsync_pass_duration_seconds_sum{kind="full"})"), 2.5);
  EXPECT_EQ(sample(e, "bobsync_consecutive_failed_passes{}"), 2);
  EXPECT_EQ(sample(e, "bobsync_last_successful_pass_timestamp_seconds{}"), 1795000000);
  EXPECT_EQ(sample(e, R"(bobsync_changes_total{action="create",result="ok"})"), 3);
  EXPECT_EQ(sample(e, R"(bobsync_changes_total{action="suspend",result="failed"})"), 1);
  EXPECT_EQ(sample(e, R"(bobsync_api_requests_total{api="jumpcloud",method="PUT",status="200"})"),
            2);
  EXPECT_EQ(sample(e, R"(bobsync_api_requests_total{api="bob",method="POST",status="429"})"), 1);
  EXPECT_EQ(sample(e, R"(bobsync_api_requests_total{api="bob",method="POST",status="error"})"), 1);
  EXPECT_EQ(
      sample(e, R"(bobsync_api_request_duration_seconds_count{api="jumpcloud",method="PUT"})"), 2);
  EXPECT_EQ(sample(e, R"(bobsync_api_retries_total{api="bob"})"), 1);
  EXPECT_EQ(sample(e, "bobsync_open_conflicts{}"), 4);
  EXPECT_EQ(sample(e, "bobsync_blocked_plans_total{}"), 1);
  EXPECT_EQ(sample(e, "bobsync_last_plan_blocked{}"), 1);
  EXPECT_EQ(sample(e, "bobsync_queue_depth{}"), 17);
  EXPECT_EQ(sample(e, R"(bobsync_webhook_requests_total{result="accepted"})"), 1);
  EXPECT_EQ(sample(e, R"(bobsync_webhook_requests_total{result="unauthorized"})"), 2);
  EXPECT_EQ(sample(e, R"(bobsync_webhook_events_total{type="employee.updated"})"), 1);
  EXPECT_EQ(sample(e, R"(bobsync_webhook_events_total{type="other"})"), 2);
  EXPECT_EQ(sample(e, "bobsync_policy_generation{}"), 3);
  EXPECT_EQ(sample(e, "bobsync_policy_valid{}"), 0);
  EXPECT_EQ(sample(e, "bobsync_policy_reload_failures_total{}"), 1);

  // A pass that is not a failure ends the streak.
  metrics.pass_finished(PassKind::full, PassResult::blocked, 1s, t0 + 180s);
  metrics.plan_blocked(false);
  const auto after = parse_exposition(metrics.serialize());
  EXPECT_EQ(sample(after, "bobsync_consecutive_failed_passes{}"), 0);
  EXPECT_EQ(sample(after, "bobsync_last_successful_pass_timestamp_seconds{}"), 1795000180);
  EXPECT_EQ(sample(after, "bobsync_last_plan_blocked{}"), 0);
  EXPECT_EQ(sample(after, "bobsync_blocked_plans_total{}"), 1);
}

TEST(Metrics, EscapesLabelValues) {
  Metrics metrics("v\"1\\\n2");
  metrics.change_applied("we\"ird\\act\nion", "ok");
  const auto e = parse_exposition(metrics.serialize());
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  EXPECT_EQ(sample(e, "bobsync_build_info{version=\"v\"1\\\n2\"}"), 1);
  EXPECT_EQ(sample(e, "bobsync_changes_total{action=\"we\"ird\\act\nion\",result=\"ok\"}"), 1);
}

TEST(Metrics, CountsFromManyThreads) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i) {
        metrics.webhook_request(WebhookResult::accepted);
        metrics.api_request("jumpcloud", "GET", 200, 1ms);
        if (i % 100 == 0) {
          (void)metrics.serialize();
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto e = parse_exposition(metrics.serialize());
  ASSERT_TRUE(e.errors.empty()) << e.errors.front();
  EXPECT_EQ(sample(e, R"(bobsync_webhook_requests_total{result="accepted"})"), 8000);
  EXPECT_EQ(sample(e, R"(bobsync_api_requests_total{api="jumpcloud",method="GET",status="200"})"),
            8000);
}

} // namespace
} // namespace bobsync::controller::observability
