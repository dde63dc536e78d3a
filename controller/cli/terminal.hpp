#pragma once

// Terminal niceties of the one-shot commands, never in pipes or logs:
// colours in plan text (honouring NO_COLOR, https://no-color.org), a
// progress line, and thousands separators for its counters.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace bobsync::cli {

// True when `fd` is a terminal, NO_COLOR is unset or empty, and TERM is not "dumb".
bool colour_enabled(int fd);

// Colours the lines of state::render_text's output by their leading symbol
// ("+ " create, "~ " update, "> " activate, "- " suspend, "! " conflict,
// ". " deferred; indented "+ "/"~ " field lines), "BLOCKED" and "warning:".
// The text itself is unchanged: stripping the escape codes gives it back.
std::string colour_plan_text(std::string_view text);

// 1234567 -> "1,234,567".
std::string thousands(long long n);

// One line redrawn in place ("\r", the text, spaces over what is left of the
// previous text), at most every 100 ms unless `force`, erased by clear() and
// by the destructor. Disabled, every call does nothing: a caller enables it
// only for a terminal. Safe to call from several threads.
class ProgressLine {
public:
  ProgressLine(std::ostream& out, bool enabled);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const { return m_enabled; }
  void show(std::string_view text, bool force = false);
  void clear();

private:
  std::ostream& m_out;
  const bool m_enabled;
  std::mutex m_mutex;
  std::size_t m_width = 0; // of the text on the line now; 0: nothing shown
  std::chrono::steady_clock::time_point m_last{};
};

} // namespace bobsync::cli
