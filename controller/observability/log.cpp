#include "controller/observability/log.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace bobsync::controller::observability {
namespace {

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
  case LogLevel::debug:
    return spdlog::level::debug;
  case LogLevel::info:
    return spdlog::level::info;
  case LogLevel::warn:
    return spdlog::level::warn;
  case LogLevel::error:
    return spdlog::level::err;
  }
  return spdlog::level::err;
}

// "2026-12-01T09:30:00.123Z"
std::string iso_utc_ms(std::chrono::system_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> buffer{};
  const std::size_t n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::array<char, 24> fraction{};
  std::snprintf(fraction.data(), fraction.size(), ".%03lldZ", static_cast<long long>(millis));
  return std::string(buffer.data(), n) + fraction.data();
}

// For text lines: control characters become escapes so that one call is one
// line, whatever the message holds (an employee name cannot forge a line).
void append_escaped(std::string& out, std::string_view text) {
  static constexpr char k_hex[] = "0123456789abcdef";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += k_hex[c >> 4U];
      out += k_hex[c & 0x0FU];
    } else {
      out += ch;
    }
  }
}

// key=value; a value with spaces, quotes, '=' or control characters is
// quoted with backslash escapes.
void append_text_value(std::string& out, std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\\") == std::string_view::npos
                     && std::none_of(value.begin(), value.end(), [](char ch) {
                          const auto c = static_cast<unsigned char>(ch);
                          return c < 0x20 || c == 0x7F;
                        });
  if (plain) {
    out += value;
    return;
  }
  out += '"';
  for (const char ch : value) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else {
      append_escaped(out, std::string_view(&ch, 1));
    }
  }
  out += '"';
}

std::string number_text(double value) {
  if (!std::isfinite(value)) {
    return "null";
  }
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.17g", value);
  return buffer.data();
}

bool reserved_key(std::string_view key) {
  return key == "time" || key == "level" || key == "msg";
}

} // namespace

struct Logger::Impl {
  LogFormat format = LogFormat::text;
  std::atomic<LogLevel> level{LogLevel::info};
  std::function<std::chrono::system_clock::time_point()> now;
  std::shared_ptr<spdlog::logger> logger;
  mutable std::mutex redactor_mutex;
  std::shared_ptr<const std::function<std::string(std::string_view)>> redactor;

  std::shared_ptr<const std::function<std::string(std::string_view)>> current_redactor() const {
    const std::lock_guard lock(redactor_mutex);
    return redactor;
  }
};

std::string_view to_string(LogFormat format) {
  switch (format) {
  case LogFormat::text:
    return "text";
  case LogFormat::json:
    return "json";
  }
  return "text";
}

std::string_view to_string(LogLevel level) {
  switch (level) {
  case LogLevel::debug:
    return "debug";
  case LogLevel::info:
    return "info";
  case LogLevel::warn:
    return "warn";
  case LogLevel::error:
    return "error";
  }
  return "error";
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") {
    return LogFormat::text;
  }
  if (text == "json") {
    return LogFormat::json;
  }
  return std::nullopt;
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (const auto level : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (text == to_string(level)) {
      return level;
    }
  }
  return std::nullopt;
}

Logger::Logger(LoggerOptions options)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->format = options.format;
  m_impl->level = options.level;
  m_impl->now =
      options.now ? std::move(options.now) : [] { return std::chrono::system_clock::now(); };
  spdlog::sink_ptr sink;
  if (options.out != nullptr) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*options.out, true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  // The line is complete when it reaches spdlog: time, level and fields are
  // ours, so that both formats carry the same (injectable) time.
  sink->set_pattern("%v");
  m_impl->logger = std::make_shared<spdlog::logger>("bobsync", std::move(sink));
  m_impl->logger->set_level(spdlog::level::trace);
  m_impl->logger->flush_on(spdlog::level::trace);
  m_impl->logger->set_error_handler([](const std::string& /*message*/) {});
}

Logger::~Logger() {
  try {
    m_impl->logger->flush();
  } catch (...) { // NOLINT(bugprone-empty-catch): nothing to report to
  }
}

void Logger::set_level(LogLevel level) {
  m_impl->level = level;
}

bool Logger::enabled(LogLevel level) const {
  return static_cast<int>(level) >= static_cast<int>(m_impl->level.load());
}

void Logger::set_redactor(std::function<std::string(std::string_view)> redactor) {
  auto shared = redactor ? std::make_shared<const std::function<std::string(std::string_view)>>(
                    std::move(redactor))
                         : nullptr;
  const std::lock_guard lock(m_impl->redactor_mutex);
  m_impl->redactor = std::move(shared);
}

void Logger::log(LogLevel level, std::string_view message, LogFields fields) {
  if (!enabled(level)) {
    return;
  }
  try {
    const auto redactor = m_impl->current_redactor();
    const auto clean = [&redactor](std::string_view text) {
      return redactor ? (*redactor)(text) : std::string(text);
    };
    const std::string time = iso_utc_ms(m_impl->now());
    std::string line;
    switch (m_impl->format) {
    case LogFormat::json: {
      nlohmann::ordered_json object;
      object["time"] = time;
      object["level"] = to_string(level);
      object["msg"] = clean(message);
      for (const auto& field : fields) {
        std::string key(field.key);
        if (reserved_key(key)) {
          key.insert(0, "field_");
        }
        std::visit(
            [&](const auto& value) {
              using T = std::decay_t<decltype(value)>;
              if constexpr (std::is_same_v<T, std::string>) {
                object[key] = clean(value);
              } else if constexpr (std::is_same_v<T, double>) {
                object[key] = std::isfinite(value) ? nlohmann::ordered_json(value) : nullptr;
              } else {
                object[key] = value;
              }
            },
            field.value.value());
      }
      line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      break;
    }
    case LogFormat::text: {
      line = time;
      line += ' ';
      std::string level_name(to_string(level));
      for (auto& c : level_name) {
        c = static_cast<char>(c - 'a' + 'A');
      }
      level_name.resize(5, ' ');
      line += level_name;
      line += ' ';
      append_escaped(line, clean(message));
      for (const auto& field : fields) {
        line += ' ';
        line += field.key;
        line += '=';
        std::visit(
            [&](const auto& value) {
              using T = std::decay_t<decltype(value)>;
              if constexpr (std::is_same_v<T, std::string>) {
                append_text_value(line, clean(value));
              } else if constexpr (std::is_same_v<T, double>) {
                line += number_text(value);
              } else if constexpr (std::is_same_v<T, bool>) {
                line += value ? "true" : "false";
              } else {
                line += std::to_string(value);
              }
            },
            field.value.value());
      }
      break;
    }
    }
    m_impl->logger->log(spdlog_level(level), spdlog::string_view_t(line.data(), line.size()));
  } catch (...) { // NOLINT(bugprone-empty-catch): logging must never fail the caller
  }
}

} // namespace bobsync::controller::observability
