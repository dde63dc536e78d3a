#include "controller/run/backoff.hpp"

#include <algorithm>

namespace bobsync::controller::run {

Backoff::Backoff(BackoffOptions options, std::uint64_t seed)
    : m_options(options),
      m_random(seed) {}

std::chrono::milliseconds Backoff::ceiling(int attempt) const {
  const std::lock_guard lock(m_mutex);
  return ceiling_unlocked(attempt);
}

std::chrono::milliseconds Backoff::ceiling_unlocked(int attempt) const {
  auto ceiling = m_options.base;
  for (int i = 1; i < attempt && ceiling < m_options.cap; ++i) {
    ceiling *= 2;
  }
  return std::max(std::min(ceiling, m_options.cap), m_options.floor);
}

std::chrono::milliseconds Backoff::delay(int attempt) {
  const std::lock_guard lock(m_mutex);
  const auto high = ceiling_unlocked(attempt);
  std::uniform_int_distribution<long long> pick(m_options.floor.count(), high.count());
  return std::chrono::milliseconds(pick(m_random));
}

void Backoff::set_cap(std::chrono::milliseconds cap) {
  const std::lock_guard lock(m_mutex);
  m_options.cap = std::max(cap, m_options.floor);
}

} // namespace bobsync::controller::run
