#pragma once

// Pure helpers for Bob's wire format (no HTTP, no JSON library in the header).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

// Finds the employee objects of a people-search response
// (`{"employees": [ {...}, ... ], ...}`) as its bytes arrive, so that a
// 100,000-employee answer (~200 MB) is never held whole; chunks may split
// anywhere. Checks the JSON structure around the employee objects (strings,
// brackets, literals, numbers, commas); the syntax inside each object is
// checked by whoever parses it. Not thread-safe.
class SearchSplitter {
public:
  // `on_employee` receives each complete employee object's text, in order;
  // returning false stops the splitter (feed() then returns false).
  explicit SearchSplitter(std::function<bool(std::string&& employee)> on_employee);

  // False on a syntax error (see error()) or when on_employee refused.
  bool feed(std::string_view chunk);
  // The whole body has been fed: false when it ended early or had no
  // "employees" array.
  bool finish();
  void reset();

  const std::string& error() const { return m_error; }
  std::size_t count() const { return m_count; }

private:
  enum class State {
    start,
    key_or_end,
    key_required,
    key,
    colon,
    value,
    after_value,
    end,
    array_first,
    array_next,
    element,
    array_after_element,
    skip_string,
    skip_nested,
    skip_primitive,
  };

  bool fail(std::string message);
  bool primitive_ok() const;

  std::function<bool(std::string&&)> m_on_employee;
  State m_state = State::start;
  std::string m_key;
  std::string m_token;
  std::string m_element;
  std::string m_stack; // open brackets while skipping a nested value
  std::string m_error;
  std::size_t m_offset = 0; // bytes consumed before the current chunk
  std::size_t m_count = 0;
  int m_depth = 0;
  bool m_in_string = false;
  bool m_escape = false;
  bool m_found = false;
  bool m_stopped = false;
};

// Splits a whole people-search response into employee object texts (a
// convenience over SearchSplitter). False with `error` set when malformed.
bool split_search_response(std::string_view text,
                           std::vector<std::string>& employees,
                           std::string& error);

// Standard Base64 with padding.
std::string base64_encode(std::string_view bytes);

// The value of the Authorization header for HTTP Basic:
// "Basic " + base64("<user>:<token>").
std::string basic_authorization(std::string_view user, std::string_view token);

} // namespace bobsync::controller
