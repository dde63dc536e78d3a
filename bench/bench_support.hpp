#pragma once

// What the benchmarks share: synthetic names, peak memory and the example policy.

#include "policies/policy_parser.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>

namespace bobsync::bench {

// Synthetic people: names with diacritics, apostrophes, hyphens, Cyrillic,
// Greek and CJK (what the username rules must cope with), and four sites.
inline const char* const k_first_names[] = {
    "Ada", "José", "Zoë", "Иван", "Γιώργος", "Mary", "John", "小明", "Nora", "Émile"};
inline const char* const k_last_names[] = {"Núñez",
                                           "Smith",
                                           "O'Brien",
                                           "Петров",
                                           "Παπαδόπουλος",
                                           "Straße",
                                           "Wang",
                                           "Anne-Marie",
                                           "Lee",
                                           "Dupont"};
inline const char* const k_sites[] = {"London", "New York", "Berlin", "Sydney"};

// Peak resident set size of this process so far, in MB.
inline long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024; // Linux: kilobytes
}

// examples/desired-state.yaml with the suspension limits off: the synthetic
// data is not what the limits are about. Throws when the example is invalid.
inline policies::Policy example_policy() {
  std::ifstream in(std::string(BOBSYNC_SOURCE_DIR) + "/examples/desired-state.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = policies::parse_policy(text.str(), "desired-state.yaml");
  if (!parsed.policy) {
    throw std::runtime_error("examples/desired-state.yaml is invalid");
  }
  auto policy = *parsed.policy;
  policy.safety.max_suspensions.reset();
  policy.safety.max_suspensions_percent.reset();
  return policy;
}

} // namespace bobsync::bench
