#include "policies/field_references.hpp"

#include <yaml-cpp/yaml.h>

namespace bobsync::policies {
namespace {

struct Walker {
  std::string file;
  std::vector<FieldReference> out;

  void add(const YAML::Node& node, std::string key) {
    if (!node.IsScalar()) {
      return;
    }
    const auto mark = node.Mark();
    out.push_back(
        {node.Scalar(),
         std::move(key),
         {file, mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0}});
  }

  void filter(const YAML::Node& node, const std::string& key) {
    if (!node.IsMap()) {
      return;
    }
    const auto fields = node["fields"];
    if (!fields || !fields.IsMap()) {
      return;
    }
    for (const auto& entry : fields) {
      add(entry.first, key + ".fields");
    }
  }
};

} // namespace

std::vector<FieldReference> bob_field_references(std::string_view yaml_text,
                                                 const std::string& source_name) {
  Walker walker{source_name, {}};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception&) {
    return {};
  }
  if (!root.IsMap()) {
    return {};
  }
  try {
    if (const auto mapping = root["mapping"]; mapping && mapping.IsSequence()) {
      for (std::size_t i = 0; i < mapping.size(); ++i) {
        const auto row = mapping[i];
        if (!row.IsMap()) {
          continue;
        }
        const std::string key = "mapping[" + std::to_string(i) + "]";
        if (const auto source = row["source"]) {
          walker.add(source, key + ".source");
        }
        if (const auto sources = row["sources"]; sources && sources.IsSequence()) {
          for (std::size_t j = 0; j < sources.size(); ++j) {
            walker.add(sources[j], key + ".sources[" + std::to_string(j) + "]");
          }
        }
      }
    }
    if (const auto scope = root["scope"]; scope && scope.IsMap()) {
      if (const auto include = scope["include"]) {
        walker.filter(include, "scope.include");
      }
      if (const auto exclude = scope["exclude"]; exclude && exclude.IsSequence()) {
        for (std::size_t i = 0; i < exclude.size(); ++i) {
          walker.filter(exclude[i], "scope.exclude[" + std::to_string(i) + "]");
        }
      }
    }
    if (const auto lifecycle = root["lifecycle"]; lifecycle && lifecycle.IsMap()) {
      if (const auto fields = lifecycle["fields"]; fields && fields.IsMap()) {
        for (const auto& entry : fields) {
          walker.add(entry.second, "lifecycle.fields." + entry.first.Scalar());
        }
      }
    }
  } catch (const YAML::Exception&) {
    // A shape parse_policy rejects: what was found so far.
  }
  return walker.out;
}

} // namespace bobsync::policies
