#include "controller/cli/bob_fields_command.hpp"

#include "controller/adapters/bob/bob_field_catalog.hpp"
#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/cli/cli.hpp"
#include "controller/cli/settings.hpp"
#include "controller/ports/clock.hpp"
#include "policies/catalog.hpp"
#include "policies/field_references.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <ostream>
#include <set>

namespace bobsync::cli {
namespace {

// The Bob settings of the command line: URL checked, credentials from the
// environment, every secret redacted.
controller::BobSettings bob_settings(const std::string& url, const std::string& origin) {
  if (auto refused = controller::http::check_url_allowed(url)) {
    throw Fatal(origin + " '" + url + "' cannot be used: " + *refused);
  }
  controller::BobSettings settings;
  settings.base_url = url;
  settings.url_origin = origin;
  settings.service_user_id = require_secret("BOB_SERVICE_USER_ID");
  settings.service_user_token = require_secret("BOB_SERVICE_USER_TOKEN");
  settings.extra_secrets.push_back(settings.service_user_id);
  for (const char* name : {"JUMPCLOUD_API_KEY", "BOB_WEBHOOK_SECRET"}) {
    if (auto secret = read_secret(name)) {
      settings.extra_secrets.push_back(*secret);
    }
  }
  return settings;
}

std::string url_origin(const char* variable, const char* key) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? std::string(variable) : std::string(key);
}

std::vector<controller::BobField> fetch_catalogue(controller::http::Transport& transport,
                                                  controller::Clock& clock,
                                                  controller::BobSettings settings) {
  controller::BobFieldCatalog catalog(transport, clock, std::move(settings));
  auto fields = catalog.list_fields();
  if (!fields) {
    throw Fatal(fields.error().message);
  }
  return std::move(*fields);
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

} // namespace

int run_bob_fields(const BobFieldsRequest& request,
                   std::shared_ptr<controller::Clock> clock,
                   std::ostream& out,
                   std::ostream& err) {
  controller::http::CurlTransport transport;
  auto settings = bob_settings(request.bob_url, request.url_origin);
  const auto all = fetch_catalogue(transport, *clock, std::move(settings));
  const auto fields = controller::search_fields(all, request.search);
  if (request.json) {
    auto doc = nlohmann::ordered_json::array();
    for (const auto& f : fields) {
      doc.push_back({{"id", f.id},
                     {"label", f.name},
                     {"category", f.category},
                     {"type", f.type},
                     {"listId",
                      f.list_id.empty() ? nlohmann::ordered_json(nullptr)
                                        : nlohmann::ordered_json(f.list_id)},
                     {"historical", f.historical}});
    }
    out << doc.dump(2) << "\n";
    return k_exit_ok;
  }
  std::size_t id_width = 2;
  std::size_t label_width = 5;
  std::size_t category_width = 8;
  std::size_t type_width = 4;
  for (const auto& f : fields) {
    id_width = std::max(id_width, f.id.size());
    label_width = std::max(label_width, f.name.size());
    category_width = std::max(category_width, f.category.size());
    type_width = std::max(type_width, f.type.size());
  }
  if (fields.empty()) {
    err << "no Bob field matches '" << request.search << "' (" << all.size()
        << " fields in the catalogue)\n";
    return k_exit_ok;
  }
  out << pad("ID", id_width) << "  " << pad("LABEL", label_width) << "  "
      << pad("CATEGORY", category_width) << "  " << pad("TYPE", type_width) << "  LIST\n";
  for (const auto& f : fields) {
    out << pad(f.id, id_width) << "  " << pad(f.name, label_width) << "  "
        << pad(f.category, category_width) << "  " << pad(f.type, type_width) << "  "
        << (f.list_id.empty() ? "-" : f.list_id) << "\n";
  }
  out << fields.size() << " of " << all.size() << " fields\n";
  return k_exit_ok;
}

state::Diagnostics check_policy_fields_online(const policies::Policy& policy,
                                              std::string_view policy_text,
                                              const std::string& path,
                                              std::shared_ptr<controller::Clock> clock) {
  controller::http::CurlTransport transport;
  const auto origin = url_origin("BOB_API_URL", "source.bob.url");
  const auto catalogue = fetch_catalogue(transport, *clock, bob_settings(policy.bob_url, origin));
  std::map<std::string, const controller::BobField*, std::less<>> by_id;
  std::vector<std::string_view> ids;
  for (const auto& f : catalogue) {
    by_id.emplace(f.id, &f);
    ids.push_back(f.id);
  }

  // Every field the policy reads, at each place the file names it.
  const auto references = policies::bob_field_references(policy_text, path);
  std::vector<std::pair<std::string, state::SourceLocation>> uses;
  for (const auto& field : policy.bob_fields()) {
    bool named = false;
    for (const auto& r : references) {
      if (r.field == field) {
        uses.emplace_back(field, r.where);
        named = true;
      }
    }
    if (!named) {
      uses.emplace_back(field, state::SourceLocation{path, 0, 0});
    }
  }

  state::Diagnostics diagnostics;
  std::vector<std::string> known;
  for (const auto& [field, where] : uses) {
    if (by_id.count(field) > 0) {
      if (std::find(known.begin(), known.end(), field) == known.end()) {
        known.push_back(field);
      }
      continue;
    }
    std::string message = "unknown Bob field '" + field + "'";
    const auto hint = policies::closest(field, ids);
    if (!hint.empty()) {
      message += " (did you mean '" + std::string(hint) + "'?)";
    }
    message += ": the tenant's field catalogue has no such field";
    if (where.line == 0) {
      message += " (a lifecycle field the policy leaves at its default; set lifecycle.fields)";
    }
    message += "; 'bobsync bob fields' lists them";
    diagnostics.push_back({state::Severity::error, std::move(message), where});
  }
  if (known.empty()) {
    return diagnostics;
  }

  // The permission trap: Bob leaves out a field the service user may not
  // see from every employee, with no error.
  controller::BobSettings settings = bob_settings(policy.bob_url, origin);
  controller::BobHrSource source(transport, *clock, std::move(settings));
  auto employees = source.list_employees(known);
  if (!employees) {
    throw Fatal(employees.error().message);
  }
  if (employees->empty()) {
    diagnostics.push_back({state::Severity::warning,
                           "Bob's people search returned no employee: the service user may not "
                           "be allowed to see anybody, so field permissions were not checked",
                           {path, 0, 0}});
    return diagnostics;
  }
  const auto absent = source.last_absent_fields();
  for (const auto& [field, where] : uses) {
    if (std::find(absent.begin(), absent.end(), field) == absent.end()) {
      continue;
    }
    const auto* meta = by_id.at(field);
    diagnostics.push_back(
        {state::Severity::warning,
         "the Bob service user cannot see '" + field + "'"
             + (meta->name.empty() ? std::string() : " (" + meta->name + ")")
             + ": Bob leaves it out of every employee it returns, so bobsync would read it as "
               "empty; grant the service user's permission group the '"
             + meta->category + "' category in Bob",
         where});
  }
  return diagnostics;
}

} // namespace bobsync::cli
