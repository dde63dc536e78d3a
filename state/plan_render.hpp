#pragma once

// Renderings of a plan: the text diff people read, and the JSON that
// `plan --json` prints and `plan --out` saves (read back by `apply --plan`).

#include "state/plan.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bobsync::state {

inline constexpr int k_plan_format_version = 1;

// Text as it can be shown on a terminal: control characters (C0, DEL, C1)
// and invisible format characters (bidirectional overrides such as U+202E,
// zero-width characters) written as \uXXXX, so a value from Bob or JumpCloud
// cannot rewrite the line it is printed on.
std::string terminal_safe(std::string_view text);

// "+ create", "~ update" with old -> new per field, "- suspend", "! conflict",
// "> activate", "… defer" and a summary line. Deterministic.
std::string render_text(const Plan& plan);

// The JSON document: formatVersion, policyHash, summary, blocked{blocked,
// reasons}, changes[] {action, bobId, jumpcloudId, email, username, reason,
// fields{name:{old,new}}, targetState, date, matchedBy, leaver}, warnings[].
// `indent` < 0 gives one line.
std::string render_json(const Plan& plan, int indent = 2);

// Reads a document written by render_json. nullopt with `error` set when the
// text is not such a document or has another formatVersion.
std::optional<Plan> parse_plan_json(std::string_view text, std::string& error);

// One change as a JSON object (the same shape as in render_json), and back.
std::string change_to_json(const Change& change);
std::optional<Change> change_from_json(std::string_view text, std::string& error);

} // namespace bobsync::state
