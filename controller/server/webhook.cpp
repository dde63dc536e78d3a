#include "controller/server/webhook.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace bobsync::controller::server {
namespace {

constexpr std::size_t k_mac_bytes = 64;            // SHA-512
constexpr std::size_t k_max_signature_chars = 256; // far above the 88 of a real one
constexpr std::size_t k_max_depth = 64;
constexpr std::size_t k_max_type_bytes = 128;
constexpr std::size_t k_max_employee_id = 64;

std::optional<std::array<unsigned char, k_mac_bytes>> hmac_sha512(std::string_view secret,
                                                                  std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  // An empty body still has a MAC; HMAC wants a non-null pointer.
  static const unsigned char k_empty = 0;
  const auto* data = body.empty() ? &k_empty : reinterpret_cast<const unsigned char*>(body.data());
  if (HMAC(EVP_sha512(),
           secret.data(),
           static_cast<int>(secret.size()),
           data,
           body.size(),
           mac.data(),
           &length)
          == nullptr
      || length != k_mac_bytes) {
    return std::nullopt;
  }
  std::array<unsigned char, k_mac_bytes> out{};
  std::copy_n(mac.begin(), k_mac_bytes, out.begin());
  return out;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Standard Base64, padding optional; nullopt for any other character, a bad
// length or padding in the middle.
std::optional<std::vector<unsigned char>> base64_decode(std::string_view text) {
  std::size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1 || (padding > 0 && (text.size() + padding) % 4 != 0)) {
    return std::nullopt;
  }
  std::vector<unsigned char> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = base64_value(c);
    if (value < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6U) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

bool valid_employee_id(std::string_view id) {
  if (id.empty() || id.size() > k_max_employee_id) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
           || c == '_';
  });
}

// What the envelope says, collected by the SAX handler below.
struct Envelope {
  bool root_is_object = false;
  std::optional<std::string> type;
  bool type_not_string = false;
  std::optional<std::string> text;           // {"text": "Ping test"}
  std::optional<std::string> employee_id;    // data.employeeId
  std::optional<std::string> v1_employee_id; // employee.id (legacy v1)
  bool employee_id_not_scalar = false;
  std::string error;
};

// Streams through the body keeping a stack of keys; stores only the values at
// the few paths the controller reads. Depth is bounded, duplicates of those
// paths are errors.
class EnvelopeReader final : public nlohmann::json_sax<nlohmann::json> {
public:
  explicit EnvelopeReader(Envelope& out)
      : m_out(out) {}

  bool null() override { return scalar(std::nullopt, false); }
  bool boolean(bool /*value*/) override { return scalar(std::nullopt, false); }
  bool number_integer(number_integer_t value) override {
    return scalar(std::to_string(value), true);
  }
  bool number_unsigned(number_unsigned_t value) override {
    return scalar(std::to_string(value), true);
  }
  bool number_float(number_float_t /*value*/, const string_t& /*raw*/) override {
    return scalar(std::nullopt, false);
  }
  bool string(string_t& value) override { return scalar(std::move(value), false, true); }
  bool binary(binary_t& /*value*/) override { return scalar(std::nullopt, false); }

  bool start_object(std::size_t /*elements*/) override {
    if (m_frames.empty()) {
      m_out.root_is_object = true;
    }
    return push(true);
  }
  bool key(string_t& value) override {
    m_frames.back().key = std::move(value);
    return true;
  }
  bool end_object() override {
    m_frames.pop_back();
    return true;
  }
  bool start_array(std::size_t /*elements*/) override { return push(false); }
  bool end_array() override {
    m_frames.pop_back();
    return true;
  }
  bool parse_error(std::size_t position,
                   const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    if (m_out.error.empty()) {
      m_out.error = "body is not valid JSON (at byte " + std::to_string(position) + ")";
    }
    return false;
  }

private:
  struct Frame {
    bool is_object = false;
    std::string key;
  };

  bool push(bool is_object) {
    if (m_frames.size() >= k_max_depth) {
      m_out.error = "JSON nested deeper than " + std::to_string(k_max_depth) + " levels";
      return false;
    }
    m_frames.push_back(Frame{is_object, {}});
    return true;
  }

  // The path of the value being read, as keys of objects only; nullopt when
  // any level is an array (nothing the controller reads is in an array).
  bool at(std::initializer_list<std::string_view> path) const {
    if (m_frames.size() != path.size()) {
      return false;
    }
    std::size_t i = 0;
    for (const auto& part : path) {
      if (!m_frames[i].is_object || m_frames[i].key != part) {
        return false;
      }
      ++i;
    }
    return true;
  }

  bool set_once(std::optional<std::string>& slot, std::string value, std::string_view name) {
    if (slot) {
      m_out.error = "duplicate key " + std::string(name);
      return false;
    }
    slot = std::move(value);
    return true;
  }

  bool scalar(std::optional<std::string> value, bool is_number, bool is_string = false) {
    if (at({"type"})) {
      if (!is_string) {
        m_out.type_not_string = true;
        return true;
      }
      return set_once(m_out.type, std::move(*value), "type");
    }
    if (at({"text"}) && is_string) {
      return set_once(m_out.text, std::move(*value), "text");
    }
    if (at({"data", "employeeId"})) {
      if (!value || (!is_string && !is_number)) {
        m_out.employee_id_not_scalar = true;
        return true;
      }
      return set_once(m_out.employee_id, std::move(*value), "data.employeeId");
    }
    if (at({"employee", "id"}) && value) {
      return set_once(m_out.v1_employee_id, std::move(*value), "employee.id");
    }
    return true;
  }

  Envelope& m_out;
  std::vector<Frame> m_frames;
};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

BobEvent malformed(std::string error, std::string type = {}) {
  BobEvent event;
  event.kind = BobEventKind::malformed;
  event.type = std::move(type);
  event.error = std::move(error);
  return event;
}

constexpr std::array<std::string_view, 12> k_known_types = {
    "employee.created",
    "employee.updated",
    "employee.deleted",
    "employee.joined",
    "employee.left",
    "employee.inactivated",
    "employee.activated",
    "employee.temporaryLeave",
    "employee.access.revoked.immediately",
    "table.entry.created",
    "table.entry.updated",
    "table.entry.deleted",
};

} // namespace

bool verify_bob_signature(std::string_view secret,
                          std::string_view raw_body,
                          std::string_view signature_header) {
  if (secret.empty()) {
    return false;
  }
  const auto header = trim(signature_header);
  if (header.empty() || header.size() > k_max_signature_chars) {
    return false;
  }
  const auto presented = base64_decode(header);
  if (!presented || presented->size() != k_mac_bytes) {
    return false;
  }
  const auto expected = hmac_sha512(secret, raw_body);
  if (!expected) {
    return false;
  }
  return CRYPTO_memcmp(expected->data(), presented->data(), k_mac_bytes) == 0;
}

std::string bob_signature(std::string_view secret, std::string_view raw_body) {
  const auto mac = hmac_sha512(secret, raw_body);
  if (!mac) {
    return {};
  }
  std::string out(4 * ((k_mac_bytes + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(
      reinterpret_cast<unsigned char*>(out.data()), mac->data(), static_cast<int>(mac->size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string_view to_string(BobEventKind kind) {
  switch (kind) {
  case BobEventKind::ping:
    return "ping";
  case BobEventKind::employee:
    return "employee";
  case BobEventKind::table_entry:
    return "table_entry";
  case BobEventKind::unknown:
    return "unknown";
  case BobEventKind::malformed:
    return "malformed";
  }
  return "malformed";
}

bool is_known_bob_event_type(std::string_view type) {
  return std::find(k_known_types.begin(), k_known_types.end(), type) != k_known_types.end();
}

BobEvent parse_bob_event(std::string_view body) {
  const auto trimmed = trim(body);
  if (trimmed == "Ping test") {
    BobEvent event;
    event.kind = BobEventKind::ping;
    return event;
  }
  if (trimmed.empty()) {
    return malformed("body is empty");
  }
  Envelope envelope;
  EnvelopeReader reader(envelope);
  const bool parsed =
      nlohmann::json::sax_parse(trimmed, &reader, nlohmann::json::input_format_t::json, true);
  if (!parsed) {
    return malformed(envelope.error.empty() ? "body is not valid JSON" : envelope.error);
  }
  if (!envelope.root_is_object) {
    return malformed("body is not a JSON object");
  }
  if (envelope.type_not_string) {
    return malformed("`type` is not a string");
  }
  if (!envelope.type) {
    if (envelope.text && *envelope.text == "Ping test") {
      BobEvent event;
      event.kind = BobEventKind::ping;
      return event;
    }
    return malformed("no `type` in the event");
  }
  std::string type = std::move(*envelope.type);
  if (type.empty()) {
    return malformed("`type` is empty");
  }
  if (type.size() > k_max_type_bytes) {
    return malformed("`type` is longer than " + std::to_string(k_max_type_bytes) + " bytes");
  }
  const bool is_employee = starts_with(type, "employee.");
  const bool is_table = starts_with(type, "table.entry.");
  if (!is_employee && !is_table) {
    BobEvent event;
    event.kind = BobEventKind::unknown;
    event.type = std::move(type);
    return event;
  }
  if (envelope.employee_id_not_scalar) {
    return malformed("`data.employeeId` is not a string", std::move(type));
  }
  std::optional<std::string> id =
      envelope.employee_id ? envelope.employee_id : envelope.v1_employee_id;
  if (!id) {
    return malformed("no `data.employeeId` in a " + type + " event", std::move(type));
  }
  if (!valid_employee_id(*id)) {
    return malformed("`data.employeeId` is not a Bob employee id (1-64 letters, digits, - or _)",
                     std::move(type));
  }
  BobEvent event;
  event.kind = is_employee ? BobEventKind::employee : BobEventKind::table_entry;
  event.type = std::move(type);
  event.employee_id = std::move(*id);
  return event;
}

} // namespace bobsync::controller::server
