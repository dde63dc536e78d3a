#include "state/plan_markdown.hpp"

#include "state/plan_render.hpp"

#include <sstream>

namespace bobsync::state {
namespace {

// Room kept for the closing lines and the note on what was left out.
constexpr std::size_t k_footer_reserve = 800;

std::string title(Action action) {
  switch (action) {
  case Action::conflict:
    return "Conflicts";
  case Action::create:
    return "Create";
  case Action::update:
    return "Update";
  case Action::activate:
    return "Activate";
  case Action::suspend:
    return "Suspend";
  case Action::defer:
    return "Deferred";
  }
  return "?"; // unreachable
}

std::string what_it_does(Action action) {
  switch (action) {
  case Action::conflict:
    return "never applied: fix the data in Bob or JumpCloud";
  case Action::create:
    return "new JumpCloud users";
  case Action::update:
    return "fields that differ";
  case Action::activate:
    return "users set to ACTIVATED";
  case Action::suspend:
    return "users set to SUSPENDED";
  case Action::defer:
    return "nothing now; happens on the date shown";
  }
  return "?"; // unreachable
}

// At most `max` bytes of `text`, cut on a UTF-8 character boundary.
std::string cut(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return std::string(text);
  }
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) {
    --end;
  }
  return std::string(text.substr(0, end)) + "…";
}

std::string value_cell(const std::optional<std::string>& value, std::size_t max) {
  if (!value) {
    return "*(none)*";
  }
  if (value->empty()) {
    return "*(empty)*";
  }
  return markdown_escape(cut(*value, max));
}

std::string who(const Change& c, std::size_t max) {
  std::string out = c.username.empty() ? std::string("*(no username)*")
                                       : "**" + markdown_escape(cut(c.username, max)) + "**";
  if (!c.email.empty()) {
    out += " " + markdown_escape("<" + cut(c.email, max) + ">");
  }
  out += " · bob:" + markdown_escape(c.employee_id);
  if (!c.user_id.empty()) {
    out += " · jumpcloud:" + markdown_escape(c.user_id);
  }
  return out;
}

// One change inside its action's section.
std::string change_block(const Change& c, std::size_t max) {
  std::ostringstream out;
  out << "- " << who(c, max) << "\n";
  if (!c.reason.empty()) {
    out << "  - reason: " << markdown_escape(cut(c.reason, max)) << "\n";
  }
  if (!c.date.empty()) {
    out << "  - on: " << markdown_escape(c.date) << "\n";
  }
  if (c.target_state) {
    out << "  - state: " << to_string(*c.target_state) << "\n";
  }
  if (!c.fields.empty()) {
    out << "\n  | Field | Old | New |\n  | --- | --- | --- |\n";
    for (const auto& f : c.fields) {
      const std::optional<std::string> new_value = f.new_value;
      out << "  | " << markdown_escape(f.name) << " | " << value_cell(f.old_value, max) << " | "
          << (f.new_value.empty() && c.action != Action::create ? std::string("*(cleared)*")
                                                                : value_cell(new_value, max))
          << " |\n";
    }
  }
  out << "\n"; // a blank line ends the item (and its table)
  return out.str();
}

std::string summary_line(const Plan& plan) {
  const auto& s = plan.summary;
  std::ostringstream out;
  out << s.count(Action::create) << " to create, " << s.count(Action::update) << " to update, "
      << s.count(Action::activate) << " to activate, " << s.count(Action::suspend)
      << " to suspend, " << s.count(Action::defer) << " deferred, " << s.count(Action::conflict)
      << " conflicts; " << s.unchanged << " unchanged.";
  return out.str();
}

} // namespace

std::string markdown_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    switch (ch) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '@':
      out += "&#64;";
      break;
    case '#':
      out += "&#35;";
      break;
    case '\n':
      out += "<br>";
      break;
    case '\\':
    case '`':
    case '*':
    case '_':
    case '[':
    case ']':
    case '|':
    case '~':
    case '!':
      out += '\\';
      out += ch;
      break;
    default:
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) {
        out += ' ';
      } else if ((static_cast<unsigned char>(ch) & 0xC0U) == 0xC0U) {
        // A UTF-8 sequence: an invisible format or C1 control character
        // (a bidi override would reorder the comment a reviewer reads) is
        // shown as \uXXXX, its backslash escaped for Markdown.
        std::size_t n = 1;
        while (i + n < text.size() && n < 4
               && (static_cast<unsigned char>(text[i + n]) & 0xC0U) == 0x80U) {
          ++n;
        }
        const auto sequence = text.substr(i, n);
        const auto shown = terminal_safe(sequence);
        out += shown == sequence ? shown : "\\" + shown;
        i += n - 1;
      } else {
        out += ch;
      }
    }
  }
  return out;
}

std::string render_markdown(const Plan& plan, const MarkdownOptions& options) {
  const std::size_t max = options.max_value_chars;
  std::ostringstream head;
  head << "### bobsync plan\n\n";
  if (plan.blocked) {
    head << "> [!CAUTION]\n> **Blocked: nothing will be applied.**\n";
    for (const auto& reason : plan.block_reasons) {
      head << "> - " << (reason.kind == BlockKind::bad_read ? "bad read: " : "safety limit: ")
           << markdown_escape(cut(reason.message, 4 * max)) << "\n";
    }
    if (plan.overridable()) {
      head << ">\n> If these changes are intended, applying them needs `--allow-mass-changes`: a "
              "deliberate step that someone reviews (see docs/gitops.md).\n\n";
    } else {
      head << ">\n> Bob or JumpCloud answered with data that cannot be trusted: fix the read "
              "first; `--allow-mass-changes` does not lift this.\n\n";
    }
  }
  head << "**Plan:** " << summary_line(plan);
  if (plan.empty() && !plan.blocked && plan.summary.count(Action::conflict) == 0) {
    head << " No changes: JumpCloud is in line with Bob.";
  }
  head << "\n\n";
  if (!plan.policy_hash.empty()) {
    head << "Policy `" << plan.policy_hash.substr(0, 12) << "`\n\n";
  }
  head << "| Action | Count | |\n| --- | ---: | --- |\n";
  for (auto action : k_all_actions) {
    head << "| " << title(action) << " | " << plan.summary.count(action) << " | "
         << what_it_does(action) << " |\n";
  }
  head << "| Unchanged | " << plan.summary.unchanged << " | in line with Bob |\n\n";
  if (!plan.diagnostics.empty()) {
    head << "**Warnings**\n\n";
    for (const auto& d : plan.diagnostics) {
      head << "- " << markdown_escape(cut(d.message, 4 * max)) << "\n";
    }
    head << "\n";
  }

  std::string doc = head.str();
  const std::size_t budget =
      options.max_bytes > k_footer_reserve ? options.max_bytes - k_footer_reserve : 0;
  std::size_t left_out = 0;
  bool full = doc.size() > budget;

  // Conflicts first, outside any <details>: a reviewer must see them.
  std::size_t i = 0;
  const auto& changes = plan.changes; // sorted by action, conflicts first
  if (i < changes.size() && changes[i].action == Action::conflict) {
    const std::string heading = "#### ⚠️ Conflicts ("
                                + std::to_string(plan.summary.count(Action::conflict))
                                + "): never applied; resolve them in Bob or JumpCloud\n\n";
    if (!full && doc.size() + heading.size() <= budget) {
      doc += heading;
    } else {
      full = true;
    }
    for (; i < changes.size() && changes[i].action == Action::conflict; ++i) {
      const auto block = change_block(changes[i], max);
      if (!full && doc.size() + block.size() <= budget) {
        doc += block;
      } else {
        full = true;
        ++left_out;
      }
    }
    if (doc.back() != '\n' || doc.size() < 2 || doc[doc.size() - 2] != '\n') {
      doc += "\n";
    }
  }

  // The other actions, each in a collapsible section.
  while (i < changes.size()) {
    const Action action = changes[i].action;
    const std::string open = "<details><summary><b>" + title(action) + "</b> ("
                             + std::to_string(plan.summary.count(action)) + ")</summary>\n\n";
    const std::string close = "</details>\n\n";
    bool opened = false;
    if (!full && doc.size() + open.size() + close.size() <= budget) {
      doc += open;
      opened = true;
    } else {
      full = true;
    }
    for (; i < changes.size() && changes[i].action == action; ++i) {
      const auto block = change_block(changes[i], max);
      if (opened && !full && doc.size() + block.size() + close.size() <= budget) {
        doc += block;
      } else {
        full = true;
        ++left_out;
      }
    }
    if (opened) {
      doc += close;
    }
  }

  if (left_out > 0) {
    doc += "> [!NOTE]\n> " + std::to_string(left_out) + " of " + std::to_string(changes.size())
           + " changes are not shown: the comment would be too long. The whole plan is in ";
    doc += options.json_artifact.empty()
               ? std::string("`bobsync plan --format json`")
               : "the JSON artifact **" + markdown_escape(cut(options.json_artifact, max)) + "**";
    doc += ".\n";
  }
  return doc;
}

} // namespace bobsync::state
