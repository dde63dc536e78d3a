#pragma once

// `bobsync run`: the controller's composition root. Controller wires the
// policy source, the state store (held as the writer), the Bob and JumpCloud
// clients, the loop, the listener (webhooks, /healthz, /readyz, /metrics),
// logs and metrics; cmd_run adds the command line and the signals (SIGTERM /
// SIGINT stop, SIGHUP reloads the policy). End-to-end tests drive a
// Controller directly on a thread.

#include "controller/run/loop.hpp"

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace boost::program_options {
class options_description;
class variables_map;
} // namespace boost::program_options

namespace bobsync::controller::observability {
class Metrics;
} // namespace bobsync::controller::observability

namespace bobsync::cli {

struct Hooks;

struct RunSettings {
  std::string policy_path;
  std::string db_path = "bobsync.db";
  std::string listen = "127.0.0.1:8080"; // HOST:PORT; port 0: any free port
  std::string log_format = "text";       // text | json
  std::string log_level = "info";
  // --now: the controller's wall clock starts here and runs on in real time.
  std::optional<std::chrono::system_clock::time_point> start_at;
  bool once = false;                         // one full pass, then exit (no listener)
  bool no_webhooks = false;                  // serve health and metrics only; no secret needed
  std::optional<std::string> webhook_secret; // BOB_WEBHOOK_SECRET(_FILE)
  std::ostream* log_out = nullptr;           // logs; null: stderr
  // Tests: the HTTP clients' clock (a manual clock makes retries instant).
  std::shared_ptr<controller::Clock> http_clock;
  std::function<void(std::string_view)> fault_point;
  controller::run::LoopOptions loop;
};

class Controller {
public:
  // Loads the policy and opens the store as the writer. Throws Fatal (an
  // invalid policy: its diagnostics are in the message; a missing secret; a
  // bad --listen) or StoreError (another process holds the database).
  explicit Controller(RunSettings settings);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the listener and runs the loop until stop(); returns the exit
  // code (0 after a stop). With `once`: one full pass, its exit code (0
  // converged, 1 failed, 3 blocked).
  int run();
  // Any thread (a signal thread): finish the pass in flight and return.
  void stop();
  void reload(); // SIGHUP

  // The listener's port once run() started serving (0 before; -1 with once).
  int port() const;
  bool wait_until_serving(std::chrono::milliseconds timeout) const;
  controller::run::Loop& loop();
  controller::observability::Metrics& metrics();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// The command-table entry of cli.cpp.
std::string run_summary();
std::string run_usage();
void add_run_options(boost::program_options::options_description& options);
int cmd_run(const boost::program_options::variables_map& vm,
            std::ostream& out,
            std::ostream& err,
            const Hooks* hooks);

} // namespace bobsync::cli
