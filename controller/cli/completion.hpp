#pragma once

// `bobsync completion bash|zsh`: shell completion scripts generated from the
// commands' option definitions (so they cannot drift from --help).

#include <string>
#include <vector>

namespace bobsync::cli {

struct CompletionOption {
  std::string long_name;  // "file"
  std::string short_name; // "f" or ""
  bool takes_value = false;
  std::string description;
};

struct CompletionCommand {
  std::string name;
  std::string summary;
  std::vector<CompletionOption> options;
};

std::string bash_completion(const std::vector<CompletionCommand>& commands);
std::string zsh_completion(const std::vector<CompletionCommand>& commands);

} // namespace bobsync::cli
