#include "controller/adapters/json/strict_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace bobsync::controller::strict_json {

struct StrictReader::Buffers {
  od::parser parser;
  std::string padded;
  bool in_use = false;
};

StrictReader::Buffers& StrictReader::buffers() {
  thread_local Buffers buffers;
  return buffers;
}

std::string_view type_name(od::json_type type) {
  switch (type) {
  case od::json_type::object:
    return "object";
  case od::json_type::array:
    return "array";
  case od::json_type::string:
    return "string";
  case od::json_type::number:
    return "number";
  case od::json_type::boolean:
    return "boolean";
  case od::json_type::null:
    return "null";
  }
  return "value";
}

StrictReader::StrictReader(std::string_view text)
    : m_buffers(buffers()),
      m_size(text.size()) {
  if (m_buffers.in_use) {
    // Two readers would share (and overwrite) the thread's buffer.
    throw std::logic_error("StrictReader: a second reader on the same thread");
  }
  m_buffers.in_use = true;
  auto& padded = m_buffers.padded;
  if (padded.size() < text.size() + simdjson::SIMDJSON_PADDING) {
    padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  }
  // The padding is zeroed, not left as the last input had it: simdjson
  // peeks at the byte after the last token, and a stale '}' or ',' there
  // would make a truncated input look longer (simdjson issue #1834).
  const auto end = std::copy(text.begin(), text.end(), padded.begin());
  std::fill(end, end + simdjson::SIMDJSON_PADDING, '\0');
}

StrictReader::~StrictReader() {
  m_buffers.in_use = false;
}

bool StrictReader::start() {
  const auto& padded = m_buffers.padded;
  if (const auto e = m_buffers.parser.iterate(padded.data(), m_size, padded.size()).get(m_doc)) {
    m_error = m_error_what = simdjson::error_message(e); // the first stage does not say where
    return false;
  }
  m_started = true;
  return true;
}

bool StrictReader::at_end() {
  const char* location = nullptr;
  return m_doc.current_location().get(location) == simdjson::OUT_OF_BOUNDS;
}

bool StrictReader::fail_at(std::string_view message, std::size_t offset) {
  if (m_error.empty()) {
    m_error_what = message;
    m_error_offset = offset;
    m_error = m_error_what + " at byte " + std::to_string(offset);
  }
  return false;
}

std::size_t StrictReader::offset() {
  const char* location = nullptr;
  if (!m_started || m_doc.current_location().get(location) != simdjson::SUCCESS) {
    return m_size;
  }
  return static_cast<std::size_t>(location - m_buffers.padded.data());
}

bool StrictReader::skip(od::value& value, int depth) {
  if (depth > k_max_depth) {
    return fail("nesting too deep");
  }
  od::json_type type{};
  if (const auto e = value.type().get(type)) {
    return fail(e);
  }
  auto nested = [&](od::value& inner) { return skip(inner, depth + 1); };
  switch (type) {
  case od::json_type::object: {
    od::object object;
    if (const auto e = value.get_object().get(object)) {
      return fail(e);
    }
    return members(object, [&](std::string_view, od::value& inner) { return nested(inner); });
  }
  case od::json_type::array: {
    od::array array;
    if (const auto e = value.get_array().get(array)) {
      return fail(e);
    }
    return elements(array, nested);
  }
  case od::json_type::string:
  case od::json_type::number:
  case od::json_type::boolean:
  case od::json_type::null: {
    std::optional<std::string> ignored;
    return scalar(value, ignored);
  }
  }
  return fail("invalid value");
}

bool StrictReader::scalar(od::value& value,
                          std::optional<std::string>& out,
                          od::json_type* type_out,
                          NumberText numbers) {
  out.reset();
  od::json_type type{};
  if (const auto e = value.type().get(type)) {
    return fail(e);
  }
  if (type_out != nullptr) {
    *type_out = type;
  }
  switch (type) {
  case od::json_type::object:
  case od::json_type::array:
    return skip(value);
  case od::json_type::string: {
    std::string_view text;
    if (const auto e = value.get_string().get(text)) {
      return fail(e);
    }
    out.emplace(text);
    return true;
  }
  case od::json_type::number: {
    bool integer = false;
    return number(value, out.emplace(), integer, numbers);
  }
  case od::json_type::boolean: {
    bool flag = false;
    if (const auto e = value.get_bool().get(flag)) {
      return fail(e, "invalid value"); // "tru", "falsey"
    }
    out.emplace(flag ? "true" : "false");
    return true;
  }
  case od::json_type::null: {
    bool null = false;
    if (const auto e = value.is_null().get(null)) {
      return fail(e);
    }
    return null || fail("invalid value");
  }
  }
  return fail("invalid value");
}

bool StrictReader::number(od::value& value, std::string& out, bool& integer, NumberText numbers) {
  // The token as written, up to the whitespace before the next one.
  auto text = value.raw_json_token();
  text = text.substr(0, text.find_last_not_of(" \t\n\r") + 1);
  integer = false;
  if (text.find_first_of(".eE") == std::string_view::npos) {
    // Written as an integer: exact when it fits 64 bits, as nlohmann keeps it.
    if (!text.empty() && text.front() == '-') {
      std::int64_t n = 0;
      integer = value.get_int64().get(n) == simdjson::SUCCESS;
      if (integer && numbers == NumberText::nlohmann) {
        out = std::to_string(n);
      }
    } else {
      std::uint64_t n = 0;
      integer = value.get_uint64().get(n) == simdjson::SUCCESS;
      if (integer && numbers == NumberText::nlohmann) {
        out = std::to_string(n);
      }
    }
    if (integer) {
      if (numbers == NumberText::raw) {
        out.assign(text);
      }
      return true;
    }
  }
  // Checked as a double, which any JSON number is (an integer past 64 bits
  // too); a number out of a double's range is refused.
  double parsed = 0;
  if (const auto e = value.get_double().get(parsed)) {
    return fail(e);
  }
  if (numbers == NumberText::raw) {
    out.assign(text);
  } else {
    out = nlohmann::json(parsed).dump();
  }
  return true;
}

} // namespace bobsync::controller::strict_json
