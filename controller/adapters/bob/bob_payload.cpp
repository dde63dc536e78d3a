#include "controller/adapters/bob/bob_payload.hpp"

#include <cstddef>

namespace bobsync::controller {
namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_primitive_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '+'
         || c == '-';
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_number(std::string_view t) {
  std::size_t i = 0;
  if (i < t.size() && t[i] == '-') {
    ++i;
  }
  if (i >= t.size() || !is_digit(t[i])) {
    return false;
  }
  if (t[i] == '0') {
    ++i;
  } else {
    while (i < t.size() && is_digit(t[i])) {
      ++i;
    }
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    const auto start = i;
    while (i < t.size() && is_digit(t[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      ++i;
    }
    const auto start = i;
    while (i < t.size() && is_digit(t[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  return i == t.size();
}

} // namespace

SearchSplitter::SearchSplitter(std::function<bool(std::string&& employee)> on_employee)
    : m_on_employee(std::move(on_employee)) {}

void SearchSplitter::reset() {
  m_state = State::start;
  m_key.clear();
  m_token.clear();
  m_element.clear();
  m_stack.clear();
  m_error.clear();
  m_offset = 0;
  m_count = 0;
  m_depth = 0;
  m_in_string = false;
  m_escape = false;
  m_found = false;
  m_stopped = false;
}

bool SearchSplitter::fail(std::string message) {
  if (m_error.empty()) {
    m_error = std::move(message);
  }
  m_stopped = true;
  return false;
}

bool SearchSplitter::primitive_ok() const {
  return m_token == "true" || m_token == "false" || m_token == "null" || is_number(m_token);
}

bool SearchSplitter::feed(std::string_view chunk) {
  if (m_stopped) {
    return false;
  }
  std::size_t i = 0;
  auto where = [&] { return " at byte " + std::to_string(m_offset + i); };
  while (i < chunk.size()) {
    const char c = chunk[i];
    switch (m_state) {
    case State::element: {
      // The hot loop: copy the object through, tracking strings and depth.
      const std::size_t start = i;
      for (; i < chunk.size(); ++i) {
        const char e = chunk[i];
        if (m_in_string) {
          if (m_escape) {
            m_escape = false;
          } else if (e == '\\') {
            m_escape = true;
          } else if (e == '"') {
            m_in_string = false;
          }
          continue;
        }
        if (e == '"') {
          m_in_string = true;
        } else if (e == '{' || e == '[') {
          ++m_depth;
        } else if ((e == '}' || e == ']') && --m_depth == 0) {
          break;
        }
      }
      if (i == chunk.size()) {
        m_element.append(chunk.substr(start));
        continue;
      }
      m_element.append(chunk.substr(start, i - start + 1));
      ++i;
      ++m_count;
      m_state = State::array_after_element;
      std::string element;
      element.swap(m_element);
      if (!m_on_employee(std::move(element))) {
        m_offset += i;
        return fail(m_error.empty() ? "stopped" : m_error);
      }
      continue;
    }
    case State::start:
      if (c == '{') {
        m_state = State::key_or_end;
      } else if (!is_ws(c)) {
        return fail("expected a JSON object" + where());
      }
      break;
    case State::key_or_end:
      if (c == '"') {
        m_key.clear();
        m_state = State::key;
      } else if (c == '}') {
        m_state = State::end;
      } else if (!is_ws(c)) {
        return fail("expected a key or '}'" + where());
      }
      break;
    case State::key_required:
      if (c == '"') {
        m_key.clear();
        m_state = State::key;
      } else if (!is_ws(c)) {
        return fail("expected a key" + where());
      }
      break;
    case State::key:
      if (m_escape) {
        m_escape = false;
        m_key += c;
      } else if (c == '\\') {
        m_escape = true;
        m_key += c;
      } else if (c == '"') {
        m_state = State::colon;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in a key" + where());
      } else {
        m_key += c;
      }
      break;
    case State::colon:
      if (c == ':') {
        m_state = State::value;
      } else if (!is_ws(c)) {
        return fail("expected ':'" + where());
      }
      break;
    case State::value:
      if (is_ws(c)) {
        break;
      }
      if (m_key == "employees" && !m_found) {
        if (c != '[') {
          return fail("\"employees\" is not an array" + where());
        }
        m_found = true;
        m_state = State::array_first;
      } else if (c == '"') {
        m_escape = false;
        m_state = State::skip_string;
      } else if (c == '{' || c == '[') {
        m_stack.assign(1, c);
        m_in_string = false;
        m_escape = false;
        m_state = State::skip_nested;
      } else if (is_primitive_char(c)) {
        m_token.assign(1, c);
        m_state = State::skip_primitive;
      } else {
        return fail("unexpected character" + where());
      }
      break;
    case State::after_value:
      if (c == ',') {
        m_state = State::key_required;
      } else if (c == '}') {
        m_state = State::end;
      } else if (!is_ws(c)) {
        return fail("expected ',' or '}'" + where());
      }
      break;
    case State::end:
      if (!is_ws(c)) {
        return fail("trailing characters" + where());
      }
      break;
    case State::array_first:
    case State::array_next:
      if (c == '{') {
        m_element.assign(1, c);
        m_depth = 1;
        m_in_string = false;
        m_escape = false;
        m_state = State::element;
      } else if (c == ']' && m_state == State::array_first) {
        m_state = State::after_value;
      } else if (!is_ws(c)) {
        return fail("element " + std::to_string(m_count) + " of \"employees\" is not an object"
                    + where());
      }
      break;
    case State::array_after_element:
      if (c == ',') {
        m_state = State::array_next;
      } else if (c == ']') {
        m_state = State::after_value;
      } else if (!is_ws(c)) {
        return fail("expected ',' or ']'" + where());
      }
      break;
    case State::skip_string:
      if (m_escape) {
        m_escape = false;
      } else if (c == '\\') {
        m_escape = true;
      } else if (c == '"') {
        m_state = State::after_value;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in a string" + where());
      }
      break;
    case State::skip_nested:
      if (m_in_string) {
        if (m_escape) {
          m_escape = false;
        } else if (c == '\\') {
          m_escape = true;
        } else if (c == '"') {
          m_in_string = false;
        }
      } else if (c == '"') {
        m_in_string = true;
      } else if (c == '{' || c == '[') {
        m_stack += c;
      } else if (c == '}' || c == ']') {
        if ((c == '}') != (m_stack.back() == '{')) {
          return fail("mismatched bracket" + where());
        }
        m_stack.pop_back();
        if (m_stack.empty()) {
          m_state = State::after_value;
        }
      }
      break;
    case State::skip_primitive:
      if (is_primitive_char(c)) {
        m_token += c;
        break;
      }
      if (!primitive_ok()) {
        return fail("invalid value '" + m_token + "'" + where());
      }
      m_state = State::after_value;
      continue; // the delimiter is handled by after_value
    }
    ++i;
  }
  m_offset += chunk.size();
  return true;
}

bool SearchSplitter::finish() {
  if (m_stopped) {
    return false;
  }
  if (m_state != State::end) {
    return fail(m_state == State::start
                    ? std::string("empty response")
                    : "unexpected end of the response at byte " + std::to_string(m_offset));
  }
  if (!m_found) {
    return fail("no \"employees\" array in the response");
  }
  return true;
}

bool split_search_response(std::string_view text,
                           std::vector<std::string>& employees,
                           std::string& error) {
  employees.clear();
  SearchSplitter splitter([&](std::string&& employee) {
    employees.push_back(std::move(employee));
    return true;
  });
  if (!splitter.feed(text) || !splitter.finish()) {
    error = splitter.error();
    employees.clear();
    return false;
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
