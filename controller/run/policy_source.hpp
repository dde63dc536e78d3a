#pragma once

// The controller's policy: the file watched by content, parsed into an
// immutable snapshot that passes share. A pass takes current() once and uses
// that snapshot to the end, so a reload between passes needs no lock in the
// pass. A changed valid file becomes the current snapshot (generation + 1); an
// invalid one is rejected with its diagnostics and the last good snapshot
// keeps running. Watching by content (a hash of the bytes, checked every few
// seconds by the loop and at once on SIGHUP) also catches Kubernetes
// ConfigMap updates, which swap a symlink that inotify on the file misses.

#include "policies/policy.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bobsync::controller::run {

struct PolicySnapshot {
  std::shared_ptr<const policies::Policy> policy;
  std::string hash;             // SHA-256 hex of the file's bytes
  std::uint64_t generation = 0; // 1 for the policy the controller started with
};

struct PolicyCheck {
  enum class Result {
    unchanged, // same bytes as the current policy or the last rejected one
    reloaded,  // a new valid policy is current
    rejected,  // invalid (or unreadable): the last good policy stays
  };
  Result result = Result::unchanged;
  std::vector<std::string> diagnostics; // rejected: every problem, file:line:column
};

// How a file becomes a policy; injected so this target links no hashing
// library and tests need no file.
struct PolicyLoader {
  std::function<std::string(const std::string& path)> read; // throws std::exception
  std::function<std::string(const std::string& text)> hash; // content hash
  std::function<void(policies::Policy&)> adjust;            // e.g. URL overrides from env
};

// The default loader reads the file with <fstream> (no hash: set `hash`).
PolicyLoader file_loader(std::function<std::string(const std::string&)> hash,
                         std::function<void(policies::Policy&)> adjust);

// Thread-safe.
class PolicySource {
public:
  PolicySource(std::string path, PolicyLoader loader);

  // Reads and, when its bytes changed, parses the file. The first successful
  // check makes generation 1.
  PolicyCheck check();

  // The last good policy; null before the first valid check.
  std::shared_ptr<const PolicySnapshot> current() const;
  // The diagnostics of the file's current bytes when they were rejected;
  // empty while the file on disk is the running policy.
  std::vector<std::string> rejected() const;
  std::uint64_t rejections() const; // rejected versions so far
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
  PolicyLoader m_loader;
  mutable std::mutex m_mutex;
  std::shared_ptr<const PolicySnapshot> m_current;
  std::optional<std::string> m_rejected_hash;
  std::vector<std::string> m_rejected;
  std::uint64_t m_rejections = 0;
};

} // namespace bobsync::controller::run
