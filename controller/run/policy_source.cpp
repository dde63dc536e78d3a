#include "controller/run/policy_source.hpp"

#include "policies/policy_parser.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bobsync::controller::run {

PolicyLoader file_loader(std::function<std::string(const std::string&)> hash,
                         std::function<void(policies::Policy&)> adjust) {
  PolicyLoader loader;
  loader.read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw std::runtime_error("cannot read policy file " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  loader.hash = std::move(hash);
  loader.adjust = std::move(adjust);
  return loader;
}

PolicySource::PolicySource(std::string path, PolicyLoader loader)
    : m_path(std::move(path)),
      m_loader(std::move(loader)) {}

PolicyCheck PolicySource::check() {
  PolicyCheck out;
  std::string text;
  try {
    text = m_loader.read(m_path);
  } catch (const std::exception& e) {
    // A missing file is rejected like an invalid one: the last good policy
    // keeps running (a ConfigMap swap can make it vanish for a moment).
    const std::lock_guard lock(m_mutex);
    const std::vector<std::string> diagnostics = {e.what()};
    if (m_rejected == diagnostics) {
      return out; // reported already
    }
    out.result = PolicyCheck::Result::rejected;
    out.diagnostics = diagnostics;
    m_rejected = diagnostics;
    m_rejected_hash.reset();
    ++m_rejections;
    return out;
  }
  const auto hash = m_loader.hash(text);
  {
    const std::lock_guard lock(m_mutex);
    if (m_current && m_current->hash == hash) {
      m_rejected.clear();
      m_rejected_hash.reset();
      return out; // back to (or still) the running policy
    }
    if (m_rejected_hash == hash) {
      return out; // already rejected these bytes
    }
  }
  auto parsed = policies::parse_policy(text, m_path);
  std::vector<std::string> diagnostics;
  for (const auto& d : parsed.diagnostics) {
    diagnostics.push_back(format(d));
  }
  const std::lock_guard lock(m_mutex);
  if (!parsed.policy) {
    out.result = PolicyCheck::Result::rejected;
    out.diagnostics = diagnostics;
    m_rejected = std::move(diagnostics);
    m_rejected_hash = hash;
    ++m_rejections;
    return out;
  }
  if (m_loader.adjust) {
    m_loader.adjust(*parsed.policy);
  }
  auto next = std::make_shared<PolicySnapshot>();
  next->policy = std::make_shared<const policies::Policy>(std::move(*parsed.policy));
  next->hash = hash;
  next->generation = m_current ? m_current->generation + 1 : 1;
  m_current = std::move(next);
  m_rejected.clear();
  m_rejected_hash.reset();
  out.result = PolicyCheck::Result::reloaded;
  out.diagnostics = std::move(diagnostics); // warnings, if any
  return out;
}

std::shared_ptr<const PolicySnapshot> PolicySource::current() const {
  const std::lock_guard lock(m_mutex);
  return m_current;
}

std::vector<std::string> PolicySource::rejected() const {
  const std::lock_guard lock(m_mutex);
  return m_rejected;
}

std::uint64_t PolicySource::rejections() const {
  const std::lock_guard lock(m_mutex);
  return m_rejections;
}

} // namespace bobsync::controller::run
