#include "controller/adapters/bob/bob_payload.hpp"

#include <cstddef>

namespace bobsync::controller {
namespace {

// A strict, allocation-free JSON syntax scanner over a string_view.
class Scanner {
public:
  explicit Scanner(std::string_view text)
      : m_text(text) {}

  std::size_t pos() const { return m_pos; }
  const std::string& error() const { return m_error; }
  bool at_end() {
    skip_ws();
    return m_pos >= m_text.size();
  }

  void skip_ws() {
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        break;
      }
      ++m_pos;
    }
  }

  bool expect(char c) {
    skip_ws();
    if (m_pos < m_text.size() && m_text[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return fail(std::string("expected '") + c + "'");
  }

  bool peek(char c) {
    skip_ws();
    return m_pos < m_text.size() && m_text[m_pos] == c;
  }

  // A string; its raw contents (escapes not decoded) go to `out` when given.
  bool string(std::string_view* out = nullptr) {
    skip_ws();
    if (m_pos >= m_text.size() || m_text[m_pos] != '"') {
      return fail("expected a string");
    }
    const std::size_t start = ++m_pos;
    while (m_pos < m_text.size()) {
      const auto c = static_cast<unsigned char>(m_text[m_pos]);
      if (c == '"') {
        if (out != nullptr) {
          *out = m_text.substr(start, m_pos - start);
        }
        ++m_pos;
        return true;
      }
      if (c < 0x20) {
        return fail("control character in a string");
      }
      if (c == '\\') {
        ++m_pos;
        if (m_pos >= m_text.size()) {
          break;
        }
        const char e = m_text[m_pos];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            ++m_pos;
            if (m_pos >= m_text.size() || !is_hex(m_text[m_pos])) {
              return fail("bad \\u escape");
            }
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n'
                   && e != 'r' && e != 't') {
          return fail("bad escape");
        }
      }
      ++m_pos;
    }
    return fail("unterminated string");
  }

  bool value(int depth = 0) {
    constexpr int k_max_depth = 256;
    if (depth > k_max_depth) {
      return fail("nesting too deep");
    }
    skip_ws();
    if (m_pos >= m_text.size()) {
      return fail("unexpected end of input");
    }
    switch (m_text[m_pos]) {
    case '{':
      return object(depth);
    case '[':
      return array(depth);
    case '"':
      return string();
    case 't':
      return literal("true");
    case 'f':
      return literal("false");
    case 'n':
      return literal("null");
    default:
      return number();
    }
  }

  bool fail(std::string message) {
    if (m_error.empty()) {
      m_error = message + " at byte " + std::to_string(m_pos);
    }
    return false;
  }

private:
  static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool object(int depth) {
    ++m_pos; // '{'
    if (peek('}')) {
      ++m_pos;
      return true;
    }
    while (true) {
      if (!string() || !expect(':') || !value(depth + 1)) {
        return false;
      }
      if (peek(',')) {
        ++m_pos;
        continue;
      }
      return expect('}');
    }
  }

  bool array(int depth) {
    ++m_pos; // '['
    if (peek(']')) {
      ++m_pos;
      return true;
    }
    while (true) {
      if (!value(depth + 1)) {
        return false;
      }
      if (peek(',')) {
        ++m_pos;
        continue;
      }
      return expect(']');
    }
  }

  bool literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) != word) {
      return fail("invalid literal");
    }
    m_pos += word.size();
    return true;
  }

  bool number() {
    const std::size_t start = m_pos;
    if (m_pos < m_text.size() && m_text[m_pos] == '-') {
      ++m_pos;
    }
    const std::size_t int_start = m_pos;
    while (m_pos < m_text.size() && is_digit(m_text[m_pos])) {
      ++m_pos;
    }
    if (m_pos == int_start) {
      m_pos = start;
      return fail("unexpected character");
    }
    if (m_pos < m_text.size() && m_text[m_pos] == '.') {
      ++m_pos;
      const std::size_t frac = m_pos;
      while (m_pos < m_text.size() && is_digit(m_text[m_pos])) {
        ++m_pos;
      }
      if (m_pos == frac) {
        return fail("bad number");
      }
    }
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
      ++m_pos;
      if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-')) {
        ++m_pos;
      }
      const std::size_t exp = m_pos;
      while (m_pos < m_text.size() && is_digit(m_text[m_pos])) {
        ++m_pos;
      }
      if (m_pos == exp) {
        return fail("bad number");
      }
    }
    return true;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  std::string m_error;
};

} // namespace

bool split_search_response(std::string_view text,
                           std::vector<std::string_view>& employees,
                           std::string& error) {
  employees.clear();
  Scanner scan(text);
  bool found = false;
  auto failed = [&](const std::string& fallback) {
    error = scan.error().empty() ? fallback : scan.error();
    employees.clear();
    return false;
  };
  if (!scan.expect('{')) {
    return failed("not a JSON object");
  }
  if (scan.peek('}')) {
    return failed("no \"employees\" array in the response");
  }
  while (true) {
    std::string_view key;
    if (!scan.string(&key) || !scan.expect(':')) {
      return failed("bad object");
    }
    if (key == "employees" && !found) {
      found = true;
      if (!scan.peek('[')) {
        return failed("\"employees\" is not an array");
      }
      scan.expect('[');
      if (scan.peek(']')) {
        scan.expect(']');
      } else {
        while (true) {
          if (!scan.peek('{')) {
            return failed("element " + std::to_string(employees.size()) + " of \"employees\" is not an object");
          }
          const std::size_t start = scan.pos();
          if (!scan.value(1)) {
            return failed("bad element");
          }
          employees.push_back(text.substr(start, scan.pos() - start));
          if (scan.peek(',')) {
            scan.expect(',');
            continue;
          }
          if (!scan.expect(']')) {
            return failed("bad array");
          }
          break;
        }
      }
    } else if (!scan.value(1)) {
      return failed("bad value");
    }
    if (scan.peek(',')) {
      scan.expect(',');
      continue;
    }
    if (!scan.expect('}')) {
      return failed("bad object");
    }
    break;
  }
  if (!scan.at_end()) {
    scan.fail("trailing characters");
    return failed("trailing characters");
  }
  if (!found) {
    return failed("no \"employees\" array in the response");
  }
  return true;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16U)
                   | (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8U)
                   | static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 2]));
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += k_alphabet[(n >> 6U) & 63U];
    out += k_alphabet[n & 63U];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const auto n = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16U;
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += "==";
  } else if (rest == 2) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16U)
                   | (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8U);
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += k_alphabet[(n >> 6U) & 63U];
    out += '=';
  }
  return out;
}

std::string basic_authorization(std::string_view user, std::string_view token) {
  std::string credentials(user);
  credentials += ':';
  credentials += token;
  return "Basic " + base64_encode(credentials);
}

} // namespace bobsync::controller
