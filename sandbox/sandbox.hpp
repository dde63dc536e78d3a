#pragma once

// Both fakes together, seeded from a directory: for `bobsync sandbox`, the
// end-to-end tests, the benchmarks and the demo.

#include "sandbox/fake_bob.hpp"
#include "sandbox/fake_jumpcloud.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bobsync::sandbox {

struct SandboxConfig {
  // Holds employees.json (FakeBob's seed format) and jumpcloud-users.json (a
  // JSON array of JumpCloud users). Empty: the built-in seed when
  // builtin_seed is set, else both fakes start empty.
  std::string seed_dir;
  bool builtin_seed = false; // examples/sandbox, built into the binary
  // Bob on port, JumpCloud on port + 1; 0: both ephemeral. 0..65534, and
  // both ports free: a port in use is refused, never shared.
  int port = 0;
  std::string host = "127.0.0.1";
  std::string bob_user = "sandbox-user";
  std::string bob_token = "sandbox-token";
  std::string jumpcloud_key = "sandbox-key";
  std::optional<std::string> jumpcloud_org_id;
  std::string webhook_url; // Bob webhooks go here when set
  std::string webhook_secret = "sandbox-webhook-secret";
  WallClock clock; // both fakes; default: the system clock
};

// Starts FakeBob and FakeJumpCloud and loads the seed. Throws
// std::runtime_error naming the file or port at fault.
class Sandbox {
public:
  explicit Sandbox(const SandboxConfig& config);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  FakeBob& bob() { return *m_bob; }
  FakeJumpCloud& jumpcloud() { return *m_jumpcloud; }

private:
  std::unique_ptr<FakeBob> m_bob;
  std::unique_ptr<FakeJumpCloud> m_jumpcloud;
};

// Reads a whole file; throws std::runtime_error naming it.
std::string read_seed_file(const std::string& path);

// The built-in seed: examples/sandbox's files as they were at build time.
std::string_view builtin_employees_json();
std::string_view builtin_jumpcloud_users_json();

// The highest `port` a sandbox takes (JumpCloud listens on port + 1).
inline constexpr int k_max_sandbox_port = 65534;

} // namespace bobsync::sandbox
