// Bob's people-search answer: the streaming splitter (fed in chunks cut at
// input-chosen places, which must not change what it finds) and the employee
// reader on every object it yields.

#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/bob/bob_record.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.hpp"

namespace {

const std::vector<std::string> k_fields = {"root.id",
                                           "root.email",
                                           "root.displayName",
                                           "work.title",
                                           "work.startDate",
                                           "work.manager",
                                           "internal.status",
                                           "root.firstName"};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using bobsync::fuzz::require;
  if (size < 1) {
    return 0;
  }
  // The first byte picks the chunk size (1..256); the rest is the body.
  const std::size_t chunk = static_cast<std::size_t>(data[0]) + 1;
  const auto text = bobsync::fuzz::as_text(data + 1, size - 1);

  std::vector<std::string> whole;
  std::string whole_error;
  const bool whole_ok = bobsync::controller::split_search_response(text, whole, whole_error);

  std::vector<std::string> pieces;
  bobsync::controller::SearchSplitter splitter([&](std::string&& employee) {
    pieces.push_back(std::move(employee));
    return true;
  });
  bool ok = true;
  for (std::size_t at = 0; ok && at < text.size(); at += chunk) {
    ok = splitter.feed(text.substr(at, chunk));
  }
  ok = ok && splitter.finish();
  require(ok == whole_ok, "chunking changes whether the answer is accepted");
  require(!ok || pieces == whole, "chunking changes the employee objects");
  require(ok || !splitter.error().empty(), "a refusal without an error message");

  const bobsync::controller::EmployeeReader reader(k_fields);
  bool all_read = ok;
  for (const auto& employee : pieces) {
    std::string error;
    const auto read = reader.read(employee, error);
    require(read.has_value() || !error.empty(), "an unreadable employee without an error");
    all_read = all_read && read.has_value();
  }
  // The splitter is not a parser: what it and the reader accept together
  // must be JSON all the same (nlohmann as the second opinion).
  require(!all_read || nlohmann::json::accept(text), "an answer accepted that is not JSON");
  std::string error;
  const auto employees = bobsync::controller::employees_from_search_text(text, k_fields, error);
  require(employees.has_value() || !error.empty(), "a refused answer without an error");
  return 0;
}
