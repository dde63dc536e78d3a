#include "state/plan_render.hpp"

#include <nlohmann/json.hpp>

#include <sstream>

namespace bobsync::state {
namespace {

using nlohmann::ordered_json;

std::string json_quote(std::string_view value) {
  // JSON string quoting escapes control characters and quotes the same way
  // for every field.
  return ordered_json(value).dump();
}

std::string symbol(Action action) {
  switch (action) {
  case Action::conflict:
    return "!";
  case Action::create:
    return "+";
  case Action::update:
    return "~";
  case Action::activate:
    return ">";
  case Action::suspend:
    return "-";
  case Action::defer:
    return ".";
  }
  return "?"; // unreachable
}

std::string heading(const Change& c) {
  std::string who = c.username.empty() ? std::string("(no username)") : c.username;
  if (!c.email.empty()) {
    who += " <" + c.email + ">";
  }
  std::string ids = "bob:" + c.employee_id;
  if (!c.user_id.empty()) {
    ids += " jumpcloud:" + c.user_id;
  }
  return symbol(c.action) + " " + std::string(to_string(c.action)) + " " + who + "  [" + ids + "]";
}

ordered_json to_json(const Change& c) {
  ordered_json j;
  j["action"] = to_string(c.action);
  j["bobId"] = c.employee_id;
  j["jumpcloudId"] = c.user_id.empty() ? ordered_json(nullptr) : ordered_json(c.user_id);
  j["email"] = c.email;
  j["username"] = c.username;
  j["reason"] = c.reason;
  ordered_json fields = ordered_json::object();
  for (const auto& f : c.fields) {
    fields[f.name] = {{"old", f.old_value ? ordered_json(*f.old_value) : ordered_json(nullptr)},
                      {"new", f.new_value}};
  }
  j["fields"] = fields;
  j["targetState"] =
      c.target_state ? ordered_json(to_string(*c.target_state)) : ordered_json(nullptr);
  j["date"] = c.date.empty() ? ordered_json(nullptr) : ordered_json(c.date);
  j["matchedBy"] = c.matched_by;
  j["leaver"] = c.leaver;
  return j;
}

// Throws nlohmann::json::exception on a missing key or wrong type.
std::optional<Change> from_json(const nlohmann::json& j, std::string& error) {
  Change c;
  const auto action_text = j.at("action").get<std::string>();
  const auto action = parse_action(action_text);
  if (!action) {
    error = "unknown action '" + action_text + "' in plan";
    return std::nullopt;
  }
  c.action = *action;
  c.employee_id = j.at("bobId").get<std::string>();
  c.user_id = j.at("jumpcloudId").is_null() ? "" : j.at("jumpcloudId").get<std::string>();
  c.email = j.at("email").get<std::string>();
  c.username = j.at("username").get<std::string>();
  c.reason = j.at("reason").get<std::string>();
  for (const auto& [name, f] : j.at("fields").items()) {
    FieldChange fc;
    fc.name = name;
    if (!f.at("old").is_null()) {
      fc.old_value = f.at("old").get<std::string>();
    }
    fc.new_value = f.at("new").get<std::string>();
    c.fields.push_back(std::move(fc));
  }
  if (!j.at("targetState").is_null()) {
    c.target_state = parse_user_state(j.at("targetState").get<std::string>());
    if (!c.target_state) {
      error = "unknown targetState in plan";
      return std::nullopt;
    }
  }
  c.date = j.at("date").is_null() ? "" : j.at("date").get<std::string>();
  c.matched_by = j.value("matchedBy", "");
  c.leaver = j.value("leaver", false);
  return c;
}

} // namespace

std::string render_text(const Plan& plan) {
  std::ostringstream out;
  for (const auto& c : plan.changes) {
    out << heading(c) << "\n";
    if (!c.reason.empty()) {
      out << "    reason: " << c.reason << "\n";
    }
    if (!c.date.empty()) {
      out << "    on: " << c.date << "\n";
    }
    if (c.target_state) {
      out << "    state: " << to_string(*c.target_state) << "\n";
    }
    for (const auto& f : c.fields) {
      if (c.action == Action::create) {
        out << "    + " << f.name << " = " << json_quote(f.new_value) << "\n";
      } else {
        out << "    ~ " << f.name << ": " << (f.old_value ? json_quote(*f.old_value) : "(none)")
            << " -> " << (f.new_value.empty() ? std::string("(cleared)") : json_quote(f.new_value))
            << "\n";
      }
    }
  }
  for (const auto& d : plan.diagnostics) {
    out << "warning: " << d.message << "\n";
  }
  if (plan.blocked) {
    out << "\nBLOCKED by safety checks; nothing will be applied:\n";
    for (const auto& reason : plan.block_reasons) {
      out << "  - " << reason << "\n";
    }
  }
  const auto& s = plan.summary;
  out << (plan.changes.empty() ? "" : "\n") << "Plan: " << s.count(Action::create) << " to create, "
      << s.count(Action::update) << " to update, " << s.count(Action::activate) << " to activate, "
      << s.count(Action::suspend) << " to suspend, " << s.count(Action::defer) << " deferred, "
      << s.count(Action::conflict) << " conflicts; " << s.unchanged << " unchanged.";
  if (plan.empty()) {
    out << " No changes: JumpCloud is in line with Bob.";
  }
  out << "\n";
  return out.str();
}

std::string render_json(const Plan& plan, int indent) {
  ordered_json doc;
  doc["formatVersion"] = k_plan_format_version;
  doc["policyHash"] = plan.policy_hash;
  ordered_json summary = ordered_json::object();
  for (auto action : k_all_actions) {
    summary[std::string(to_string(action))] = plan.summary.count(action);
  }
  summary["unchanged"] = plan.summary.unchanged;
  summary["managed"] = plan.summary.managed;
  doc["summary"] = summary;
  doc["blocked"] = {{"blocked", plan.blocked}, {"reasons", plan.block_reasons}};
  ordered_json changes = ordered_json::array();
  for (const auto& c : plan.changes) {
    ordered_json j = to_json(c);
    changes.push_back(std::move(j));
  }
  doc["changes"] = changes;
  ordered_json warnings = ordered_json::array();
  for (const auto& d : plan.diagnostics) {
    warnings.push_back(d.message);
  }
  doc["warnings"] = warnings;
  return doc.dump(indent);
}

std::optional<Plan> parse_plan_json(std::string_view text, std::string& error) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "not a bobsync plan: the file is not a JSON object";
    return std::nullopt;
  }
  try {
    const int version = doc.at("formatVersion").get<int>();
    if (version != k_plan_format_version) {
      error = "plan formatVersion " + std::to_string(version) + " is not supported (expected "
              + std::to_string(k_plan_format_version) + ")";
      return std::nullopt;
    }
    Plan plan;
    plan.policy_hash = doc.at("policyHash").get<std::string>();
    plan.blocked = doc.at("blocked").at("blocked").get<bool>();
    plan.block_reasons = doc.at("blocked").at("reasons").get<std::vector<std::string>>();
    plan.summary.unchanged = doc.at("summary").value("unchanged", 0);
    plan.summary.managed = doc.at("summary").value("managed", 0);
    for (const auto& j : doc.at("changes")) {
      auto c = from_json(j, error);
      if (!c) {
        return std::nullopt;
      }
      plan.changes.push_back(std::move(*c));
    }
    for (const auto& w : doc.value("warnings", nlohmann::json::array())) {
      plan.diagnostics.push_back({Severity::warning, w.get<std::string>(), {}});
    }
    finalize(plan);
    return plan;
  } catch (const nlohmann::json::exception& e) {
    error = std::string("not a valid bobsync plan: ") + e.what();
    return std::nullopt;
  }
}

std::string change_to_json(const Change& change) {
  return to_json(change).dump();
}

std::optional<Change> change_from_json(std::string_view text, std::string& error) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  try {
    return from_json(doc, error);
  } catch (const nlohmann::json::exception& e) {
    error = std::string("not a valid change: ") + e.what();
    return std::nullopt;
  }
}

} // namespace bobsync::state
