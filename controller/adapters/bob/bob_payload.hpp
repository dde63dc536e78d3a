#pragma once

// Pure helpers for Bob's wire format (no HTTP, no JSON library in the header).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bobsync::controller {

// Finds the employee objects of a people-search response
// (`{"employees": [ {...}, ... ], ...}`) as its bytes arrive, so that a
// 100,000-employee answer (~200 MB) is never held whole; chunks may split
// anywhere. It is not a JSON parser: it follows strings and bracket depth to
// cut out each object of the "employees" array, and keeps the rest of the
// answer with each cut object replaced by `{}` (a few bytes per employee;
// more than 16 MB of it is refused).
// finish() reads that skeleton with the strict JSON reader, which checks
// the structure around the employee objects; the objects themselves are
// checked by whoever parses them. Not thread-safe.
class SearchSplitter {
public:
  // `on_employee` receives each complete employee object's text, in order;
  // returning false stops the splitter (feed() then returns false).
  explicit SearchSplitter(std::function<bool(std::string&& employee)> on_employee);

  // False when on_employee refused (the answer's syntax is checked by finish()).
  bool feed(std::string_view chunk);
  // The whole body has been fed: false (error() set) when it ended early, is
  // not JSON, or has no "employees" array of objects.
  bool finish();
  void reset();

  const std::string& error() const { return m_error; }
  std::size_t count() const { return m_count; }
  // The position in the "employees" array of the last object given out.
  std::size_t index() const { return m_index; }

private:
  bool fail(std::string message);
  // The answer's byte at `offset` of the skeleton.
  std::size_t answer_offset(std::size_t offset) const;

  std::function<bool(std::string&&)> m_on_employee;
  std::string m_skeleton; // the answer without the employee objects
  std::string m_element;  // the employee object being cut out
  std::string m_key;      // a string at depth 1 (a key), its first bytes
  std::vector<std::pair<std::size_t, std::size_t>> m_cuts; // skeleton / answer offset after each
  std::string m_error;
  std::size_t m_offset = 0; // bytes consumed before the current chunk
  std::size_t m_count = 0;
  std::size_t m_index = 0; // commas met in the "employees" array
  int m_depth = 0;
  bool m_in_string = false;
  bool m_escape = false;
  bool m_key_is_employees = false; // the last string at depth 1 was "employees"
  bool m_in_employees = false;     // inside the "employees" array
  bool m_in_element = false;
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
