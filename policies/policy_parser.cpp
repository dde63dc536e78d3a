#include "policies/policy_parser.hpp"

#include "policies/catalog.hpp"
#include "policies/transforms.hpp"

#include <date/tz.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

// The policy schema is documented in docs/policy.md: keep the two in step.

namespace bobsync::policies {
namespace {

using state::FieldMode;
using state::MatchRule;
using state::Severity;
using state::StatusBehavior;
using state::UserState;

constexpr std::size_t k_max_echo = 60; // longest value quoted back in a message
constexpr long long k_max_seconds = 366LL * 24 * 3600;
// A policy is a few hundred YAML values; these bound what a hostile one
// (alias bombs, deep nesting) costs to walk.
constexpr std::size_t k_max_yaml_nodes = 100000;
constexpr int k_max_yaml_depth = 64;

// Walks a YAML stream's documents without building them and returns where
// the parser stopped making progress: yaml-cpp 0.7 never gets past a ','
// where a document should start (jbeder/yaml-cpp#1040), so YAML::LoadAll
// would add empty documents until memory runs out. nullopt when the stream
// ends; throws YAML::ParserException as LoadAll does.
class DocumentStarts final : public YAML::EventHandler {
public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    m_repeated = m_seen && mark.pos == m_last.pos;
    m_seen = true;
    m_last = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void
  OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&,
                       const std::string&,
                       YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&,
                  const std::string&,
                  YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  bool repeated() const { return m_repeated; }
  const YAML::Mark& last() const { return m_last; }

private:
  YAML::Mark m_last;
  bool m_seen = false;
  bool m_repeated = false;
};

std::optional<YAML::Mark> stuck_at(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (parser.HandleNextDocument(starts)) {
    if (starts.repeated()) {
      return starts.last();
    }
  }
  return std::nullopt;
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  if (text.size() > k_max_echo) {
    std::size_t cut = k_max_echo;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
      --cut; // not inside a UTF-8 sequence
    }
    out += text.substr(0, cut);
    out += "...";
  } else {
    out += text;
  }
  return out + "'";
}

std::string join_names(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto name : names) {
    out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  const auto best = closest(word, candidates);
  return best.empty() ? std::string() : " (did you mean '" + std::string(best) + "'?)";
}

// What a node holds, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Undefined:
  case YAML::NodeType::Null:
    return "nothing";
  case YAML::NodeType::Scalar:
    return (node.Tag() == "!" ? "the string " : "") + quoted(node.Scalar());
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Map:
    return "a map";
  }
  return "nothing";
}

bool is_plain(const YAML::Node& node) {
  return node.IsScalar() && node.Tag() != "!";
}

bool is_alnum_name(std::string_view name, std::size_t max_size) {
  return !name.empty() && name.size() <= max_size
         && std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) != 0;
            });
}

// A node with where it is and how to name it in messages.
struct Value {
  YAML::Node node;
  SourceLocation where;
  std::string path; // "lifecycle.timeZone", "mapping[2].transforms[0]"; "" for the document
};

// One `key: value` of a YAML map.
struct Entry {
  std::string key;
  SourceLocation key_where;
  Value value;
};

// The recognized entries of a YAML map.
struct Section {
  Value self;
  std::vector<Entry> entries;

  const Value* find(std::string_view key) const {
    for (const auto& entry : entries) {
      if (entry.key == key) {
        return &entry.value;
      }
    }
    return nullptr;
  }
};

template<typename E> struct Choice {
  std::string_view name;
  E value;
};

const std::vector<std::string_view> k_top_keys = {"version",
                                                  "source",
                                                  "target",
                                                  "scope",
                                                  "mapping",
                                                  "usernames",
                                                  "lifecycle",
                                                  "matching",
                                                  "safety",
                                                  "schedule"};
const std::vector<std::string_view> k_filter_keys = {
    "emailDomains", "sites", "departments", "employmentTypes", "employeeIds", "fields"};
const std::vector<std::string_view> k_mapping_keys = {
    "target", "source", "sources", "value", "transforms", "mode"};
const std::vector<std::string_view> k_lifecycle_keys = {"statusBehavior",
                                                        "timeZone",
                                                        "siteTimeZones",
                                                        "provisionDaysBefore",
                                                        "earlyState",
                                                        "leaverDate",
                                                        "suspendMissing",
                                                        "fields"};
const std::vector<std::string_view> k_lifecycle_field_keys = {"startDate",
                                                              "terminationDate",
                                                              "lastDayOfWork",
                                                              "status",
                                                              "lifecycleStatus",
                                                              "site",
                                                              "email",
                                                              "employmentType",
                                                              "department",
                                                              "displayName"};
const std::vector<std::string_view> k_safety_keys = {"maxSuspensions",
                                                     "maxSuspensionsPercent",
                                                     "minSuspensionsForPercent",
                                                     "maxChanges",
                                                     "blockOnEmptySource",
                                                     "blockOnMissingField"};
const std::vector<std::string_view> k_transform_names = {"trim",
                                                         "lower",
                                                         "upper",
                                                         "default",
                                                         "replace",
                                                         "lookup",
                                                         "join",
                                                         "concat",
                                                         "normalizeDiacritics",
                                                         "sanitizeUsername"};

// Bob's own JumpCloud mapping (PRODUCT.md §1), used when `mapping` is absent.
std::vector<Mapping> default_mapping(const std::string& source_name) {
  struct Row {
    const char* target;
    const char* source;
  };
  static constexpr Row k_rows[] = {
      {"email", "root.email"},
      {"username", "root.displayName"},
      {"firstname", "root.firstName"},
      {"lastname", "root.surname"},
      {"middlename", "root.secondName"},
      {"displayname", "root.displayName"},
      {"phoneNumbers[type=work]", "work.workPhone"},
      {"phoneNumbers[type=work_mobile]", "work.workMobile"},
      {"jobTitle", "work.title"},
      {"department", "work.department"},
      {"employeeIdentifier", "work.employeeIdInCompany"},
      {"location", "work.site"},
      {"employeeType", "payroll.employment.type"},
  };
  std::vector<Mapping> rows;
  for (const auto& row : k_rows) {
    Mapping m;
    m.target = row.target;
    m.sources = {row.source};
    m.where.file = source_name;
    Transform step;
    step.where.file = source_name;
    if (m.target == "username") {
      step.kind = Transform::Kind::sanitize_username;
      m.mode = FieldMode::create_only;
    } else {
      step.kind = Transform::Kind::trim;
    }
    m.transforms.push_back(step);
    rows.push_back(std::move(m));
  }
  return rows;
}

class Parser {
public:
  explicit Parser(std::string source_name)
      : m_source_name(std::move(source_name)) {
    m_policy.source_name = m_source_name;
  }

  ParseResult run(std::string_view text) {
    try {
      parse_document(text);
    } catch (const YAML::Exception& e) {
      error(at(e.mark), "cannot read the policy: " + e.msg);
    } catch (const std::exception& e) {
      error(SourceLocation{m_source_name, 1, 1},
            std::string("cannot read the policy: ") + e.what());
    }
    std::stable_sort(
        m_diagnostics.begin(), m_diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
          return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
        });
    ParseResult result;
    if (!has_errors(m_diagnostics)) {
      result.policy = std::move(m_policy);
    }
    result.diagnostics = std::move(m_diagnostics);
    return result;
  }

private:
  // ---- diagnostics and locations ------------------------------------------

  SourceLocation at(const YAML::Mark& mark) const {
    return {
        m_source_name, mark.line >= 0 ? mark.line + 1 : 1, mark.column >= 0 ? mark.column + 1 : 1};
  }

  // The first tab in the leading whitespace of a line up to `last_line`
  // (0-based, as in YAML::Mark): yaml-cpp reports tab indentation as some
  // other syntax error ("illegal map value", "end of map not found").
  std::optional<SourceLocation> indentation_tab(std::string_view text, int last_line) const {
    int line = 0;
    std::size_t start = 0;
    while (start <= text.size() && line <= last_line) {
      for (std::size_t i = start; i < text.size() && (text[i] == ' ' || text[i] == '\t'); ++i) {
        if (text[i] == '\t') {
          return SourceLocation{m_source_name, line + 1, static_cast<int>(i - start) + 1};
        }
      }
      const auto end = text.find('\n', start);
      if (end == std::string_view::npos) {
        break;
      }
      start = end + 1;
      ++line;
    }
    return std::nullopt;
  }

  // Whether `node` has at most `budget` values counted as if every alias
  // were written out, and nests at most k_max_yaml_depth deep. yaml-cpp
  // shares an aliased node, so a "billion laughs" document loads quickly but
  // would take forever to walk; this walk stops as soon as it is over.
  static bool within_node_budget(const YAML::Node& node, std::size_t& budget, int depth) {
    if (budget == 0 || depth > k_max_yaml_depth) {
      return false;
    }
    --budget;
    if (node.IsSequence()) {
      for (const auto& child : node) {
        if (!within_node_budget(child, budget, depth + 1)) {
          return false;
        }
      }
    } else if (node.IsMap()) {
      for (const auto& entry : node) {
        if (!within_node_budget(entry.first, budget, depth + 1)
            || !within_node_budget(entry.second, budget, depth + 1)) {
          return false;
        }
      }
    }
    return true;
  }

  void error(const SourceLocation& where, std::string message) {
    m_diagnostics.push_back({Severity::error, std::move(message), where});
  }
  void warning(const SourceLocation& where, std::string message) {
    m_diagnostics.push_back({Severity::warning, std::move(message), where});
  }
  void error(const Value& value, const std::string& message) {
    error(value.where, value.path + ": " + message);
  }
  void expected(const Value& value, const std::string& what) {
    error(value, "expected " + what + ", got " + describe(value.node));
  }

  // A child of a map. An empty value (`key:`) is reported at its key: yaml-cpp
  // places it at the next token.
  Value child(const Value& parent, const YAML::Node& key, const YAML::Node& node) const {
    const std::string name = key.IsScalar() ? key.Scalar() : std::string("?");
    return Value{node,
                 at(node.IsNull() ? key.Mark() : node.Mark()),
                 parent.path.empty() ? name : parent.path + "." + name};
  }

  Value item(const Value& parent, const YAML::Node& node, std::size_t index) const {
    return Value{node,
                 node.IsNull() ? parent.where : at(node.Mark()),
                 parent.path + "[" + std::to_string(index) + "]"};
  }

  // ---- generic readers ------------------------------------------------------

  // Reads a map, reporting non-string keys, duplicates and (unless `allowed`
  // is null) unknown keys. nullopt when the value is not a map; an empty
  // value counts as an empty map when `null_is_empty`.
  std::optional<Section> section(const Value& value,
                                 const std::vector<std::string_view>* allowed,
                                 bool null_is_empty = true) {
    if (value.node.IsNull() && null_is_empty) {
      return Section{value, {}};
    }
    if (!value.node.IsMap()) {
      expected(value, "a map");
      return std::nullopt;
    }
    const std::string context = value.path.empty() ? "policy" : value.path;
    Section out{value, {}};
    std::map<std::string, int> seen;
    for (auto it = value.node.begin(); it != value.node.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        error(at(key.Mark()),
              "keys of '" + context + "' must be plain names, got " + describe(key));
        continue;
      }
      const std::string name = key.Scalar();
      if (auto [pos, inserted] = seen.emplace(name, key.Mark().line + 1); !inserted) {
        error(at(key.Mark()),
              "duplicate key '" + name + "' in '" + context + "' (first at line "
                  + std::to_string(pos->second) + ")");
        continue;
      }
      if (allowed != nullptr
          && std::find(allowed->begin(), allowed->end(), name) == allowed->end()) {
        const auto hint = did_you_mean(name, *allowed);
        error(at(key.Mark()),
              "unknown key '" + name + "' in '" + context + "'"
                  + (hint.empty() ? "; expected one of " + join_names(*allowed) : hint));
        continue;
      }
      out.entries.push_back(Entry{name, at(key.Mark()), child(value, key, it->second)});
    }
    return out;
  }

  std::optional<std::vector<Value>> list(const Value& value, const std::string& what) {
    if (!value.node.IsSequence()) {
      expected(value, what);
      return std::nullopt;
    }
    std::vector<Value> items;
    std::size_t index = 0;
    for (auto it = value.node.begin(); it != value.node.end(); ++it) {
      items.push_back(item(value, *it, index++));
    }
    return items;
  }

  std::optional<std::string> string(const Value& value, const std::string& what = "a string") {
    if (!value.node.IsScalar()) {
      expected(value, what);
      return std::nullopt;
    }
    return value.node.Scalar();
  }

  std::optional<std::string> non_empty_string(const Value& value,
                                              const std::string& what = "a non-empty string") {
    auto text = string(value, what);
    if (text && text->empty()) {
      expected(value, what);
      return std::nullopt;
    }
    return text;
  }

  std::optional<long long> integer(const Value& value, long long min, long long max) {
    const std::string range =
        max == std::numeric_limits<int>::max()
            ? "an integer >= " + std::to_string(min)
            : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!is_plain(value.node)) {
      expected(value, range);
      return std::nullopt;
    }
    const std::string& text = value.node.Scalar();
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (first != last && *first == '+') {
      ++first;
    }
    long long number = 0;
    const auto [end, ec] = std::from_chars(first, last, number);
    if (first == last || end != last || ec == std::errc::invalid_argument) {
      expected(value, range);
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || number < min || number > max) {
      expected(value, range);
      return std::nullopt;
    }
    return number;
  }

  std::optional<double> number(const Value& value, double min, double max) {
    const auto range = "a number from " + std::to_string(static_cast<int>(min)) + " to "
                       + std::to_string(static_cast<int>(max));
    if (!is_plain(value.node)) {
      expected(value, range);
      return std::nullopt;
    }
    const std::string& text = value.node.Scalar();
    double result = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), result);
    if (text.empty() || end != text.data() + text.size() || ec != std::errc()
        || !std::isfinite(result) || result < min || result > max) {
      expected(value, range);
      return std::nullopt;
    }
    return result;
  }

  std::optional<bool> boolean(const Value& value) {
    if (is_plain(value.node)) {
      const std::string& text = value.node.Scalar();
      if (text == "true" || text == "True" || text == "TRUE") {
        return true;
      }
      if (text == "false" || text == "False" || text == "FALSE") {
        return false;
      }
    }
    expected(value, "true or false");
    return std::nullopt;
  }

  template<typename E>
  std::optional<E> choice(const Value& value, std::initializer_list<Choice<E>> choices) {
    std::vector<std::string_view> names;
    for (const auto& c : choices) {
      names.push_back(c.name);
    }
    const std::string list = "one of " + join_names(names);
    if (!value.node.IsScalar()) {
      expected(value, list);
      return std::nullopt;
    }
    const std::string& text = value.node.Scalar();
    for (const auto& c : choices) {
      if (c.name == text) {
        return c.value;
      }
    }
    error(value, "expected " + list + ", got " + quoted(text) + did_you_mean(text, names));
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> string_list(const Value& value) {
    auto items = list(value, "a list of strings, e.g. [a, b]");
    if (!items) {
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& entry : *items) {
      if (auto text = non_empty_string(entry)) {
        out.push_back(std::move(*text));
      } else {
        ok = false;
      }
    }
    return ok ? std::optional(std::move(out)) : std::nullopt;
  }

  // 30s, 5m, 1h, 1d, or a combination such as 1h30m; more than zero.
  std::optional<std::chrono::seconds> duration(const Value& value) {
    auto ms = duration_ms(value, false);
    if (!ms) {
      return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(*ms);
  }

  // As duration(); `milliseconds` also accepts the unit ms (300ms, 1s500ms).
  std::optional<std::chrono::milliseconds> duration_ms(const Value& value, bool milliseconds) {
    const std::string what = milliseconds ? "a duration such as 30s, 5m, 1h or 300ms"
                                          : "a duration such as 30s, 5m, 1h, 1d or 1h30m";
    if (!value.node.IsScalar()) {
      expected(value, what);
      return std::nullopt;
    }
    const std::string& text = value.node.Scalar();
    long long total = 0;
    std::size_t i = 0;
    bool ok = !text.empty();
    while (ok && i < text.size()) {
      const std::size_t digits_start = i;
      long long amount = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - digits_start < 9) {
        amount = amount * 10 + (text[i] - '0');
        ++i;
      }
      if (i == digits_start || i == text.size()) {
        ok = false;
        break;
      }
      switch (text[i]) {
      case 's':
        total += amount * 1000;
        break;
      case 'm':
        if (milliseconds && i + 1 < text.size() && text[i + 1] == 's') {
          total += amount;
          ++i;
        } else {
          total += amount * 60000;
        }
        break;
      case 'h':
        total += amount * 3600000;
        break;
      case 'd':
        total += amount * 86400000;
        break;
      default:
        ok = false;
        break;
      }
      ++i;
      ok = ok && total <= k_max_seconds * 1000;
    }
    if (!ok) {
      expected(value, what);
      return std::nullopt;
    }
    if (total == 0 || (!milliseconds && total % 1000 != 0)) {
      error(value, "expected a duration greater than zero, got " + quoted(text));
      return std::nullopt;
    }
    return std::chrono::milliseconds(total);
  }

  // An http(s) URL without credentials; plain http only on loopback.
  std::optional<std::string> url(const Value& value) {
    const std::string what = "an https:// URL such as https://host/path";
    auto text = string(value, what);
    if (!text) {
      return std::nullopt;
    }
    std::string_view rest = *text;
    bool secure = false;
    if (rest.substr(0, 8) == "https://") {
      secure = true;
      rest.remove_prefix(8);
    } else if (rest.substr(0, 7) == "http://") {
      rest.remove_prefix(7);
    } else {
      error(value, "expected " + what + " (http:// only on loopback)");
      return std::nullopt;
    }
    const auto has_space = std::any_of(text->begin(), text->end(), [](char c) {
      return std::isspace(static_cast<unsigned char>(c)) != 0
             || std::iscntrl(static_cast<unsigned char>(c)) != 0;
    });
    const auto authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos) {
      error(value, "the URL must not contain credentials; they come from the environment");
      return std::nullopt;
    }
    std::string_view host = authority;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
      const auto close = host.find(']');
      if (close == std::string_view::npos) {
        host = {};
      } else {
        port = host.substr(close + 1);
        host = host.substr(0, close + 1);
      }
    } else if (const auto colon = host.find(':'); colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    const bool port_ok = port.empty()
                         || (port.size() > 1 && port.size() <= 6 && port.front() == ':'
                             && std::all_of(port.begin() + 1, port.end(), [](char c) {
                                  return c >= '0' && c <= '9';
                                }));
    if (has_space || host.empty() || !port_ok) {
      error(value, "expected " + what);
      return std::nullopt;
    }
    const bool loopback =
        host == "localhost" || host == "[::1]"
        || (host.substr(0, 4) == "127." && std::all_of(host.begin(), host.end(), [](char c) {
              return c == '.' || (c >= '0' && c <= '9');
            }));
    if (!secure && !loopback) {
      error(value,
            "plain http:// is only allowed for loopback hosts (localhost, 127.0.0.1, [::1]); "
            "use https://");
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> time_zone(const Value& value) {
    auto name = non_empty_string(value, "an IANA time zone such as Europe/London");
    if (!name) {
      return std::nullopt;
    }
    try {
      (void)date::locate_zone(*name);
    } catch (const std::exception&) {
      error(value,
            "unknown time zone " + quoted(*name)
                + "; expected an IANA name such as Europe/London or America/New_York");
      return std::nullopt;
    }
    return name;
  }

  std::optional<std::string> bob_field(const Value& value) {
    auto field = non_empty_string(value, "a Bob field id such as work.title");
    if (!field) {
      return std::nullopt;
    }
    if (!is_known_bob_field(*field)) {
      const auto hint = did_you_mean(*field, standard_bob_fields());
      error(value,
            "unknown Bob field " + quoted(*field)
                + (hint.empty() ? "; expected a field id such as root.email, work.title or "
                                  "work.custom.field_123"
                                : hint));
      return std::nullopt;
    }
    return field;
  }

  // ---- sections ---------------------------------------------------------------

  void parse_document(std::string_view text) {
    std::vector<YAML::Node> documents;
    try {
      const std::string yaml(text);
      if (const auto stuck = stuck_at(yaml)) {
        const auto c = stuck->pos >= 0 && static_cast<std::size_t>(stuck->pos) < yaml.size()
                           ? yaml[static_cast<std::size_t>(stuck->pos)]
                           : ' ';
        error(at(*stuck),
              std::string("YAML syntax error: unexpected ")
                  + (c > ' ' && c < 0x7f ? "'" + std::string(1, c) + "'" : "character")
                  + " where a document should start");
        return;
      }
      documents = YAML::LoadAll(yaml);
    } catch (const YAML::DeepRecursion& e) {
      // yaml-cpp's own guard against a stack overflow; its message is "bad file".
      error(at(e.mark),
            "YAML nested more than " + std::to_string(e.depth())
                + " levels deep (brackets or braces opened inside one another); a policy nests "
                  "at most "
                + std::to_string(k_max_yaml_depth) + " levels");
      return;
    } catch (const YAML::ParserException& e) {
      if (const auto tab = indentation_tab(text, e.mark.line)) {
        error(*tab, "YAML syntax error: a tab in the indentation; YAML indents with spaces only");
      } else {
        error(at(e.mark), "YAML syntax error: " + e.msg);
      }
      return;
    }
    for (const auto& document : documents) {
      std::size_t budget = k_max_yaml_nodes;
      if (!within_node_budget(document, budget, 0)) {
        error(at(document.Mark()),
              "the policy has more than " + std::to_string(k_max_yaml_nodes)
                  + " YAML values (with aliases expanded) or is nested more than "
                  + std::to_string(k_max_yaml_depth)
                  + " levels deep; a policy is much smaller (are aliases (*name) repeating "
                    "one another?)");
        return;
      }
    }
    if (documents.empty() || documents.front().IsNull()) {
      error(SourceLocation{m_source_name, 1, 1},
            "the policy is empty; expected a map with at least 'version: 1'");
      return;
    }
    if (documents.size() > 1) {
      error(at(documents[1].Mark()),
            "expected one YAML document, found " + std::to_string(documents.size()));
    }
    const Value root{documents.front(), at(documents.front().Mark()), ""};
    auto top = section(root, &k_top_keys, false);
    if (!top) {
      return;
    }
    if (const auto* v = top->find("version")) {
      if (!is_plain(v->node) || v->node.Scalar() != "1") {
        error(*v, "unsupported policy version " + describe(v->node) + "; expected 1");
      }
    } else {
      error(root.where, "missing required key 'version' in 'policy' (expected 'version: 1')");
    }
    if (const auto* v = top->find("source")) {
      parse_source(*v);
    }
    if (const auto* v = top->find("target")) {
      parse_target(*v);
    }
    if (const auto* v = top->find("scope")) {
      parse_scope(*v);
    }
    if (const auto* v = top->find("mapping")) {
      parse_mapping(*v);
    } else {
      m_policy.mapping = default_mapping(m_source_name);
    }
    if (const auto* v = top->find("usernames")) {
      parse_usernames(*v);
    }
    if (const auto* v = top->find("lifecycle")) {
      parse_lifecycle(*v);
    }
    if (const auto* v = top->find("matching")) {
      parse_matching(*v);
    }
    if (const auto* v = top->find("safety")) {
      parse_safety(*v);
    }
    if (const auto* v = top->find("schedule")) {
      parse_schedule(*v);
    }
    cross_check(top->find("mapping"));
  }

  void parse_source(const Value& value) {
    static const std::vector<std::string_view> k_keys = {"bob"};
    static const std::vector<std::string_view> k_bob_keys = {"url"};
    auto source = section(value, &k_keys);
    if (!source) {
      return;
    }
    if (const auto* bob_value = source->find("bob")) {
      auto bob = section(*bob_value, &k_bob_keys);
      if (!bob) {
        return;
      }
      if (const auto* v = bob->find("url")) {
        if (auto text = url(*v)) {
          m_policy.bob_url = *text;
        }
      }
    }
  }

  void parse_target(const Value& value) {
    static const std::vector<std::string_view> k_keys = {"jumpcloud"};
    static const std::vector<std::string_view> k_jc_keys = {"url", "orgId", "writeConcurrency"};
    auto target = section(value, &k_keys);
    if (!target) {
      return;
    }
    const auto* jc_value = target->find("jumpcloud");
    if (jc_value == nullptr) {
      return;
    }
    auto jc = section(*jc_value, &k_jc_keys);
    if (!jc) {
      return;
    }
    if (const auto* v = jc->find("url")) {
      if (auto text = url(*v)) {
        m_policy.jumpcloud_url = *text;
      }
    }
    if (const auto* v = jc->find("orgId")) {
      const std::string what = "a JumpCloud organization id (letters and digits)";
      if (auto id = string(*v, what)) {
        if (is_alnum_name(*id, 64)) {
          m_policy.jumpcloud_org_id = *id;
        } else {
          // The value is not echoed: a misplaced API key must not reach the logs.
          error(*v, "expected " + what);
        }
      }
    }
    if (const auto* v = jc->find("writeConcurrency")) {
      if (auto n = integer(*v, 1, 32)) {
        m_policy.write_concurrency = static_cast<int>(*n);
      }
    }
  }

  std::optional<ScopeFilter> parse_filter(const Value& value) {
    auto s = section(value, &k_filter_keys);
    if (!s) {
      return std::nullopt;
    }
    ScopeFilter filter;
    auto read_list = [&](std::string_view key, std::vector<std::string>& out) {
      if (const auto* v = s->find(key)) {
        if (auto values = string_list(*v)) {
          out = std::move(*values);
        }
      }
    };
    read_list("emailDomains", filter.email_domains);
    read_list("sites", filter.sites);
    read_list("departments", filter.departments);
    read_list("employmentTypes", filter.employment_types);
    read_list("employeeIds", filter.employee_ids);
    if (const auto* v = s->find("emailDomains")) {
      for (std::size_t i = 0; i < filter.email_domains.size(); ++i) {
        if (filter.email_domains[i].find('@') != std::string::npos) {
          error(item(*v, v->node[i], i),
                "expected a domain such as example.com (without '@'), got "
                    + quoted(filter.email_domains[i]));
        }
      }
    }
    if (const auto* v = s->find("fields")) {
      if (auto fields = section(*v, nullptr, false)) {
        for (const auto& entry : fields->entries) {
          // An unknown field is reported at its key, not at its values.
          const bool known =
              bob_field(Value{YAML::Node(entry.key), entry.key_where, v->path}).has_value();
          if (auto values = string_list(entry.value); values && known) {
            filter.fields[entry.key] = std::move(*values);
          }
        }
      }
    }
    return filter;
  }

  void parse_scope(const Value& value) {
    static const std::vector<std::string_view> k_keys = {"include", "exclude", "outOfScope"};
    auto s = section(value, &k_keys);
    if (!s) {
      return;
    }
    if (const auto* v = s->find("include")) {
      if (auto filter = parse_filter(*v)) {
        m_policy.scope.include = std::move(*filter);
      }
    }
    if (const auto* v = s->find("exclude"); v != nullptr && !v->node.IsNull()) {
      if (v->node.IsMap()) {
        if (auto filter = parse_filter(*v)) {
          m_policy.scope.exclude.push_back(std::move(*filter));
        }
      } else if (auto items = list(*v, "a list of filters (or a single filter map)")) {
        for (const auto& entry : *items) {
          if (auto filter = parse_filter(entry)) {
            m_policy.scope.exclude.push_back(std::move(*filter));
          }
        }
      }
    }
    if (const auto* v = s->find("outOfScope")) {
      if (auto action = choice<OutOfScopeAction>(
              *v, {{"ignore", OutOfScopeAction::ignore}, {"suspend", OutOfScopeAction::suspend}})) {
        m_policy.scope.out_of_scope = *action;
      }
    }
  }

  // ---- mapping ------------------------------------------------------------------

  // Checks a JumpCloud target; reports the problem and returns false.
  bool check_target(const Value& value, const std::string& target) {
    auto bracket = [&](std::string_view prefix, std::string_view& inner) {
      if (target.size() > prefix.size() && target.compare(0, prefix.size(), prefix) == 0
          && target.back() == ']') {
        inner = std::string_view(target).substr(prefix.size(), target.size() - prefix.size() - 1);
        return true;
      }
      return false;
    };
    if (is_known_jumpcloud_field(target)) {
      return true;
    }
    std::string_view inner;
    if (target.rfind("attributes[", 0) == 0) {
      if (bracket("attributes[name=", inner)) {
        error(value,
              "bad attribute name " + quoted(inner)
                  + ": expected 1 to 31 letters and digits, as in attributes[name=costCode]");
      } else {
        error(value, "malformed target " + quoted(target) + "; expected attributes[name=NAME]");
      }
      return false;
    }
    if (target.rfind("phoneNumbers[", 0) == 0) {
      if (bracket("phoneNumbers[type=", inner)) {
        error(value,
              "bad phone number type " + quoted(inner)
                  + ": expected lowercase letters and '_', as in phoneNumbers[type=work_mobile]");
      } else {
        error(value, "malformed target " + quoted(target) + "; expected phoneNumbers[type=TYPE]");
      }
      return false;
    }
    const auto hint = did_you_mean(target, jumpcloud_scalar_fields());
    error(value,
          "unknown JumpCloud field " + quoted(target)
              + (hint.empty() ? "; expected one of " + join_names(jumpcloud_scalar_fields())
                                    + ", phoneNumbers[type=TYPE] or attributes[name=NAME]"
                              : hint));
    return false;
  }

  std::optional<Transform> parse_transform(const Value& value) {
    Transform step;
    step.where = value.where;
    auto unknown = [&](const std::string& name) {
      const auto hint = did_you_mean(name, k_transform_names);
      error(value,
            "unknown transform " + quoted(name)
                + (hint.empty() ? "; expected one of " + join_names(k_transform_names) : hint));
    };
    if (value.node.IsScalar()) {
      const std::string& name = value.node.Scalar();
      if (name == "trim") {
        step.kind = Transform::Kind::trim;
      } else if (name == "lower") {
        step.kind = Transform::Kind::lower;
      } else if (name == "upper") {
        step.kind = Transform::Kind::upper;
      } else if (name == "normalizeDiacritics") {
        step.kind = Transform::Kind::normalize_diacritics;
      } else if (name == "sanitizeUsername") {
        step.kind = Transform::Kind::sanitize_username;
      } else if (name == "concat") {
        step.kind = Transform::Kind::join;
      } else if (name == "join") {
        step.kind = Transform::Kind::join;
        step.arg = " ";
      } else if (name == "default" || name == "replace" || name == "lookup") {
        error(value,
              "transform '" + name + "' needs an argument, e.g. "
                  + (name == "default"   ? "- default: \"n/a\""
                     : name == "replace" ? "- replace: {pattern: \"\\\\s+\", with: \" \"}"
                                         : "- lookup: {table: {FT: Full-time}}"));
        return std::nullopt;
      } else {
        unknown(name);
        return std::nullopt;
      }
      return step;
    }
    if (!value.node.IsMap() || value.node.size() != 1) {
      expected(value, "a transform: a name such as trim, or a one-key map such as {join: \" \"}");
      return std::nullopt;
    }
    const auto it = value.node.begin();
    if (!it->first.IsScalar()) {
      expected(value, "a transform name");
      return std::nullopt;
    }
    const std::string name = it->first.Scalar();
    const Value arg = child(value, it->first, it->second);
    if (name == "default") {
      auto text = string(arg, "the default value (a string)");
      if (!text) {
        return std::nullopt;
      }
      step.kind = Transform::Kind::default_value;
      step.arg = *text;
    } else if (name == "join") {
      auto text = string(arg, "the separator (a string, e.g. \" \")");
      if (!text) {
        return std::nullopt;
      }
      step.kind = Transform::Kind::join;
      step.arg = *text;
    } else if (name == "replace") {
      static const std::vector<std::string_view> k_keys = {"pattern", "with"};
      auto s = section(arg, &k_keys, false);
      if (!s) {
        return std::nullopt;
      }
      step.kind = Transform::Kind::replace;
      const auto* pattern = s->find("pattern");
      if (pattern == nullptr) {
        error(arg, "missing required key 'pattern' (a regular expression, RE2 syntax)");
        return std::nullopt;
      }
      auto text = string(*pattern, "a regular expression (a string)");
      if (!text) {
        return std::nullopt;
      }
      step.pattern = *text;
      const auto* with = s->find("with");
      if (with != nullptr) {
        auto replacement = string(*with, "the replacement (a string)");
        if (!replacement) {
          return std::nullopt;
        }
        step.arg = *replacement;
      }
      if (auto problem = check_replace(step.pattern, step.arg)) {
        const bool in_pattern = problem->rfind("invalid regular expression", 0) == 0;
        error(in_pattern || with == nullptr ? *pattern : *with, *problem);
        return std::nullopt;
      }
    } else if (name == "lookup") {
      static const std::vector<std::string_view> k_keys = {"table", "default"};
      auto s = section(arg, &k_keys, false);
      if (!s) {
        return std::nullopt;
      }
      step.kind = Transform::Kind::lookup;
      const auto* table = s->find("table");
      if (table == nullptr) {
        error(arg, "missing required key 'table' (a map of Bob value -> JumpCloud value)");
        return std::nullopt;
      }
      auto rows = section(*table, nullptr, false);
      if (!rows) {
        return std::nullopt;
      }
      if (rows->entries.empty()) {
        expected(*table, "a non-empty map of Bob value -> JumpCloud value");
        return std::nullopt;
      }
      bool ok = true;
      for (const auto& row : rows->entries) {
        if (auto text = string(row.value, "a string")) {
          step.table[row.key] = *text;
        } else {
          ok = false;
        }
      }
      if (const auto* fallback = s->find("default")) {
        if (auto text = string(*fallback, "the fallback value (a string)")) {
          step.arg = *text;
          step.has_fallback = true;
        } else {
          ok = false;
        }
      }
      if (!ok) {
        return std::nullopt;
      }
    } else if (std::find(k_transform_names.begin(), k_transform_names.end(), name)
               != k_transform_names.end()) {
      error(value,
            "transform '" + name + "' takes no argument; write it as a bare name: - " + name);
      return std::nullopt;
    } else {
      unknown(name);
      return std::nullopt;
    }
    return step;
  }

  void parse_mapping(const Value& value) {
    auto items = list(value, "a list of mappings (- target: ... source: ...)");
    if (!items) {
      return;
    }
    for (const auto& entry : *items) {
      auto s = section(entry, &k_mapping_keys, false);
      if (!s) {
        continue;
      }
      Mapping m;
      m.where = entry.where;
      bool ok = true;
      const auto* target = s->find("target");
      if (target == nullptr) {
        error(entry, "missing required key 'target' (the JumpCloud field)");
        ok = false;
      } else if (auto text = non_empty_string(*target, "a JumpCloud field such as jobTitle")) {
        m.target = *text;
        ok = check_target(*target, m.target) && ok;
        m_targets.emplace_back(m.target, target->where);
      } else {
        ok = false;
      }

      std::vector<std::string_view> given;
      for (const char* key : {"source", "sources", "value"}) {
        if (const auto* v = s->find(key)) {
          if (!given.empty()) {
            error(*v,
                  "'" + std::string(given.front()) + "' and '" + key
                      + "' cannot be combined; give exactly one of source, sources, value");
            ok = false;
          }
          given.emplace_back(key);
        }
      }
      if (given.empty()) {
        error(entry, "needs one of 'source' (a Bob field), 'sources' (a list) or 'value'");
        ok = false;
      }
      if (const auto* v = s->find("source")) {
        if (auto field = bob_field(*v)) {
          m.sources.push_back(*field);
        } else {
          ok = false;
        }
      }
      const auto* sources = s->find("sources");
      if (sources != nullptr) {
        if (auto fields = list(*sources, "a list of Bob fields")) {
          if (fields->empty()) {
            expected(*sources, "a non-empty list of Bob fields");
            ok = false;
          }
          for (const auto& field_value : *fields) {
            if (auto field = bob_field(field_value)) {
              m.sources.push_back(*field);
            } else {
              ok = false;
            }
          }
        } else {
          ok = false;
        }
      }
      if (const auto* v = s->find("value")) {
        if (auto text = string(*v, "a constant value (a string)")) {
          m.constant = *text;
        } else {
          ok = false;
        }
      }
      if (const auto* v = s->find("transforms")) {
        if (auto steps = list(*v, "a list of transforms, e.g. [trim, lower]")) {
          for (const auto& step_value : *steps) {
            if (auto step = parse_transform(step_value)) {
              m.transforms.push_back(std::move(*step));
            } else {
              ok = false;
            }
          }
        } else {
          ok = false;
        }
      }
      m.mode = m.target == "username" ? FieldMode::create_only : FieldMode::always;
      if (const auto* v = s->find("mode")) {
        if (auto mode = choice<FieldMode>(*v,
                                          {{"always", FieldMode::always},
                                           {"createOnly", FieldMode::create_only},
                                           {"ifEmpty", FieldMode::if_empty}})) {
          m.mode = *mode;
        }
      }
      const bool joins = std::any_of(m.transforms.begin(), m.transforms.end(), [](const auto& t) {
        return t.kind == Transform::Kind::join;
      });
      if (sources != nullptr && m.sources.size() > 1 && !joins) {
        error(*sources,
              std::to_string(m.sources.size())
                  + " sources need a 'join' or 'concat' transform to become one value, e.g. "
                    "transforms: [{join: \" \"}]");
        ok = false;
      }
      if (ok) {
        m_policy.mapping.push_back(std::move(m));
      }
    }
  }

  // ---- other sections -------------------------------------------------------

  void parse_usernames(const Value& value) {
    static const std::vector<std::string_view> k_keys = {"maxLength", "suffixStart"};
    auto s = section(value, &k_keys);
    if (!s) {
      return;
    }
    if (const auto* v = s->find("maxLength")) {
      if (auto n = integer(*v, 3, 64)) {
        m_policy.usernames.max_length = static_cast<int>(*n);
      }
    }
    if (const auto* v = s->find("suffixStart")) {
      if (auto n = integer(*v, 1, 1000)) {
        m_policy.usernames.suffix_start = static_cast<int>(*n);
      }
    }
  }

  void parse_lifecycle(const Value& value) {
    auto s = section(value, &k_lifecycle_keys);
    if (!s) {
      return;
    }
    auto& lc = m_policy.lifecycle;
    if (const auto* v = s->find("statusBehavior")) {
      if (auto behavior =
              choice<StatusBehavior>(*v,
                                     {{"useBobStatus", StatusBehavior::use_bob_status},
                                      {"alwaysActivate", StatusBehavior::always_activate},
                                      {"alwaysSuspend", StatusBehavior::always_suspend}})) {
        lc.status_behavior = *behavior;
      }
    }
    if (const auto* v = s->find("timeZone")) {
      if (auto zone = time_zone(*v)) {
        lc.time_zone = *zone;
      }
    }
    if (const auto* v = s->find("siteTimeZones")) {
      if (auto sites = section(*v, nullptr)) {
        for (const auto& site : sites->entries) {
          if (auto zone = time_zone(site.value)) {
            lc.site_time_zones[site.key] = *zone;
          }
        }
      }
    }
    if (const auto* v = s->find("provisionDaysBefore")) {
      if (auto n = integer(*v, 0, 365)) {
        lc.provision_days_before = static_cast<int>(*n);
      }
    }
    if (const auto* v = s->find("earlyState")) {
      if (auto early = choice<UserState>(
              *v, {{"STAGED", UserState::staged}, {"SUSPENDED", UserState::suspended}})) {
        lc.early_state = *early;
      }
    }
    if (const auto* v = s->find("leaverDate")) {
      if (auto leaver = choice<LeaverDate>(*v,
                                           {{"earliest", LeaverDate::earliest},
                                            {"terminationDate", LeaverDate::termination_date},
                                            {"lastDayOfWork", LeaverDate::last_day_of_work}})) {
        lc.leaver_date = *leaver;
      }
    }
    if (const auto* v = s->find("suspendMissing")) {
      if (auto b = boolean(*v)) {
        lc.suspend_missing = *b;
      }
    }
    if (const auto* v = s->find("fields")) {
      if (auto fields = section(*v, &k_lifecycle_field_keys)) {
        const std::pair<std::string_view, std::string*> targets[] = {
            {"startDate", &lc.fields.start_date},
            {"terminationDate", &lc.fields.termination_date},
            {"lastDayOfWork", &lc.fields.last_day_of_work},
            {"status", &lc.fields.status},
            {"lifecycleStatus", &lc.fields.lifecycle_status},
            {"site", &lc.fields.site},
            {"email", &lc.fields.email},
            {"employmentType", &lc.fields.employment_type},
            {"department", &lc.fields.department},
            {"displayName", &lc.fields.display_name},
        };
        for (const auto& [key, field] : targets) {
          if (const auto* fv = fields->find(key)) {
            if (auto id = bob_field(*fv)) {
              *field = *id;
            }
          }
        }
      }
    }
  }

  void parse_matching(const Value& value) {
    static const std::vector<std::string_view> k_keys = {"rules", "adoptExisting", "linkAttribute"};
    auto s = section(value, &k_keys);
    if (!s) {
      return;
    }
    auto& matching = m_policy.matching;
    if (const auto* v = s->find("rules")) {
      if (auto items = list(*v, "a list of rules, e.g. [employeeIdentifier, email]")) {
        std::vector<MatchRule> rules;
        for (const auto& entry : *items) {
          auto rule = choice<MatchRule>(entry,
                                        {{"employeeIdentifier", MatchRule::employee_identifier},
                                         {"email", MatchRule::email}});
          if (!rule) {
            continue;
          }
          if (std::find(rules.begin(), rules.end(), *rule) != rules.end()) {
            error(entry, "rule " + quoted(entry.node.Scalar()) + " is listed twice");
            continue;
          }
          rules.push_back(*rule);
          if (*rule == MatchRule::employee_identifier) {
            m_employee_identifier_rule = entry.where;
          }
        }
        matching.rules = std::move(rules);
      }
    }
    if (const auto* v = s->find("adoptExisting")) {
      if (auto b = boolean(*v)) {
        matching.adopt_existing = *b;
      }
    }
    if (const auto* v = s->find("linkAttribute")) {
      const std::string what = "a JumpCloud attribute name (1 to 31 letters and digits) or \"\"";
      if (auto name = string(*v, what)) {
        if (name->empty() || is_alnum_name(*name, 31)) {
          matching.link_attribute = *name;
        } else {
          expected(*v, what);
        }
      }
    }
  }

  void parse_safety(const Value& value) {
    auto s = section(value, &k_safety_keys);
    if (!s) {
      return;
    }
    auto& safety = m_policy.safety;
    auto count = [&](std::string_view key, std::optional<int>& out) {
      if (const auto* v = s->find(key)) {
        if (v->node.IsNull()) {
          out.reset();
        } else if (auto n = integer(*v, 0, std::numeric_limits<int>::max())) {
          out = static_cast<int>(*n);
        }
      }
    };
    count("maxSuspensions", safety.max_suspensions);
    count("maxChanges", safety.max_changes);
    if (const auto* v = s->find("maxSuspensionsPercent")) {
      if (v->node.IsNull()) {
        safety.max_suspensions_percent.reset();
      } else if (auto n = number(*v, 0, 100)) {
        safety.max_suspensions_percent = *n;
      }
    }
    if (const auto* v = s->find("minSuspensionsForPercent")) {
      if (auto n = integer(*v, 1, std::numeric_limits<int>::max())) {
        safety.min_suspensions_for_percent = static_cast<int>(*n);
      }
    }
    if (const auto* v = s->find("blockOnEmptySource")) {
      if (auto b = boolean(*v)) {
        safety.block_on_empty_source = *b;
      }
    }
    if (const auto* v = s->find("blockOnMissingField")) {
      if (auto b = boolean(*v)) {
        safety.block_on_missing_field = *b;
      }
    }
  }

  void parse_schedule(const Value& value) {
    static const std::vector<std::string_view> k_keys = {
        "interval", "fullRefreshInterval", "webhookDebounce"};
    auto s = section(value, &k_keys);
    if (!s) {
      return;
    }
    auto& schedule = m_policy.schedule;
    const std::pair<std::string_view, std::chrono::seconds*> targets[] = {
        {"interval", &schedule.interval},
        {"fullRefreshInterval", &schedule.full_refresh_interval},
    };
    for (const auto& [key, out] : targets) {
      if (const auto* v = s->find(key)) {
        if (auto d = duration(*v)) {
          *out = *d;
        }
      }
    }
    if (const auto* v = s->find("webhookDebounce")) {
      if (auto d = duration_ms(*v, true)) {
        schedule.webhook_debounce = *d;
      }
    }
  }

  // Rules that span sections.
  void cross_check(const Value* mapping) {
    std::map<std::string, SourceLocation> first;
    for (const auto& [target, where] : m_targets) {
      if (auto [it, inserted] = first.emplace(target, where); !inserted) {
        error(where,
              "duplicate target " + quoted(target) + " (already mapped at line "
                  + std::to_string(it->second.line) + "); each JumpCloud field takes one mapping");
      }
      const auto& link = m_policy.matching.link_attribute;
      if (!link.empty() && target == state::attribute_field(link)) {
        error(where,
              "target " + quoted(target)
                  + " is written by bobsync itself (matching.linkAttribute holds the Bob id); "
                    "map to another attribute or change matching.linkAttribute");
      }
    }
    if (mapping != nullptr && mapping->node.IsSequence()) {
      for (const char* required : {"email", "username"}) {
        if (first.find(required) == first.end()) {
          error(*mapping,
                std::string("no mapping for '") + required
                    + "': JumpCloud requires email and username on every user");
        }
      }
    }
    const bool maps_employee_identifier =
        std::any_of(m_policy.mapping.begin(), m_policy.mapping.end(), [](const Mapping& m) {
          return m.target == "employeeIdentifier";
        });
    if (m_employee_identifier_rule && m_policy.matching.adopt_existing
        && !maps_employee_identifier) {
      warning(*m_employee_identifier_rule,
              "matching.rules: rule 'employeeIdentifier' has no effect: no mapping targets "
              "employeeIdentifier");
    }
  }

  std::string m_source_name;
  Policy m_policy;
  Diagnostics m_diagnostics;
  std::vector<std::pair<std::string, SourceLocation>> m_targets; // every target read, in order
  std::optional<SourceLocation> m_employee_identifier_rule;
};

} // namespace

ParseResult parse_policy(std::string_view yaml_text, const std::string& source_name) {
  return Parser(source_name).run(yaml_text);
}

} // namespace bobsync::policies
