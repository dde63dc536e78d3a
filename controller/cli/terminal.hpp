#pragma once

// Terminal niceties of the one-shot commands, never in pipes or logs:
// colours in plan text (honouring NO_COLOR, https://no-color.org) and
// thousands separators for progress counters.

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

} // namespace bobsync::cli
