#pragma once

// Structured logging on spdlog. Two formats: `text` for a terminal
// ("2026-12-01T09:30:00.123Z INFO  pass finished run_id=r42 changes=3") and
// `json` (--log-format json): exactly one JSON object per line,
// {"time":"2026-12-01T09:30:00.123Z","level":"info","msg":"...", fields...}.
// spdlog and nlohmann stay in the .cpp. Thread-safe: any thread may log while
// another changes the level or the redactor.
//
// Secrets: set_redactor() installs a function applied to the message and to
// every string field value before anything is written (the run command
// passes the HTTP layer's Redactor). Field keys are code constants and are
// not redacted.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace bobsync::controller::observability {

enum class LogFormat { text, json };
enum class LogLevel { debug, info, warn, error };

std::string_view to_string(LogFormat format);
std::string_view to_string(LogLevel level);
// "text" / "json"; nullopt otherwise.
std::optional<LogFormat> parse_log_format(std::string_view text);
// "debug" / "info" / "warn" / "error"; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view text);

// A field value: a string, an integer, a floating-point number or a bool
// (JSON keeps the type: "changes":3, "ok":true).
class LogValue {
public:
  using Variant = std::variant<std::string, std::int64_t, double, bool>;

  LogValue(std::string_view text)
      : m_value(std::string(text)) {}
  LogValue(const char* text)
      : m_value(std::string(text)) {}
  LogValue(const std::string& text)
      : m_value(text) {}
  LogValue(std::string&& text)
      : m_value(std::move(text)) {}
  template<std::integral T> LogValue(T number) {
    if constexpr (std::same_as<T, bool>) {
      m_value = number;
    } else {
      m_value = static_cast<std::int64_t>(number);
    }
  }
  LogValue(double number)
      : m_value(number) {}

  const Variant& value() const { return m_value; }

private:
  Variant m_value;
};

// One structured field. Conventional keys: run_id, employee_id, action, kind,
// duration_ms, error, changes, policy_hash.
struct LogField {
  std::string_view key;
  LogValue value;
};

using LogFields = std::initializer_list<LogField>;

struct LoggerOptions {
  LogFormat format = LogFormat::text;
  LogLevel level = LogLevel::info;
  // Where lines go; nullptr: stderr. Must outlive the Logger.
  std::ostream* out = nullptr;
  // The wall clock for the `time` field; empty: system_clock::now.
  std::function<std::chrono::system_clock::time_point()> now;
};

class Logger {
public:
  explicit Logger(LoggerOptions options = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_level(LogLevel level);
  bool enabled(LogLevel level) const;
  // Applied to the message and every string value; empty function: none.
  void set_redactor(std::function<std::string(std::string_view)> redactor);

  // Writes one line (and flushes it) when `level` is enabled. Never throws:
  // a failing sink loses the line, not the caller.
  void log(LogLevel level, std::string_view message, LogFields fields = {});
  void debug(std::string_view message, LogFields fields = {}) {
    log(LogLevel::debug, message, fields);
  }
  void info(std::string_view message, LogFields fields = {}) {
    log(LogLevel::info, message, fields);
  }
  void warn(std::string_view message, LogFields fields = {}) {
    log(LogLevel::warn, message, fields);
  }
  void error(std::string_view message, LogFields fields = {}) {
    log(LogLevel::error, message, fields);
  }

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace bobsync::controller::observability
