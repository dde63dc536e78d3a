// tune_allocator_for_passes(): what a pass frees is given back to the system,
// even when other threads allocated it (as Bob's parse threads allocate the
// employees the planning thread frees). Measured on this process's resident
// memory; glibc's allocator only (the sanitizers bring their own).

#include "controller/reconcile/reconciler.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bobsync::controller {
namespace {

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0;
  long resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

TEST(Allocator, SmallRecordsAllocatedOnAnotherThreadAreGivenBackOnceFreedHere) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers replace glibc's allocator";
#endif
  tune_allocator_for_passes();
  // 1,000,000 strings of 40 bytes on the heap (48-byte chunks: 48 MB) in a
  // vector of 32 MB, allocated by a thread that then ends, like a batch of
  // parsed employees.
  constexpr std::size_t k_records = 1'000'000;
  auto records = std::make_unique<std::vector<std::string>>();
  std::thread parser([&records] {
    records->reserve(k_records);
    for (std::size_t i = 0; i < k_records; ++i) {
      records->emplace_back(40, static_cast<char>('a' + i % 26));
    }
  });
  parser.join();
  const long before = resident_bytes();

  records.reset();
  release_free_memory();
  const long after = resident_bytes();

  // Without the tuning only the vector (mapped on its own) came back: the
  // strings stayed as the top of the thread's arena, which malloc_trim does
  // not shrink.
  const long strings = static_cast<long>(k_records) * 48;
  const long vector = static_cast<long>(k_records * sizeof(std::string));
  EXPECT_GE(before - after, vector + strings * 9 / 10)
      << "resident before " << before << " bytes, after " << after;
}

} // namespace
} // namespace bobsync::controller
