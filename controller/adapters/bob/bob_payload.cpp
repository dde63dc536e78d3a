#include "controller/adapters/bob/bob_payload.hpp"

#include "controller/adapters/json/strict_reader.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <iterator>

namespace bobsync::controller {
namespace {

namespace od = strict_json::od;

constexpr std::string_view k_employees = "employees";

// What the splitter keeps besides the employee objects (three bytes per
// employee, and whatever else Bob put in the answer, which is nothing today):
// bounded, so an answer of other content is refused rather than held.
constexpr std::size_t k_max_skeleton = std::size_t{16} << 20;

// The bytes the splitter stops at inside an employee object: in a string, a
// quote or a backslash; outside, a quote or a bracket.
struct Stops {
  std::array<bool, 256> in_string{};
  std::array<bool, 256> outside{};
};
constexpr Stops k_stops = [] {
  Stops stops;
  stops.in_string['"'] = stops.in_string['\\'] = true;
  for (const unsigned char c : std::string_view("\"{}[]")) {
    stops.outside[c] = true;
  }
  return stops;
}();

} // namespace

SearchSplitter::SearchSplitter(std::function<bool(std::string&& employee)> on_employee)
    : m_on_employee(std::move(on_employee)) {}

void SearchSplitter::reset() {
  m_skeleton.clear();
  m_element.clear();
  m_key.clear();
  m_cuts.clear();
  m_error.clear();
  m_offset = 0;
  m_count = 0;
  m_index = 0;
  m_depth = 0;
  m_in_string = false;
  m_escape = false;
  m_key_is_employees = false;
  m_in_employees = false;
  m_in_element = false;
  m_stopped = false;
}

bool SearchSplitter::fail(std::string message) {
  if (m_error.empty()) {
    m_error = std::move(message);
  }
  m_stopped = true;
  return false;
}

bool SearchSplitter::feed(std::string_view chunk) {
  if (m_stopped) {
    return false;
  }
  std::size_t i = 0;
  while (i < chunk.size()) {
    if (m_in_element) {
      // The hot loop: copy the object through, tracking strings and depth,
      // with the state in locals and the bytes that change nothing skipped
      // in tight loops.
      const std::size_t start = i;
      bool closed = false;
      const char* p = chunk.data() + i;
      const char* const end = chunk.data() + chunk.size();
      bool in_string = m_in_string;
      bool escape = m_escape;
      int depth = m_depth;
      while (p < end) {
        if (escape) {
          escape = false;
          ++p;
        } else if (in_string) {
          while (p < end && !k_stops.in_string[static_cast<unsigned char>(*p)]) {
            ++p;
          }
          if (p < end) {
            escape = *p == '\\';
            in_string = escape;
            ++p;
          }
        } else {
          while (p < end && !k_stops.outside[static_cast<unsigned char>(*p)]) {
            ++p;
          }
          if (p == end) {
            break;
          }
          const char c = *p++;
          if (c == '"') {
            in_string = true;
          } else if (c == '{' || c == '[') {
            ++depth;
          } else if (--depth == 2) { // '}' or ']'
            closed = true;
            break;
          }
        }
      }
      m_in_string = in_string;
      m_escape = escape;
      m_depth = depth;
      i = static_cast<std::size_t>(p - chunk.data());
      m_element.append(chunk.substr(start, i - start));
      if (!closed) {
        continue;
      }
      m_in_element = false;
      m_skeleton += "{}";
      m_cuts.emplace_back(m_skeleton.size(), m_offset + i);
      ++m_count;
      std::string element;
      element.swap(m_element);
      if (!m_on_employee(std::move(element))) {
        m_offset += i;
        return fail(m_error.empty() ? "stopped" : m_error);
      }
      continue;
    }
    // Outside the employee objects: kept in the skeleton.
    const char c = chunk[i];
    if (m_in_string) {
      if (m_escape) {
        m_escape = false;
      } else if (c == '\\') {
        m_escape = true;
      } else if (c == '"') {
        m_in_string = false;
        if (m_depth == 1) {
          m_key_is_employees = m_key == k_employees;
        }
      }
      if (m_depth == 1 && m_in_string && m_key.size() <= k_employees.size()) {
        m_key += c;
      }
      m_skeleton += c;
      ++i;
      continue;
    }
    if (c == '"') {
      m_in_string = true;
      m_key.clear();
    } else if (m_in_employees && m_depth == 2 && c != '{' && c != ',' && c != ']' && c != ' '
               && c != '\n' && c != '\t' && c != '\r') {
      // Refused at once, not after the rest of the answer has arrived.
      m_offset += i;
      return fail("employees[" + std::to_string(m_index) + "] is not an object at byte "
                  + std::to_string(m_offset));
    } else if (c == ',' && m_in_employees && m_depth == 2) {
      ++m_index;
    } else if (c == '{' && m_in_employees && m_depth == 2) {
      m_in_element = true;
      m_depth = 3;
      m_element.assign(1, c);
      ++i;
      continue;
    } else if (c == '{' || c == '[') {
      if (c == '[' && m_depth == 1 && m_key_is_employees) {
        m_in_employees = true;
      }
      ++m_depth;
    } else if (c == '}' || c == ']') {
      if (--m_depth < 2) {
        m_in_employees = false;
      }
    }
    m_skeleton += c;
    ++i;
    if (m_skeleton.size() > k_max_skeleton) {
      m_offset += i;
      return fail("more than 16 MB of the answer is not employee objects (at byte "
                  + std::to_string(m_offset) + ")");
    }
  }
  m_offset += chunk.size();
  return true;
}

std::size_t SearchSplitter::answer_offset(std::size_t offset) const {
  const auto after =
      std::upper_bound(m_cuts.begin(), m_cuts.end(), offset, [](std::size_t o, const auto& cut) {
        return o < cut.first;
      });
  if (after == m_cuts.begin()) {
    return offset;
  }
  const auto& cut = *std::prev(after);
  return cut.second + (offset - cut.first);
}

bool SearchSplitter::finish() {
  if (m_stopped) {
    return false;
  }
  if (m_offset == 0) {
    return fail("empty response");
  }
  if (m_in_string || m_in_element || m_depth > 0) {
    return fail("unexpected end of the response at byte " + std::to_string(m_offset));
  }
  strict_json::StrictReader reader(m_skeleton);
  std::size_t employees = 0; // elements of the "employees" array
  bool found = false;
  auto employee = [&](od::value& value) {
    od::object object;
    if (const auto e = value.get_object().get(object)) {
      return reader.fail(e, "employees[" + std::to_string(employees) + "] is not an object");
    }
    bool cut = true; // a cut-out object is `{}` here
    if (!reader.members(object, [&](std::string_view, od::value& inner) {
          cut = false;
          return reader.skip(inner, 2);
        })) {
      return false;
    }
    if (!cut) {
      // Its key was written with escapes ("employ\u0065es"), which only the
      // reader decodes: refused rather than guessed.
      return reader.fail("the \"employees\" array could not be cut out");
    }
    ++employees;
    return true;
  };
  const bool ok = [&] {
    if (!reader.start()) {
      return false;
    }
    od::object root;
    if (const auto e = reader.document().get_object().get(root)) {
      return reader.fail(e, "expected a JSON object");
    }
    return reader.members(root, [&](std::string_view key, od::value& value) {
      if (key != k_employees) {
        return reader.skip(value, 1);
      }
      if (found) {
        return reader.fail("\"employees\" appears twice");
      }
      found = true;
      od::array array;
      if (const auto e = value.get_array().get(array)) {
        return reader.fail(e, "\"employees\" is not an array");
      }
      return reader.elements(array, employee);
    });
  }();
  if (!ok) {
    const auto where = reader.error_offset();
    return fail(reader.error_what()
                + (where ? " at byte " + std::to_string(answer_offset(*where)) : std::string()));
  }
  if (!reader.at_end()) {
    return fail("trailing characters after the response");
  }
  if (!found) {
    return fail("no \"employees\" array in the response");
  }
  if (employees != m_count) {
    return fail("the \"employees\" array could not be cut out");
  }
  m_skeleton = std::string();
  m_cuts = {};
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
