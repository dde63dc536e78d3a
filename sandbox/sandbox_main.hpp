#pragma once

// `bobsync sandbox`: both fakes on loopback until told to stop.

#include <atomic>
#include <ostream>
#include <string>

namespace bobsync::sandbox {

// The credentials the sandbox uses when the environment sets none. They are
// not secrets, so run_sandbox prints them; any other value is not printed.
inline constexpr const char* k_default_bob_user = "sandbox-user";
inline constexpr const char* k_default_bob_token = "sandbox-token";
inline constexpr const char* k_default_jumpcloud_key = "sandbox-key";
inline constexpr const char* k_default_webhook_secret = "sandbox-webhook-secret";

struct SandboxOptions {
  int port = 0;         // Bob on port, JumpCloud on port + 1; 0: ephemeral
  std::string seed_dir; // empty: the built-in seed (examples/sandbox)
  std::string bob_user = k_default_bob_user;
  std::string bob_token = k_default_bob_token;
  std::string jumpcloud_key = k_default_jumpcloud_key;
  std::string webhook_url;
  std::string webhook_secret = k_default_webhook_secret;
};

// Starts the sandbox, prints both base URLs and the `export ...` lines a
// shell needs to point bobsync at it, then blocks until `stop` becomes true
// (the CLI sets it from SIGINT/SIGTERM). Returns 0 after a clean stop, 1 when
// the sandbox cannot start (the reason goes to `err`).
int run_sandbox(const SandboxOptions& options,
                std::ostream& out,
                std::ostream& err,
                std::atomic<bool>& stop);

} // namespace bobsync::sandbox
