#pragma once

// The composition root: the only place that names concrete adapter types.

#include "controller/ports/directory.hpp"
#include "controller/ports/hr_source.hpp"
#include "policies/policy.hpp"

#include <memory>

namespace bobsync::cli {

struct LiveSources {
  std::shared_ptr<void> keep_alive; // transports the adapters use
  std::unique_ptr<controller::HrSource> hr;
  std::unique_ptr<controller::Directory> directory;
};

// Bob and JumpCloud clients over HTTP for the policy's URLs, with credentials
// from the environment (throws Fatal when one is missing or a URL is refused).
LiveSources make_live_sources(const policies::Policy& policy);

} // namespace bobsync::cli
