#include "controller/cli/wiring.hpp"

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/adapters/jumpcloud/jumpcloud_directory.hpp"
#include "controller/cli/settings.hpp"
#include "controller/ports/clock.hpp"
#include "state/memory_store.hpp"
#include "state/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <utility>

namespace bobsync::cli {
namespace {

// What the adapters borrow; lives as long as the LiveSources.
struct Shared {
  controller::http::CurlTransport transport;
  std::shared_ptr<controller::Clock> clock;
};

// Where a URL was configured: the environment variable when it is set (it
// overrides the policy), else the policy key.
std::string url_origin(const char* variable, const char* key) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? std::string(variable) : std::string(key);
}

// A URL as it may be shown: without user info (user:password@), query or
// fragment, which may carry secrets.
std::string shown_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  std::string out = url.substr(0, url.find_first_of("?#", start));
  const auto authority_end = std::min(out.find('/', start), out.size());
  const auto at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= start) {
    out.replace(start, at + 1 - start, "***@");
  }
  return "'" + out + "'";
}

} // namespace

std::shared_ptr<controller::Clock> make_clock(std::shared_ptr<controller::Clock> injected) {
  if (injected) {
    return injected;
  }
  return std::make_shared<controller::SystemClock>();
}

LiveSources make_live_sources(const policies::Policy& policy,
                              std::shared_ptr<controller::Clock> clock,
                              std::function<void(const controller::http::AttemptInfo&)> on_attempt,
                              ReadProgress progress) {
  const auto bob_origin = url_origin("BOB_API_URL", "source.bob.url");
  const auto jumpcloud_origin = url_origin("JUMPCLOUD_API_URL", "target.jumpcloud.url");
  for (const auto& [url, origin] : {std::pair{&policy.bob_url, &bob_origin},
                                    std::pair{&policy.jumpcloud_url, &jumpcloud_origin}}) {
    if (auto refused = controller::http::check_url_allowed(*url)) {
      throw Fatal(*origin + " " + shown_url(*url) + " cannot be used: " + *refused);
    }
  }
  auto shared = std::make_shared<Shared>();
  shared->clock = make_clock(std::move(clock));
  const auto webhook_secret = read_secret("BOB_WEBHOOK_SECRET");

  controller::BobSettings bob;
  bob.base_url = policy.bob_url;
  bob.url_origin = bob_origin;
  bob.on_attempt = on_attempt;
  bob.on_search_progress = std::move(progress.bob);
  bob.service_user_id = require_secret("BOB_SERVICE_USER_ID");
  bob.service_user_token = require_secret("BOB_SERVICE_USER_TOKEN");
  controller::JumpCloudSettings jumpcloud;
  jumpcloud.base_url = policy.jumpcloud_url;
  jumpcloud.url_origin = jumpcloud_origin;
  jumpcloud.on_attempt = std::move(on_attempt);
  jumpcloud.on_list_progress = std::move(progress.jumpcloud);
  jumpcloud.api_key = require_secret("JUMPCLOUD_API_KEY");
  jumpcloud.org_id = policy.jumpcloud_org_id;
  jumpcloud.write_concurrency = policy.write_concurrency;
  // Every secret is redacted by both clients, whichever one an error names.
  for (auto* settings : {&bob.extra_secrets, &jumpcloud.extra_secrets}) {
    settings->push_back(jumpcloud.api_key);
    settings->push_back(bob.service_user_id);
    settings->push_back(bob.service_user_token);
    if (webhook_secret) {
      settings->push_back(*webhook_secret);
    }
  }

  LiveSources sources;
  sources.hr =
      std::make_unique<controller::BobHrSource>(shared->transport, *shared->clock, std::move(bob));
  sources.directory = std::make_unique<controller::JumpCloudDirectory>(
      shared->transport, *shared->clock, std::move(jumpcloud));
  sources.keep_alive = shared;
  return sources;
}

std::function<void(std::string_view)> crash_hook_from_env() {
  const char* spec = std::getenv("BOBSYNC_CRASH_AT");
  if (spec == nullptr || *spec == '\0') {
    return nullptr;
  }
  const std::string text(spec);
  const auto colon = text.find(':');
  const std::string point = text.substr(0, colon);
  const int n = colon == std::string::npos ? 1 : std::atoi(text.c_str() + colon + 1);
  auto count = std::make_shared<std::atomic<int>>(0);
  return [point, n, count](std::string_view at) {
    if (at == point && count->fetch_add(1) + 1 == n) {
      std::_Exit(137);
    }
  };
}

namespace {

std::string& default_store_holder() {
  static std::string holder = "bobsync";
  return holder;
}

} // namespace

void set_default_store_holder(std::string holder) {
  default_store_holder() = std::move(holder);
}

std::unique_ptr<state::StateStore> open_store(const std::string& path,
                                              bool writer,
                                              std::shared_ptr<controller::Clock> clock,
                                              const std::string& holder) {
  if (!writer && path != ":memory:" && !std::filesystem::exists(path)) {
    return std::make_unique<state::MemoryStore>(); // nothing recorded yet
  }
  clock = make_clock(std::move(clock));
  return state::SqliteStore::open(path,
                                  writer ? state::OpenMode::writer : state::OpenMode::read_only,
                                  holder.empty() ? default_store_holder() : holder,
                                  [clock] { return clock->wall_now(); });
}

} // namespace bobsync::cli
