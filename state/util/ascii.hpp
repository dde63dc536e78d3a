#pragma once

// ASCII-only text helpers for protocol and identifier handling (header
// names, emails, usernames). Unicode-aware case mapping lives in
// policies/transforms.hpp.

#include <algorithm>
#include <string>
#include <string_view>

namespace bobsync {

// A-Z to a-z; every other byte is kept. Independent of the C locale.
constexpr char ascii_fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Equal without regard to ASCII case.
inline bool ascii_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_fold(x) == ascii_fold(y);
         });
}

// Lowercases A-Z; every other byte is kept.
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_fold);
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
