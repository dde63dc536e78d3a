#pragma once

// The command line. `run` parses arguments, runs one subcommand and returns
// its exit code; it takes the streams so end-to-end tests call it in-process.

#include <iosfwd>
#include <string>
#include <vector>

namespace bobsync::cli {

// Exit codes of PRODUCT.md §2.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_error = 1;
inline constexpr int k_exit_changes = 2;
inline constexpr int k_exit_blocked = 3;

// args excludes the program name. Never throws: errors are printed to `err`
// as "bobsync: error: ..." and give exit code 1.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace bobsync::cli
