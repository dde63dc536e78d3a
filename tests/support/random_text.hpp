#pragma once

// Pseudo-random valid UTF-8 text for the round-trip property tests: a fixed
// seed per test, so a failure names the seed and reproduces.

#include <cstdint>
#include <random>
#include <string>

namespace bobsync::testing {

class RandomText {
public:
  explicit RandomText(std::uint32_t seed)
      : m_engine(seed) {}

  std::uint32_t below(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(m_engine);
  }
  bool chance(std::uint32_t percent) { return below(100) < percent; }

  // 0..max_length code points, weighted towards what breaks encoders: quotes,
  // backslashes, controls, DEL, NUL, non-ASCII, bidi overrides, line
  // separators, astral code points.
  std::string text(std::uint32_t max_length) {
    static constexpr char32_t k_tricky[] = {
        U'"',      U'\\',     U'/',      U'\n',         U'\t',         U'\r',
        U'\b',     U'\f',     U'\0',     U'\x01',       U'\x1f',       U'\x7f',
        U'\u00e9', U'\u00df', U'\u0130', U'\u202e',     U'\u2028',     U'\u2029',
        U'\ufeff', U'\uffff', U'\u4e2d', U'\U0001f600', U'\U0010ffff', U' '};
    std::string out;
    const auto length = below(max_length + 1);
    for (std::uint32_t i = 0; i < length; ++i) {
      if (chance(30)) {
        append(out, k_tricky[below(sizeof(k_tricky) / sizeof(k_tricky[0]))]);
      } else {
        out.push_back(static_cast<char>('a' + below(26)));
      }
    }
    return out;
  }

  // 1..max_length characters of [A-Za-z0-9_].
  std::string identifier(std::uint32_t max_length) {
    static constexpr char k_chars[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
    std::string out(1, static_cast<char>('a' + below(26)));
    const auto length = below(max_length);
    for (std::uint32_t i = 0; i < length; ++i) {
      out.push_back(k_chars[below(sizeof(k_chars) - 1)]);
    }
    return out;
  }

  static void append(std::string& out, char32_t c) {
    const auto code = static_cast<std::uint32_t>(c);
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0U | (code >> 6U)));
      out.push_back(static_cast<char>(0x80U | (code & 0x3FU)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0U | (code >> 12U)));
      out.push_back(static_cast<char>(0x80U | ((code >> 6U) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | (code & 0x3FU)));
    } else {
      out.push_back(static_cast<char>(0xF0U | (code >> 18U)));
      out.push_back(static_cast<char>(0x80U | ((code >> 12U) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | ((code >> 6U) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | (code & 0x3FU)));
    }
  }

private:
  std::mt19937 m_engine;
};

} // namespace bobsync::testing
