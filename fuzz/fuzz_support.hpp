#pragma once

// Shared by the fuzz targets: a property that does not hold is a finding.

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bobsync::fuzz {

// Aborts (libFuzzer records the input as a crash) when `ok` is false.
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

inline std::string_view as_text(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

} // namespace bobsync::fuzz
