#include "state/diagnostic_render.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace bobsync::state {
namespace {

nlohmann::ordered_json to_json(const Diagnostic& d) {
  nlohmann::ordered_json j;
  j["severity"] = d.severity == Severity::error ? "error" : "warning";
  j["message"] = d.message;
  j["file"] =
      d.where.file.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.where.file);
  j["line"] = d.where.line > 0 ? nlohmann::ordered_json(d.where.line) : nullptr;
  j["column"] = d.where.column > 0 ? nlohmann::ordered_json(d.where.column) : nullptr;
  return j;
}

} // namespace

std::string github_escape_data(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
    case '%':
      out += "%25";
      break;
    case '\r':
      out += "%0D";
      break;
    case '\n':
      out += "%0A";
      break;
    default:
      out += ch;
    }
  }
  return out;
}

std::string github_escape_property(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : github_escape_data(text)) {
    switch (ch) {
    case ':':
      out += "%3A";
      break;
    case ',':
      out += "%2C";
      break;
    default:
      out += ch;
    }
  }
  return out;
}

std::string format_github(const Diagnostic& d) {
  std::string out = d.severity == Severity::error ? "::error " : "::warning ";
  if (!d.where.file.empty()) {
    out += "file=" + github_escape_property(d.where.file) + ",";
    if (d.where.line > 0) {
      out += "line=" + std::to_string(d.where.line) + ",";
      if (d.where.column > 0) {
        out += "col=" + std::to_string(d.where.column) + ",";
      }
    }
  }
  out += "title=bobsync::" + github_escape_data(d.message);
  return out;
}

std::string diagnostic_to_json(const Diagnostic& diagnostic) {
  return to_json(diagnostic).dump();
}

std::string render_diagnostics_json(std::string_view file, const Diagnostics& diagnostics) {
  nlohmann::ordered_json doc;
  doc["formatVersion"] = 1;
  doc["file"] = file;
  doc["valid"] = !has_errors(diagnostics);
  const auto errors = std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.severity == Severity::error;
  });
  doc["errors"] = errors;
  doc["warnings"] = static_cast<long>(diagnostics.size()) - errors;
  auto list = nlohmann::ordered_json::array();
  for (const auto& d : diagnostics) {
    list.push_back(to_json(d));
  }
  doc["diagnostics"] = list;
  return doc.dump();
}

} // namespace bobsync::state
