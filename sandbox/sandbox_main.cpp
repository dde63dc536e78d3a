#include "sandbox/sandbox_main.hpp"

#include "sandbox/sandbox.hpp"

#include <chrono>
#include <thread>

namespace bobsync::sandbox {
namespace {

std::string shown(const std::string& value, const char* default_value) {
  return value == default_value ? value : std::string("<the value already in your environment>");
}

} // namespace

int run_sandbox(const SandboxOptions& options,
                std::ostream& out,
                std::ostream& err,
                std::atomic<bool>& stop) {
  SandboxConfig config;
  config.seed_dir = options.seed_dir;
  config.builtin_seed = options.seed_dir.empty();
  config.port = options.port;
  config.bob_user = options.bob_user;
  config.bob_token = options.bob_token;
  config.jumpcloud_key = options.jumpcloud_key;
  config.webhook_url = options.webhook_url;
  config.webhook_secret = options.webhook_secret;
  std::unique_ptr<Sandbox> sandbox;
  try {
    sandbox = std::make_unique<Sandbox>(config);
  } catch (const std::exception& e) {
    err << "bobsync sandbox: error: " << e.what() << '\n';
    return 1;
  }
  auto& bob = sandbox->bob();
  auto& jumpcloud = sandbox->jumpcloud();
  const auto bob_admin = bob.base_url().substr(0, bob.base_url().size() - 3) + "/_admin";
  const auto jc_admin = jumpcloud.base_url().substr(0, jumpcloud.base_url().size() - 4) + "/_admin";
  out << "bobsync sandbox: fake Bob at " << bob.base_url() << " (" << bob.employee_count()
      << " employees), fake JumpCloud at " << jumpcloud.base_url() << " (" << jumpcloud.user_count()
      << " users), seeded from "
      << (options.seed_dir.empty() ? std::string("the built-in example seed") : options.seed_dir)
      << "\n"
      << "\nPoint bobsync at it (in another shell):\n"
      << "  export BOB_API_URL=" << bob.base_url() << '\n'
      << "  export BOB_SERVICE_USER_ID=" << shown(options.bob_user, k_default_bob_user) << '\n'
      << "  export BOB_SERVICE_USER_TOKEN=" << shown(options.bob_token, k_default_bob_token) << '\n'
      << "  export JUMPCLOUD_API_URL=" << jumpcloud.base_url() << '\n'
      << "  export JUMPCLOUD_API_KEY=" << shown(options.jumpcloud_key, k_default_jumpcloud_key)
      << '\n'
      << "  export BOB_WEBHOOK_SECRET=" << shown(options.webhook_secret, k_default_webhook_secret)
      << '\n'
      << "\nAdmin endpoints (see docs/sandbox.md): " << bob_admin << "/employees, " << jc_admin
      << "/users\n";
  if (!options.webhook_url.empty()) {
    out << "Bob webhooks go to " << options.webhook_url << '\n';
  }
  out << "Press Ctrl-C to stop.\n";
  out.flush();
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  out << "bobsync sandbox: stopped\n";
  return 0;
}

} // namespace bobsync::sandbox
