#pragma once

// The command line. `run` parses arguments, runs one subcommand and returns
// its exit code; it takes the streams so end-to-end tests call it in-process.

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {
class Clock;
} // namespace bobsync::controller

namespace bobsync::cli {

// What tests inject into an in-process run.
struct Hooks {
  // Time for HTTP retries, backoff and rate limits (a manual clock makes
  // backoff instant). Default: the system clock.
  std::shared_ptr<controller::Clock> clock;
  // Called by apply at named points ("after_intent", "after_call").
  std::function<void(std::string_view)> fault_point;
};

// Exit codes of PRODUCT.md §2.
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_error = 1;
inline constexpr int k_exit_changes = 2;
inline constexpr int k_exit_blocked = 3;

// args excludes the program name. Never throws: errors are printed to `err`
// as "bobsync: error: ..." and give exit code 1.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run(const std::vector<std::string>& args,
        std::ostream& out,
        std::ostream& err,
        const Hooks& hooks);

} // namespace bobsync::cli
