#include "controller/cli/settings.hpp"

#include "state/timestamp.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bobsync::cli {

namespace {

// Refuses a credential holding a control character (CR and LF would let it
// add a header to every request). Names the variable, never the value.
std::string checked_secret(const std::string& variable, std::string value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      throw Fatal(variable
                  + " contains a control character (such as a line break or a tab); "
                    "set it to the credential alone");
    }
  }
  return value;
}

} // namespace

std::optional<std::string> read_secret(const std::string& name) {
  if (const char* value = std::getenv(name.c_str()); value != nullptr && *value != '\0') {
    return checked_secret(name, value);
  }
  const std::string file_var = name + "_FILE";
  const char* path = std::getenv(file_var.c_str());
  if (path == nullptr || *path == '\0') {
    return std::nullopt;
  }
  std::string value;
  try {
    value = read_file(path, k_max_secret_file_bytes);
  } catch (const Fatal& e) {
    throw Fatal(file_var + ": " + e.what());
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  if (value.empty()) {
    throw Fatal(file_var + " names '" + path + "', which is empty");
  }
  return checked_secret(file_var + " ('" + std::string(path) + "')", std::move(value));
}

std::string require_secret(const std::string& name) {
  auto value = read_secret(name);
  if (!value) {
    throw Fatal("missing credential: set " + name + " (or " + name + "_FILE to a file holding it)");
  }
  return *value;
}

std::chrono::system_clock::time_point parse_now(const std::string& text) {
  // The year is checked before the time is computed: past 2262 the
  // nanosecond clock wraps around.
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits >= 4
      && (digits > 4 || std::stoi(text.substr(0, 4)) < k_min_now_year
          || std::stoi(text.substr(0, 4)) > k_max_now_year)) {
    throw Fatal("--now / BOBSYNC_NOW: '" + text + "' is out of range: give a moment from "
                + std::to_string(k_min_now_year) + "-01-01 to " + std::to_string(k_max_now_year)
                + "-12-31");
  }
  if (auto tp = state::parse_timestamp(text)) {
    return *tp;
  }
  throw Fatal("--now / BOBSYNC_NOW: '" + text
              + "' is not a timestamp (expected 2026-11-27, 2026-11-27T09:30:00Z or "
                "2026-11-27T09:30:00+01:00)");
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    switch (error) {
    case ENOENT:
      throw Fatal("'" + path + "' does not exist");
    case EACCES:
      throw Fatal("'" + path + "' cannot be read: permission denied");
    default:
      throw Fatal("'" + path + "' cannot be read: " + std::strerror(error));
    }
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    throw Fatal("'" + path + "' cannot be read: " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) {
    throw Fatal("'" + path + "' is a directory, not a file");
  }
  if (!S_ISREG(info.st_mode)) {
    throw Fatal("'" + path + "' is not a regular file (a device, FIFO or socket)");
  }
  const auto too_large = [&] {
    return Fatal("'" + path + "' is larger than " + std::to_string(max_bytes / 1024)
                 + " KiB, the most bobsync reads for it");
  };
  if (static_cast<std::uint64_t>(info.st_size) > max_bytes) {
    throw too_large();
  }
  // Read at most one byte past the limit: a file that grows (or reports a
  // wrong size) is still bounded.
  std::string text;
  std::array<char, 65536> buffer{};
  while (text.size() <= max_bytes) {
    const auto want = std::min(buffer.size(), max_bytes + 1 - text.size());
    const auto got = ::read(fd, buffer.data(), want);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw Fatal("'" + path + "' cannot be read: " + std::strerror(errno));
    }
    if (got == 0) {
      break;
    }
    text.append(buffer.data(), static_cast<std::size_t>(got));
  }
  if (text.size() > max_bytes) {
    throw too_large();
  }
  return text;
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
