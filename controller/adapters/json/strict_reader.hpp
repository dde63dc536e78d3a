#pragma once

// The one bulk JSON reader of the adapters: a strict walk over simdjson's On
// Demand API, shared by JumpCloud's users (jumpcloud_mapping.cpp) and Bob's
// employees (bob_record.cpp). Included only by those readers' .cpp files
// (simdjson.h is heavy).
//
// On Demand checks only what is read, so a caller reads every value: those
// it does not keep go through skip() (strings unescaped, numbers parsed,
// literals matched, nesting bounded), and simdjson's first stage checks the
// whole input is UTF-8 without raw control characters in strings. Errors
// name the byte where reading stopped.
//
// The input is copied into a padded buffer (simdjson reads up to
// SIMDJSON_PADDING bytes past the end); buffer and parser belong to the
// calling thread and are reused, so reading many documents allocates them
// once per thread. One StrictReader per thread at a time.

#include <cstddef>
#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>

namespace bobsync::controller::strict_json {

namespace od = simdjson::ondemand;

// Deepest nesting of a value the caller does not keep.
constexpr int k_max_depth = 128;

// How a number becomes field text.
enum class NumberText {
  raw,      // the token as written ("1.50" stays "1.50")
  nlohmann, // as nlohmann::json prints the parsed number: integers that fit 64 bits
            // in decimal, anything else as the shortest double ("1.50" -> "1.5")
};

// The JSON type's name as error messages say it ("object", "boolean", ...).
std::string_view type_name(od::json_type type);

class StrictReader {
public:
  explicit StrictReader(std::string_view text);
  ~StrictReader();
  StrictReader(const StrictReader&) = delete;
  StrictReader& operator=(const StrictReader&) = delete;

  // Indexes the input; false (error() set) when it is not UTF-8, has an
  // unclosed string or a control character in one, or is empty.
  bool start();
  od::document& document() { return m_doc; }
  // Nothing but whitespace is left (simdjson 3.0's document has no at_end()).
  bool at_end();

  bool fail(std::string_view message) { return fail_at(message, offset()); }
  bool fail_at(std::string_view message, std::size_t offset);
  bool fail(simdjson::error_code code) { return fail(simdjson::error_message(code)); }
  // `wrong_type` when the value is valid but not what was asked for.
  bool fail(simdjson::error_code code, std::string_view wrong_type) {
    return code == simdjson::INCORRECT_TYPE ? fail(wrong_type) : fail(code);
  }
  // "<what> at byte <n>" (the first failure), or the first stage's message.
  const std::string& error() const { return m_error; }
  // The first failure's parts: what, and the byte (none for the first stage).
  const std::string& error_what() const { return m_error_what; }
  std::optional<std::size_t> error_offset() const { return m_error_offset; }

  // Calls `member(key, value)` for each member of an object, key unescaped
  // (and so checked); false at the first error or false from `member`.
  template<typename F> bool members(od::object& object, F&& member) {
    for (auto result : object) {
      od::field field;
      std::string_view key;
      if (const auto e = std::move(result).get(field)) {
        return fail(e);
      }
      if (const auto e = field.unescaped_key().get(key)) {
        return fail(e);
      }
      if (!member(key, field.value())) {
        return false;
      }
    }
    return true;
  }
  template<typename F> bool elements(od::array& array, F&& element) {
    for (auto result : array) {
      od::value value;
      if (const auto e = std::move(result).get(value)) {
        return fail(e);
      }
      if (!element(value)) {
        return false;
      }
    }
    return true;
  }

  // A value the caller does not keep: read through and checked. `depth` is
  // the nesting the value is at.
  bool skip(od::value& value, int depth = 0);

  // A value as field text: strings unescaped, numbers as `numbers` says,
  // booleans "true"/"false"; nullopt for null, objects and arrays (read
  // through by skip()). `type`: the value's type.
  bool scalar(od::value& value,
              std::optional<std::string>& out,
              od::json_type* type = nullptr,
              NumberText numbers = NumberText::raw);
  // A number's text; `integer`: it was written without fraction or exponent
  // and fits 64 bits (nlohmann's integer), so its text is exact.
  bool number(od::value& value, std::string& out, bool& integer, NumberText numbers);

private:
  struct Buffers;
  static Buffers& buffers();
  std::size_t offset();

  Buffers& m_buffers;
  std::size_t m_size;
  od::document m_doc;
  bool m_started = false;
  std::string m_error;
  std::string m_error_what;
  std::optional<std::size_t> m_error_offset;
};

} // namespace bobsync::controller::strict_json
