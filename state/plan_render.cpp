#include "state/plan_render.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <utility>

namespace bobsync::state {

namespace {

// terminal_safe, optionally leaving newlines alone (a JSON document's
// indentation: inside its strings the C0 characters are already escaped).
std::string escape_invisible(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](unsigned code) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "\\u%04X", code);
    out += buffer;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && !(keep_newlines && c == '\n')) || c == 0x7F) {
      escape(c);
      continue;
    }
    if (c == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) { // C1 control U+0080..U+009F
        escape(next);
        ++i;
        continue;
      }
    }
    if ((c == 0xE2 || c == 0xD8 || c == 0xEF) && i + 1 < text.size()) {
      const auto b1 = static_cast<unsigned char>(text[i + 1]);
      const auto b2 = i + 2 < text.size() ? static_cast<unsigned char>(text[i + 2]) : 0U;
      unsigned code = 0;
      if (c == 0xD8 && b1 == 0x9C) {
        code = 0x061C; // Arabic letter mark
      } else if (c == 0xE2 && (b1 == 0x80 || b1 == 0x81) && b2 >= 0x80 && b2 <= 0xBF) {
        code = 0x2000U + ((b1 & 0x3FU) << 6U) + (b2 & 0x3FU);
        const bool hidden = (code >= 0x200B && code <= 0x200F)     // zero width, LRM, RLM
                            || (code >= 0x2028 && code <= 0x202E)  // separators, embeddings
                            || (code >= 0x2060 && code <= 0x206F); // joiners, isolates
        if (!hidden) {
          code = 0;
        }
      } else if (c == 0xEF && b1 == 0xBB && b2 == 0xBF) {
        code = 0xFEFF; // zero-width no-break space
      }
      if (code != 0) {
        escape(code);
        i += code == 0x061C ? 1 : 2;
        continue;
      }
    }
    out += static_cast<char>(c);
  }
  return out;
}

} // namespace

std::string terminal_safe(std::string_view text) {
  return escape_invisible(text, false);
}

namespace {

using nlohmann::ordered_json;

// Text as it can be shown on a terminal: control characters (C0, DEL, C1)
// and the invisible Unicode format characters that reorder or hide text
// (bidirectional overrides such as U+202E, zero-width characters) are
// written as \uXXXX, so a name cannot rewrite the line it is printed on.
std::string visible(std::string_view text) {
  return terminal_safe(text);
}
std::string json_quote(std::string_view value) {
  // JSON string quoting escapes C0 control characters and quotes the same
  // way for every field; `visible` takes care of the rest.
  return visible(ordered_json(value).dump());
}

// Warnings shown in the text plan; the JSON plan has them all.
constexpr std::size_t k_max_text_warnings = 20;

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
  std::string who = c.username.empty() ? std::string("(no username)") : visible(c.username);
  if (!c.email.empty()) {
    who += " <" + visible(c.email) + ">";
  }
  std::string ids = "bob:" + visible(c.employee_id);
  if (!c.user_id.empty()) {
    ids += " jumpcloud:" + visible(c.user_id);
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
      out << "    reason: " << visible(c.reason) << "\n";
    }
    if (!c.date.empty()) {
      out << "    on: " << visible(c.date) << "\n";
    }
    if (c.target_state) {
      out << "    state: " << to_string(*c.target_state) << "\n";
    }
    for (const auto& f : c.fields) {
      if (c.action == Action::create) {
        out << "    + " << visible(f.name) << " = " << json_quote(f.new_value) << "\n";
      } else {
        out << "    ~ " << visible(f.name) << ": "
            << (f.old_value ? json_quote(*f.old_value) : "(none)") << " -> "
            << (f.new_value.empty() ? std::string("(cleared)") : json_quote(f.new_value)) << "\n";
      }
    }
  }
  for (std::size_t i = 0; i < plan.diagnostics.size() && i < k_max_text_warnings; ++i) {
    out << "warning: " << visible(plan.diagnostics[i].message) << "\n";
  }
  if (plan.diagnostics.size() > k_max_text_warnings) {
    out << "... and " << plan.diagnostics.size() - k_max_text_warnings
        << " more warnings (plan --json lists them all)\n";
  }
  if (plan.blocked) {
    const bool bad_read = !plan.overridable();
    out << "\nBLOCKED; nothing will be applied.\n";
    if (bad_read) {
      out << "What was read cannot be trusted (--allow-mass-changes does not override this):\n";
      for (const auto& reason : plan.block_reasons) {
        if (reason.kind == BlockKind::bad_read) {
          out << "  - " << visible(reason.message) << "\n";
        }
      }
    }
    if (std::any_of(plan.block_reasons.begin(), plan.block_reasons.end(), [](const auto& r) {
          return r.kind == BlockKind::safety_limit;
        })) {
      out << "Safety limits exceeded (review the plan; apply with --allow-mass-changes to go "
             "ahead):\n";
      for (const auto& reason : plan.block_reasons) {
        if (reason.kind == BlockKind::safety_limit) {
          out << "  - " << visible(reason.message) << "\n";
        }
      }
    }
  }
  const auto& s = plan.summary;
  out << (plan.changes.empty() ? "" : "\n") << "Plan: " << s.count(Action::create) << " to create, "
      << s.count(Action::update) << " to update, " << s.count(Action::activate) << " to activate, "
      << s.count(Action::suspend) << " to suspend, " << s.count(Action::defer) << " deferred, "
      << s.count(Action::conflict) << " conflicts; " << s.unchanged << " unchanged, "
      << s.out_of_scope << " out of scope, " << s.not_created
      << " inactive or gone without a user.";
  if (plan.blocked) {
    out << " Blocked: nothing will be applied.";
  } else if (plan.empty() && s.count(Action::conflict) > 0) {
    out << " Nothing to apply, but " << s.count(Action::conflict)
        << (s.count(Action::conflict) == 1 ? " conflict needs" : " conflicts need")
        << " attention.";
  } else if (plan.empty()) {
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
  summary["outOfScope"] = plan.summary.out_of_scope;
  summary["notCreated"] = plan.summary.not_created;
  summary["managed"] = plan.summary.managed;
  doc["summary"] = summary;
  ordered_json reasons = ordered_json::array();
  ordered_json kinds = ordered_json::array();
  for (const auto& r : plan.block_reasons) {
    reasons.push_back(r.message);
    kinds.push_back(to_string(r.kind));
  }
  doc["blocked"] = {{"blocked", plan.blocked}, {"reasons", reasons}, {"kinds", kinds}};
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
  // The same document with the invisible characters a terminal or an editor
  // would act on (bidi overrides, zero-width and C1 characters, DEL) as
  // \uXXXX escapes: `plan --json` and a saved plan shown with `cat` cannot
  // reorder or hide what a reviewer reads. Read back, the values are the same.
  return escape_invisible(doc.dump(indent), true);
}

namespace {

// A whole number in [minimum, INT_MAX] read from a plan, or nothing with the
// key named in `error`. nlohmann's get<int> converts a fraction or 6.7e19
// without complaint (out of range, that is undefined behaviour): a saved plan
// is input from a file, so it is checked instead.
std::optional<int>
whole_number(const nlohmann::json& value, std::string_view key, int minimum, std::string& error) {
  constexpr auto most = std::numeric_limits<int>::max();
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if ((minimum <= 0 || n >= static_cast<std::uint64_t>(minimum))
        && n <= static_cast<std::uint64_t>(most)) {
      return static_cast<int>(n);
    }
  } else if (value.is_number_integer()) {
    const auto n = value.get<std::int64_t>();
    if (n >= minimum && n <= most) {
      return static_cast<int>(n);
    }
  }
  error = "not a valid bobsync plan: " + std::string(key) + " must be a whole number from "
          + std::to_string(minimum) + " to " + std::to_string(most) + ", not " + value.dump();
  return std::nullopt;
}

} // namespace

std::optional<Plan> parse_plan_json(std::string_view text, std::string& error) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "not a bobsync plan: the file is not a JSON object";
    return std::nullopt;
  }
  try {
    const auto version = whole_number(
        doc.at("formatVersion"), "formatVersion", std::numeric_limits<int>::min(), error);
    if (!version) {
      return std::nullopt;
    }
    if (*version != k_plan_format_version) {
      error = "plan formatVersion " + std::to_string(*version) + " is not supported (expected "
              + std::to_string(k_plan_format_version) + ")";
      return std::nullopt;
    }
    Plan plan;
    plan.policy_hash = doc.at("policyHash").get<std::string>();
    plan.blocked = doc.at("blocked").at("blocked").get<bool>();
    const auto reasons = doc.at("blocked").at("reasons").get<std::vector<std::string>>();
    const auto kinds =
        doc.at("blocked").value("kinds", std::vector<std::string>(reasons.size(), "safetyLimit"));
    for (std::size_t i = 0; i < reasons.size(); ++i) {
      const auto kind = parse_block_kind(i < kinds.size() ? kinds[i] : "safetyLimit");
      if (!kind) {
        error = "unknown block kind '" + kinds[i] + "' in plan";
        return std::nullopt;
      }
      plan.block_reasons.push_back({*kind, reasons[i]});
    }
    const auto& summary = doc.at("summary");
    if (!summary.is_object()) {
      error = "not a valid bobsync plan: summary must be an object";
      return std::nullopt;
    }
    for (const auto& [key, count] : {std::pair{"unchanged", &plan.summary.unchanged},
                                     std::pair{"outOfScope", &plan.summary.out_of_scope},
                                     std::pair{"notCreated", &plan.summary.not_created},
                                     std::pair{"managed", &plan.summary.managed}}) {
      if (!summary.contains(key)) {
        continue;
      }
      const auto n = whole_number(summary.at(key), std::string("summary.") + key, 0, error);
      if (!n) {
        return std::nullopt;
      }
      *count = *n;
    }
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
