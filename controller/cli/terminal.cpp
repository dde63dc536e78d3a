#include "controller/cli/terminal.hpp"

#include <cstdlib>
#include <unistd.h>

namespace bobsync::cli {
namespace {

constexpr std::string_view k_reset = "\x1b[0m";
constexpr std::string_view k_red = "\x1b[31m";
constexpr std::string_view k_bold_red = "\x1b[1;31m";
constexpr std::string_view k_green = "\x1b[32m";
constexpr std::string_view k_yellow = "\x1b[33m";
constexpr std::string_view k_cyan = "\x1b[36m";
constexpr std::string_view k_dim = "\x1b[2m";

std::string_view colour_of(std::string_view line) {
  auto starts = [&line](std::string_view prefix) {
    return line.substr(0, prefix.size()) == prefix;
  };
  if (starts("+ ") || starts("    + ")) {
    return k_green;
  }
  if (starts("~ ") || starts("    ~ ")) {
    return k_yellow;
  }
  if (starts("> ")) {
    return k_cyan;
  }
  if (starts("- ")) {
    return k_red;
  }
  if (starts("! ") || starts("BLOCKED")) {
    return k_bold_red;
  }
  if (starts(". ")) {
    return k_dim;
  }
  if (starts("warning:")) {
    return k_yellow;
  }
  return {};
}

} // namespace

bool colour_enabled(int fd) {
  if (::isatty(fd) == 0) {
    return false;
  }
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && *no_colour != '\0') {
    return false;
  }
  const char* term = std::getenv("TERM");
  return term == nullptr || std::string_view(term) != "dumb";
}

std::string colour_plan_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    const auto colour = colour_of(line);
    if (colour.empty()) {
      out += line;
    } else {
      out += colour;
      out += line;
      out += k_reset;
    }
    if (end == std::string_view::npos) {
      break;
    }
    out += '\n';
    text.remove_prefix(end + 1);
  }
  return out;
}

std::string thousands(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

ProgressLine::ProgressLine(std::ostream& out, bool enabled)
    : m_out(out),
      m_enabled(enabled) {}

ProgressLine::~ProgressLine() {
  clear();
}

void ProgressLine::show(std::string_view text, bool force) {
  if (!m_enabled) {
    return;
  }
  const std::lock_guard lock(m_mutex);
  // Redrawing is for a person: ten times a second is plenty, and a
  // listing's pages or a search's employees come much faster.
  const auto now = std::chrono::steady_clock::now();
  if (!force && m_width > 0 && now - m_last < std::chrono::milliseconds(100)) {
    return;
  }
  m_last = now;
  std::string line = "\r";
  line += text;
  if (text.size() < m_width) {
    line.append(m_width - text.size(), ' ');
  }
  m_width = text.size();
  m_out << line << std::flush;
}

void ProgressLine::clear() {
  if (!m_enabled) {
    return;
  }
  const std::lock_guard lock(m_mutex);
  if (m_width == 0) {
    return;
  }
  m_out << '\r' << std::string(m_width, ' ') << '\r' << std::flush;
  m_width = 0;
}

} // namespace bobsync::cli
