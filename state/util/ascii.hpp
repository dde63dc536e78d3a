#pragma once

// ASCII-only text helpers for protocol and identifier handling (header
// names, emails, usernames). Unicode-aware case mapping lives in
// policies/transforms.hpp.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace bobsync {

// Lowercases A-Z; every other byte is kept.
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

// Without leading and trailing spaces, tabs, CR and LF.
inline std::string ascii_trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

} // namespace bobsync
