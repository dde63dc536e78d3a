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

} // namespace bobsync::cli
