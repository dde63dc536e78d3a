#include "sandbox/sandbox.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace bobsync::sandbox {

std::string read_seed_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Sandbox::Sandbox(const SandboxConfig& config) {
  if (config.port < 0 || config.port > k_max_sandbox_port) {
    throw std::runtime_error(
        "invalid port " + std::to_string(config.port) + ": expected 0 (any free ports) or 1.."
        + std::to_string(k_max_sandbox_port) + " (fake Bob on it, fake JumpCloud on the next one)");
  }
  FakeBobOptions bob;
  bob.host = config.host;
  bob.port = config.port;
  bob.service_user_id = config.bob_user;
  bob.service_user_token = config.bob_token;
  bob.clock = config.clock;
  bob.webhook_url = config.webhook_url;
  bob.webhook_secret = config.webhook_secret;
  m_bob = std::make_unique<FakeBob>(bob);

  FakeJumpCloudOptions jumpcloud;
  jumpcloud.host = config.host;
  jumpcloud.port = config.port == 0 ? 0 : config.port + 1;
  jumpcloud.api_key = config.jumpcloud_key;
  jumpcloud.org_id = config.jumpcloud_org_id;
  jumpcloud.clock = config.clock;
  m_jumpcloud = std::make_unique<FakeJumpCloud>(jumpcloud);

  if (!config.seed_dir.empty() || config.builtin_seed) {
    const bool builtin = config.seed_dir.empty();
    const auto employees =
        builtin ? std::string("built-in employees.json") : config.seed_dir + "/employees.json";
    const auto users = builtin ? std::string("built-in jumpcloud-users.json")
                               : config.seed_dir + "/jumpcloud-users.json";
    const auto employees_text =
        builtin ? std::string(builtin_employees_json()) : read_seed_file(employees);
    const auto users_text =
        builtin ? std::string(builtin_jumpcloud_users_json()) : read_seed_file(users);
    try {
      m_bob->load_seed(employees_text);
    } catch (const std::exception& e) {
      throw std::runtime_error(employees + ": " + e.what());
    }
    try {
      m_jumpcloud->load_seed(users_text);
    } catch (const std::exception& e) {
      throw std::runtime_error(users + ": " + e.what());
    }
  }
}

Sandbox::~Sandbox() = default;

} // namespace bobsync::sandbox
