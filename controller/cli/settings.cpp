#include "controller/cli/settings.hpp"

#include "state/timestamp.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace bobsync::cli {

std::optional<std::string> read_secret(const std::string& name) {
  if (const char* value = std::getenv(name.c_str()); value != nullptr && *value != '\0') {
    return std::string(value);
  }
  const std::string file_var = name + "_FILE";
  const char* path = std::getenv(file_var.c_str());
  if (path == nullptr || *path == '\0') {
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Fatal(file_var + " names '" + path + "', which cannot be read");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  if (value.empty()) {
    throw Fatal(file_var + " names '" + path + "', which is empty");
  }
  return value;
}

std::string require_secret(const std::string& name) {
  auto value = read_secret(name);
  if (!value) {
    throw Fatal("missing credential: set " + name + " (or " + name + "_FILE to a file holding it)");
  }
  return *value;
}

std::chrono::system_clock::time_point parse_now(const std::string& text) {
  if (auto tp = state::parse_timestamp(text)) {
    return *tp;
  }
  throw Fatal("--now / BOBSYNC_NOW: '" + text
              + "' is not a timestamp (expected 2026-11-27, 2026-11-27T09:30:00Z or "
                "2026-11-27T09:30:00+01:00)");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Fatal("cannot read '" + path + "'");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string sha256_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw Fatal("SHA-256 failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += k_hex[digest.at(i) >> 4U];
    out += k_hex[digest.at(i) & 0xFU];
  }
  return out;
}

void apply_url_overrides(policies::Policy& policy) {
  if (const char* url = std::getenv("BOB_API_URL"); url != nullptr && *url != '\0') {
    policy.bob_url = url;
  }
  if (const char* url = std::getenv("JUMPCLOUD_API_URL"); url != nullptr && *url != '\0') {
    policy.jumpcloud_url = url;
  }
}

} // namespace bobsync::cli
