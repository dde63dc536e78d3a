#pragma once

// The composition root: the only place that names concrete adapter types.

#include "controller/ports/directory.hpp"
#include "controller/ports/hr_source.hpp"
#include "policies/policy.hpp"
#include "state/store.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bobsync::controller {
class Clock;
} // namespace bobsync::controller

namespace bobsync::controller::http {
struct AttemptInfo;
} // namespace bobsync::controller::http

namespace bobsync::cli {

struct LiveSources {
  std::shared_ptr<void> keep_alive; // transports the adapters use
  std::unique_ptr<controller::HrSource> hr;
  std::unique_ptr<controller::Directory> directory;
};

// The process's one clock, which the sources, the store and the pass share:
// `injected` when given (tests pass a ManualClock), else the system clock.
std::shared_ptr<controller::Clock>
make_clock(std::shared_ptr<controller::Clock> injected = nullptr);

// Progress of the full reads, for a terminal's progress line (either may
// be empty): Bob's employees received so far, JumpCloud's users listed so
// far of the totalCount announced.
struct ReadProgress {
  std::function<void(std::size_t employees)> bob;
  std::function<void(long long read, long long total)> jumpcloud;
};

// Bob and JumpCloud clients over HTTP for the policy's URLs, with credentials
// from the environment (throws Fatal when one is missing or a URL is refused;
// the message names the variable or policy key the URL came from).
// `clock` (may be null: the system clock) times retries and rate limits.
// `on_attempt` (optional) is called once per HTTP attempt of either client
// (metrics). `progress` reports the full reads as they go.
LiveSources
make_live_sources(const policies::Policy& policy,
                  std::shared_ptr<controller::Clock> clock = nullptr,
                  std::function<void(const controller::http::AttemptInfo&)> on_attempt = nullptr,
                  ReadProgress progress = {});

// BOBSYNC_CRASH_AT=<point>:<n> makes apply and run exit abruptly (137) the
// n-th time they reach <point> (a journal step: "after_intent",
// "after_call"): the crash-safety tests run the real binary with it. Null
// when the variable is unset or empty.
std::function<void(std::string_view)> crash_hook_from_env();

// The command open_store records as a writer's holder when it is given
// none: cli::run sets it to "bobsync <command>".
void set_default_store_holder(std::string holder);

// The SQLite state store at `path`. A writer holds the database's lock (a
// second writer is refused with a clear message naming `holder`, the
// command that holds it: "bobsync apply", "bobsync run"; empty: the
// default store holder); a reader does not and only reads. A missing
// database is created for a writer and is an empty store for a reader. A
// damaged database is refused. `clock` (may be null: the system clock)
// times what the store stamps itself. Throws StoreError.
std::unique_ptr<state::StateStore> open_store(const std::string& path,
                                              bool writer,
                                              std::shared_ptr<controller::Clock> clock = nullptr,
                                              const std::string& holder = "");

} // namespace bobsync::cli
