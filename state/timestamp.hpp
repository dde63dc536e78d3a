#pragma once

// ISO 8601 timestamps, parsed without a locale or a time-zone database.

#include <chrono>
#include <optional>
#include <string_view>

namespace bobsync::state {

// Accepts 2026-11-27 (12:00 UTC that day: the same calendar day in almost
// every time zone), 2026-11-27T09:30:00 and 2026-11-27T09:30:00Z (UTC), and
// 2026-11-27T09:30:00+01:00 (offset applied). nullopt for anything else,
// including impossible dates (2026-02-30).
std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text);

} // namespace bobsync::state
