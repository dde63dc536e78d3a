// The sandbox: both fakes from the example seed, and `bobsync sandbox`'s entry point.

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/sandbox_main.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace bobsync::sandbox {
namespace {

const std::string k_seed = std::string(BOBSYNC_SOURCE_DIR) + "/examples/sandbox";

TEST(Sandbox, ServesTheExampleSeedToTheClients) {
  SandboxConfig config;
  config.seed_dir = k_seed;
  Sandbox sandbox(config);
  controller::ManualClock clock;
  controller::http::CurlTransport transport;
  controller::BobSettings bob;
  bob.base_url = sandbox.bob().base_url();
  bob.service_user_id = config.bob_user;
  bob.service_user_token = config.bob_token;
  controller::JumpCloudSettings jc;
  jc.base_url = sandbox.jumpcloud().base_url();
  jc.api_key = config.jumpcloud_key;
  controller::BobHrSource hr(transport, clock, bob);
  controller::JumpCloudDirectory directory(transport, clock, jc);

  auto employees = hr.list_employees({"root.email", "work.employeeIdInCompany"});
  auto users = directory.list_users();

  ASSERT_TRUE(employees) << employees.error().message;
  ASSERT_TRUE(users) << users.error().message;
  EXPECT_EQ(employees->size(), 55U);
  EXPECT_EQ(users->size(), 12U);
  const auto admin = std::find_if(users->begin(), users->end(), [](const auto& u) {
    return u.get("email") == "it-admin@example.com";
  });
  ASSERT_NE(admin, users->end());
  // Matches by email exist only in another case.
  EXPECT_TRUE(std::any_of(users->begin(), users->end(), [](const auto& u) {
    return u.get("email") == "Priya.Sharma@Example.com";
  }));
}

TEST(Sandbox, ABrokenSeedNamesTheFile) {
  SandboxConfig config;
  config.seed_dir = std::string(BOBSYNC_SOURCE_DIR) + "/no/such/dir";

  try {
    Sandbox sandbox(config);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/employees.json"), std::string::npos)
        << e.what();
  }
}

TEST(RunSandbox, PrintsTheEnvironmentAndStopsWhenAsked) {
  SandboxOptions options;
  options.seed_dir = k_seed;
  options.jumpcloud_key = "a-real-looking-key";
  std::ostringstream out;
  std::ostringstream err;
  std::atomic<bool> stop{true}; // already asked: returns after printing

  const int code = run_sandbox(options, out, err, stop);

  EXPECT_EQ(code, 0) << err.str();
  const auto text = out.str();
  EXPECT_NE(text.find("export BOB_API_URL=http://127.0.0.1:"), std::string::npos) << text;
  EXPECT_NE(text.find("export JUMPCLOUD_API_URL=http://127.0.0.1:"), std::string::npos);
  EXPECT_NE(text.find("export BOB_SERVICE_USER_TOKEN=sandbox-token"), std::string::npos);
  EXPECT_EQ(text.find("a-real-looking-key"), std::string::npos); // not a default: not printed
  EXPECT_NE(text.find("55 employees"), std::string::npos);
}

TEST(RunSandbox, FailsCleanlyOnABadSeed) {
  SandboxOptions options;
  options.seed_dir = "/nonexistent";
  std::ostringstream out;
  std::ostringstream err;
  std::atomic<bool> stop{true};

  EXPECT_EQ(run_sandbox(options, out, err, stop), 1);
  EXPECT_NE(err.str().find("bobsync sandbox: error: cannot read /nonexistent/employees.json"),
            std::string::npos)
      << err.str();
}

TEST(RunSandbox, WithoutASeedDirectoryServesTheBuiltInSeed) {
  SandboxOptions options; // no seed_dir: works outside the repository
  std::ostringstream out;
  std::ostringstream err;
  std::atomic<bool> stop{true};

  EXPECT_EQ(run_sandbox(options, out, err, stop), 0) << err.str();
  EXPECT_NE(out.str().find("(55 employees)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("(12 users), seeded from the built-in example seed"), std::string::npos)
      << out.str();
  EXPECT_EQ(builtin_employees_json(), read_seed_file(k_seed + "/employees.json"));
  EXPECT_EQ(builtin_jumpcloud_users_json(), read_seed_file(k_seed + "/jumpcloud-users.json"));
}

// Two sandboxes on one port would share it (requests alternating between
// them): the second is refused, naming the port.
TEST(RunSandbox, APortInUseIsRefused) {
  SandboxConfig config;
  Sandbox first(config);
  const auto url = first.bob().base_url(); // http://127.0.0.1:PORT/v1
  const auto colon = url.rfind(':');
  const int port = std::stoi(url.substr(colon + 1, url.find('/', colon) - colon - 1));

  for (const int taken : {port, port - 1}) { // Bob's port; JumpCloud's (port - 1 + 1)
    SandboxOptions options;
    options.port = taken;
    std::ostringstream out;
    std::ostringstream err;
    std::atomic<bool> stop{true};
    EXPECT_EQ(run_sandbox(options, out, err, stop), 1) << taken << out.str();
    EXPECT_NE(err.str().find(":" + std::to_string(port) + ": the port is in use"),
              std::string::npos)
        << err.str();
  }
}

TEST(RunSandbox, AnInvalidPortIsRefused) {
  for (const int port : {-1, 65535, 80000}) {
    SandboxOptions options;
    options.port = port;
    std::ostringstream out;
    std::ostringstream err;
    std::atomic<bool> stop{true};
    EXPECT_EQ(run_sandbox(options, out, err, stop), 1) << port;
    EXPECT_EQ(err.str(),
              "bobsync sandbox: error: invalid port " + std::to_string(port)
                  + ": expected 0 (any free ports) or 1..65534 (fake Bob on it, fake JumpCloud "
                    "on the next one)\n");
    EXPECT_EQ(out.str(), "");
  }
}

} // namespace
} // namespace bobsync::sandbox
