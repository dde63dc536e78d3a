#include "controller/status/status_page.hpp"

#include "state/timestamp.hpp"

#include <chrono>
#include <cstdio>
#include <sstream>

namespace bobsync::controller::status {
namespace {

constexpr std::string_view k_style = R"(
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:1rem;color:#1b1f24;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.meta{color:#555}.bad{color:#a40000;font-weight:600}.ok{color:#116329}
.box{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.75rem;margin:.5rem 0}
.alert{border-color:#a40000;background:#fff5f5}
code,pre{font:13px ui-monospace,monospace;background:#f0f0f0;padding:.1rem .3rem;border-radius:3px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e5e5e5;vertical-align:top}
th{background:#f3f3f3}
form{margin:.5rem 0}input{font:inherit;padding:.3rem;max-width:14rem}button{font:inherit;padding:.3rem .7rem}
@media (max-width:640px){
 table,thead,tbody,tr,th,td{display:block}thead{display:none}
 tr{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;background:#fff}
 td{border:0;padding:.2rem .5rem}td::before{content:attr(data-label) ": ";font-weight:600;color:#555}
}
)";

std::string duration_text(const state::RunRecord& run) {
  if (run.finished_at.empty()) {
    return "running";
  }
  const auto start = state::parse_timestamp(run.started_at);
  const auto end = state::parse_timestamp(run.finished_at);
  if (!start || !end) {
    return "";
  }
  const double seconds = std::chrono::duration<double>(*end - *start).count();
  if (seconds < 1.0 && run.started_at.find('.') == std::string::npos) {
    return "< 1 s"; // whole-second timestamps
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f s", seconds);
  return buffer;
}

void cell(std::ostringstream& out, std::string_view label, std::string_view text) {
  out << "<td data-label=\"" << label << "\">" << html_escape(text) << "</td>";
}

void header(std::ostringstream& out, std::initializer_list<std::string_view> labels) {
  out << "<table><thead><tr>";
  for (auto label : labels) {
    out << "<th>" << label << "</th>";
  }
  out << "</tr></thead><tbody>";
}

std::string person(const std::string& id, const std::string& name, const std::string& email) {
  std::string text = name.empty() ? id : name + " (" + id + ")";
  if (!email.empty()) {
    text += " <" + email + ">";
  }
  return text;
}

void employee_link(std::ostringstream& out, std::string_view label, const std::string& id) {
  out << "<td data-label=\"" << label << "\"><a href=\"?employee=" << html_escape(url_encode(id))
      << "\">" << html_escape(id) << "</a></td>";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Compares every byte of `a` whatever `b` is, and the lengths last.
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const unsigned char other = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(static_cast<unsigned char>(a[i]) ^ other);
  }
  return diff == 0 && a.size() == b.size();
}

} // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-'
        || u == '_' || u == '.' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += k_hex[u >> 4];
      out += k_hex[u & 15];
    }
  }
  return out;
}

std::string url_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() + 0 && hex(text[i + 1]) >= 0
               && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool bearer_matches(std::string_view authorization, std::string_view token) {
  if (token.empty()) {
    return false;
  }
  constexpr std::string_view k_prefix = "Bearer ";
  if (authorization.size() < k_prefix.size()
      || authorization.substr(0, k_prefix.size()) != k_prefix) {
    return false;
  }
  return constant_time_equal(token, authorization.substr(k_prefix.size()));
}

std::string render_status_page(const StatusSnapshot& s) {
  std::ostringstream out;
  out << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>bobsync status</title><style>"
      << k_style << "</style></head><body>";
  out << "<h1>bobsync status</h1><p class=\"meta\">As of " << html_escape(s.now)
      << " · policy <code id=\"policy-hash\">" << html_escape(s.policy_hash.substr(0, 12))
      << "</code></p>";

  // Problems first.
  if (!s.policy_rejected.empty()) {
    out << "<div class=\"box alert\" id=\"policy-rejected\"><p class=\"bad\">The last reload of "
        << html_escape(s.policy_path)
        << " failed; the last good policy keeps running. Fix these and save the file:</p><ul>";
    for (const auto& d : s.policy_rejected) {
      out << "<li><code>" << html_escape(d) << "</code></li>";
    }
    out << "</ul></div>";
  } else {
    out << "<p class=\"ok\" id=\"policy-ok\">The policy file is valid (last reload succeeded).</p>";
  }
  if (s.blocked) {
    bool bad_read = false;
    out << "<div class=\"box alert\" id=\"blocked\"><p class=\"bad\">The plan is blocked: "
           "nothing was applied.</p><ul>";
    for (const auto& r : s.blocked_by) {
      bad_read = bad_read || r.bad_read;
      out << "<li>" << (r.bad_read ? "bad read: " : "safety limit: ") << html_escape(r.message)
          << "</li>";
    }
    out << "</ul>";
    if (bad_read) {
      out << "<p>Bob's answer cannot be trusted (nobody, an employee twice, or a field missing "
             "for everyone): fix the data or the service user's permissions in Bob; no flag "
             "overrides a bad read.</p>";
    } else {
      out << "<p>After reviewing the plan (<code>bobsync plan -f " << html_escape(s.policy_path)
          << "</code>), apply it with:</p><pre id=\"unblock\">bobsync apply -f "
          << html_escape(s.policy_path) << " --allow-mass-changes</pre>";
    }
    out << "</div>";
  }
  if (!s.last_error.empty()) {
    out << "<div class=\"box alert\" id=\"last-error\"><p class=\"bad\">The last pass failed "
           "(retrying):</p><code>"
        << html_escape(s.last_error) << "</code></div>";
  }

  out << "<h2>Last passes</h2>";
  if (s.runs.empty()) {
    out << "<p>No pass yet.</p>";
  } else {
    header(out, {"Started", "Kind", "Outcome", "Counts", "Duration"});
    for (const auto& run : s.runs) {
      out << "<tr class=\"run\">";
      cell(out, "Started", run.started_at);
      cell(out, "Kind", run.kind);
      cell(out, "Outcome", run.outcome.empty() ? std::string("running") : run.outcome);
      cell(out, "Counts", run.summary);
      cell(out, "Duration", duration_text(run));
      out << "</tr>";
    }
    out << "</tbody></table>";
  }

  if (!s.plan_known) {
    out << "<h2>Coming up and open conflicts</h2><p>Not shown by this controller: run "
           "<code>bobsync "
           "plan -f "
        << html_escape(s.policy_path)
        << "</code> (deferred starters and leavers, conflicts with what to change).</p>";
  }
  out << (s.plan_known ? "<h2>Coming up</h2>" : "");
  if (!s.plan_known) {
  } else if (s.upcoming.empty()) {
    out << "<p>Nothing scheduled.</p>";
  } else {
    header(out, {"When", "What", "Employee"});
    for (const auto& u : s.upcoming) {
      out << "<tr class=\"upcoming\">";
      cell(out, "When", u.when);
      cell(out, "What", u.what);
      cell(out, "Employee", person(u.employee_id, u.name, u.email));
      out << "</tr>";
    }
    out << "</tbody></table>";
  }

  out << (s.plan_known ? "<h2>Open conflicts</h2>" : "");
  if (!s.plan_known) {
  } else if (s.conflicts.empty()) {
    out << "<p>None.</p>";
  } else {
    header(out, {"Employee", "Reason", "To resolve"});
    for (const auto& c : s.conflicts) {
      out << "<tr class=\"conflict\">";
      cell(out, "Employee", person(c.employee_id, c.name, c.email));
      cell(out, "Reason", c.reason);
      cell(out, "To resolve", c.fix);
      out << "</tr>";
    }
    out << "</tbody></table>";
  }

  out << "<h2>Audit log</h2><form method=\"get\" action=\"\"><label>Employee id "
         "<input name=\"employee\" id=\"employee\" value=\""
      << html_escape(s.employee_filter) << "\"></label> <button type=\"submit\">Filter</button>";
  if (!s.employee_filter.empty()) {
    out << " <a href=\"?\">all employees</a>";
  }
  out << "</form>";
  if (s.audit.empty()) {
    out << "<p>No changes recorded"
        << (s.employee_filter.empty() ? std::string()
                                      : " for employee " + html_escape(s.employee_filter))
        << ".</p>";
  } else {
    out << "<p class=\"meta\">The newest " << s.audit.size() << " change"
        << (s.audit.size() == 1 ? "" : "s")
        << (static_cast<int>(s.audit.size()) >= s.audit_limit && s.audit_limit > 0
                ? " (older ones: bobsync history)"
                : "")
        << ".</p>";
    header(out, {"Time", "Employee", "Action", "Outcome", "Fields", "User"});
    for (auto it = s.audit.rbegin(); it != s.audit.rend(); ++it) {
      const auto& a = *it;
      out << "<tr class=\"audit\">";
      cell(out, "Time", a.time);
      employee_link(out, "Employee", a.employee_id);
      cell(out, "Action", state::to_string(a.action));
      cell(out, "Outcome", a.message.empty() ? a.outcome : a.outcome + ": " + a.message);
      out << "<td data-label=\"Fields\">";
      for (const auto& f : a.fields) {
        out << "<div>" << html_escape(f.name) << ": "
            << html_escape(f.old_value ? *f.old_value : std::string("(none)")) << " → "
            << html_escape(f.new_value) << "</div>";
      }
      out << "</td>";
      cell(out, "User", a.user_id);
      out << "</tr>";
    }
    out << "</tbody></table>";
  }
  out << "</body></html>\n";
  return out.str();
}

StatusPage::StatusPage(std::string token, SnapshotFn snapshot)
    : m_token(std::move(token)),
      m_snapshot(std::move(snapshot)) {}

StatusReply StatusPage::serve(const StatusRequest& request) const {
  if (!bearer_matches(request.authorization, m_token)) {
    return {401,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bobsync"
            "</title></head><body><p>401: send Authorization: Bearer &lt;BOBSYNC_STATUS_TOKEN&gt;."
            "</p></body></html>\n"};
  }
  if (request.employee.size() > 256) {
    return {400,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bobsync"
            "</title></head><body><p>400: the employee filter is longer than 256 "
            "characters.</p></body></html>\n"};
  }
  return {200, render_status_page(m_snapshot(request.employee))};
}

} // namespace bobsync::controller::status
