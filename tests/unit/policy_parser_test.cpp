#include "policies/policy_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace bobsync::policies {
namespace {

using state::FieldMode;
using state::MatchRule;
using state::StatusBehavior;
using state::UserState;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string example_path() {
  return std::string(BOBSYNC_SOURCE_DIR) + "/examples/desired-state.yaml";
}

std::string testdata(const std::string& name) {
  return std::string(BOBSYNC_TESTDATA_DIR) + "/policies/" + name;
}

std::string dump(const Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    out += format(d) + "\n";
  }
  return out;
}

Diagnostics errors_of(const Diagnostics& diagnostics) {
  Diagnostics out;
  std::copy_if(diagnostics.begin(),
               diagnostics.end(),
               std::back_inserter(out),
               [](const Diagnostic& d) { return d.severity == Severity::error; });
  return out;
}

std::vector<Transform::Kind> kinds(const Mapping& m) {
  std::vector<Transform::Kind> out;
  for (const auto& t : m.transforms) {
    out.push_back(t.kind);
  }
  return out;
}

const Mapping* find_mapping(const Policy& policy, std::string_view target) {
  for (const auto& m : policy.mapping) {
    if (m.target == target) {
      return &m;
    }
  }
  return nullptr;
}

// The two rows JumpCloud requires, for cases about other mapping rows.
constexpr const char* k_required_rows = "  - target: email\n"
                                        "    source: root.email\n"
                                        "  - target: username\n"
                                        "    source: root.displayName\n";

TEST(PolicyParser, ExampleParsesWithoutDiagnostics) {
  const auto result = parse_policy(read_text(example_path()), example_path());

  EXPECT_TRUE(result.diagnostics.empty()) << dump(result.diagnostics);
  ASSERT_TRUE(result.policy);
  const auto& p = *result.policy;
  EXPECT_EQ(p.source_name, example_path());
  EXPECT_EQ(p.bob_url, "https://api.hibob.com/v1");
  EXPECT_EQ(p.jumpcloud_url, "https://console.jumpcloud.com/api");
  EXPECT_EQ(p.scope.include.email_domains, std::vector<std::string>{"example.com"});
  EXPECT_EQ(p.lifecycle.time_zone, "Europe/London");
  ASSERT_EQ(p.mapping.size(), 13U);
  const auto* username = find_mapping(p, "username");
  ASSERT_NE(username, nullptr);
  EXPECT_EQ(username->sources, std::vector<std::string>{"root.displayName"});
  EXPECT_EQ(username->mode, FieldMode::create_only);
  EXPECT_EQ(kinds(*username), std::vector{Transform::Kind::sanitize_username});
}

// The example's mapping is Bob's default, which is also what a policy without
// `mapping` gets.
TEST(PolicyParser, ExampleMappingIsBobsDefaultMapping) {
  const auto example = parse_policy(read_text(example_path()), "example.yaml");
  const auto minimal = parse_policy(read_text(testdata("minimal.yaml")), "minimal.yaml");
  ASSERT_TRUE(example.policy) << dump(example.diagnostics);
  ASSERT_TRUE(minimal.policy) << dump(minimal.diagnostics);

  const std::vector<std::pair<std::string, std::string>> bob_default = {
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
  for (const auto* policy : {&*example.policy, &*minimal.policy}) {
    ASSERT_EQ(policy->mapping.size(), bob_default.size());
    for (std::size_t i = 0; i < bob_default.size(); ++i) {
      const auto& m = policy->mapping[i];
      EXPECT_EQ(m.target, bob_default[i].first);
      EXPECT_EQ(m.sources, std::vector<std::string>{bob_default[i].second}) << m.target;
      EXPECT_FALSE(m.constant) << m.target;
      EXPECT_EQ(m.mode, m.target == "username" ? FieldMode::create_only : FieldMode::always);
      EXPECT_EQ(kinds(m), kinds(example.policy->mapping[i])) << m.target;
    }
  }
}

TEST(PolicyParser, MinimalPolicyTakesTheDefaults) {
  const auto result = parse_policy(read_text(testdata("minimal.yaml")), "minimal.yaml");

  ASSERT_TRUE(result.policy) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.empty()) << dump(result.diagnostics);
  const auto& p = *result.policy;
  const Policy defaults;
  EXPECT_EQ(p.bob_url, defaults.bob_url);
  EXPECT_EQ(p.jumpcloud_url, defaults.jumpcloud_url);
  EXPECT_FALSE(p.jumpcloud_org_id);
  EXPECT_EQ(p.write_concurrency, 4);
  EXPECT_TRUE(p.scope.include.empty());
  EXPECT_TRUE(p.scope.exclude.empty());
  EXPECT_EQ(p.scope.out_of_scope, OutOfScopeAction::ignore);
  EXPECT_EQ(p.lifecycle.time_zone, "UTC");
  EXPECT_EQ(p.lifecycle.fields.start_date, "work.startDate");
  EXPECT_EQ(p.matching.rules, defaults.matching.rules);
  EXPECT_EQ(p.matching.link_attribute, "bobEmployeeId");
  EXPECT_EQ(p.safety.max_suspensions, 10);
  EXPECT_EQ(p.safety.max_suspensions_percent, 5.0);
  EXPECT_FALSE(p.safety.max_changes);
  EXPECT_EQ(p.schedule.interval, std::chrono::minutes(5));
}

TEST(PolicyParser, ReadsEveryKey) {
  const auto result = parse_policy(read_text(testdata("full.yaml")), "full.yaml");

  ASSERT_TRUE(result.policy) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.empty()) << dump(result.diagnostics);
  const auto& p = *result.policy;
  EXPECT_EQ(p.bob_url, "https://api.sandbox.hibob.com/v1");
  EXPECT_EQ(p.jumpcloud_url, "http://127.0.0.1:8080/api");
  EXPECT_EQ(p.jumpcloud_org_id, "5f0c1a2b3c4d5e6f7a8b9c0d");
  EXPECT_EQ(p.write_concurrency, 8);

  const auto& include = p.scope.include;
  EXPECT_EQ(include.email_domains, (std::vector<std::string>{"example.com", "example.org"}));
  EXPECT_EQ(include.sites, (std::vector<std::string>{"London", "New York"}));
  EXPECT_EQ(include.departments, std::vector<std::string>{"R&D"});
  EXPECT_EQ(include.employment_types, std::vector<std::string>{"Full-time"});
  EXPECT_EQ(include.employee_ids, std::vector<std::string>{"3332883804594373380"});
  EXPECT_EQ(include.fields.at("work.custom.field_1644932887286"),
            (std::vector<std::string>{"yes", "y"}));
  ASSERT_EQ(p.scope.exclude.size(), 2U);
  EXPECT_EQ(p.scope.exclude[0].departments, std::vector<std::string>{"Board"});
  EXPECT_EQ(p.scope.exclude[1].employee_ids, std::vector<std::string>{"3332883854254932743"});
  EXPECT_EQ(p.scope.out_of_scope, OutOfScopeAction::suspend);

  ASSERT_EQ(p.mapping.size(), 7U);
  EXPECT_EQ(kinds(p.mapping[0]), (std::vector{Transform::Kind::trim, Transform::Kind::lower}));
  EXPECT_EQ(p.mapping[1].mode, FieldMode::always); // username, explicitly
  const auto& display = p.mapping[2];
  EXPECT_EQ(display.sources, (std::vector<std::string>{"root.firstName", "root.surname"}));
  ASSERT_EQ(display.transforms.size(), 3U);
  EXPECT_EQ(display.transforms[0].kind, Transform::Kind::normalize_diacritics);
  EXPECT_EQ(display.transforms[1].kind, Transform::Kind::join);
  EXPECT_EQ(display.transforms[1].arg, " ");
  EXPECT_EQ(display.transforms[2].kind, Transform::Kind::upper);
  EXPECT_EQ(display.transforms[1].where.line, 35);
  EXPECT_EQ(display.transforms[1].where.column, 39);

  const auto& cost = p.mapping[3];
  EXPECT_EQ(cost.target, "costCenter");
  EXPECT_EQ(cost.mode, FieldMode::if_empty);
  ASSERT_EQ(cost.transforms.size(), 3U);
  EXPECT_EQ(cost.transforms[0].kind, Transform::Kind::default_value);
  EXPECT_EQ(cost.transforms[0].arg, "000");
  EXPECT_EQ(cost.transforms[1].kind, Transform::Kind::replace);
  EXPECT_EQ(cost.transforms[1].pattern, "^0+");
  EXPECT_EQ(cost.transforms[1].arg, "");
  EXPECT_EQ(cost.transforms[2].kind, Transform::Kind::lookup);
  EXPECT_EQ(cost.transforms[2].table,
            (std::map<std::string, std::string>{{"1", "Engineering"}, {"2", "Sales"}}));
  EXPECT_TRUE(cost.transforms[2].has_fallback);
  EXPECT_EQ(cost.transforms[2].arg, "Other");

  EXPECT_EQ(p.mapping[4].constant, "Example Ltd");
  EXPECT_TRUE(p.mapping[4].sources.empty());
  EXPECT_EQ(p.mapping[4].mode, FieldMode::create_only);
  ASSERT_EQ(p.mapping[5].transforms.size(), 2U);
  EXPECT_EQ(p.mapping[5].transforms[0].kind, Transform::Kind::join); // concat
  EXPECT_EQ(p.mapping[5].transforms[0].arg, "");
  EXPECT_FALSE(p.mapping[5].transforms[1].has_fallback);
  EXPECT_EQ(p.mapping[6].target, "phoneNumbers[type=home_mobile]");
  EXPECT_TRUE(p.mapping[6].transforms.empty());

  EXPECT_EQ(p.usernames.max_length, 20);
  EXPECT_EQ(p.usernames.suffix_start, 1);

  const auto& lc = p.lifecycle;
  EXPECT_EQ(lc.status_behavior, StatusBehavior::always_activate);
  EXPECT_EQ(lc.time_zone, "America/New_York");
  EXPECT_EQ(lc.site_time_zones,
            (std::map<std::string, std::string, std::less<>>{{"London", "Europe/London"},
                                                             {"Tel Aviv", "Asia/Jerusalem"}}));
  EXPECT_EQ(lc.provision_days_before, 7);
  EXPECT_EQ(lc.early_state, UserState::suspended);
  EXPECT_EQ(lc.leaver_date, LeaverDate::last_day_of_work);
  EXPECT_FALSE(lc.suspend_missing);
  EXPECT_EQ(lc.fields.start_date, "employee.firstDayOfWork");
  EXPECT_EQ(lc.fields.termination_date, "work.custom.field_end");
  EXPECT_EQ(lc.fields.last_day_of_work, "employee.lastDayOfWork");
  EXPECT_EQ(lc.fields.status, "internal.lifecycleStatus");
  EXPECT_EQ(lc.fields.site, "work.siteId");
  EXPECT_EQ(lc.fields.email, "home.privateEmail");
  EXPECT_EQ(lc.fields.employment_type, "payroll.employment.contract");
  EXPECT_EQ(lc.fields.department, "work.custom.field_dept");
  EXPECT_EQ(lc.fields.display_name, "root.fullName");

  EXPECT_EQ(p.matching.rules, std::vector{MatchRule::email});
  EXPECT_FALSE(p.matching.adopt_existing);
  EXPECT_EQ(p.matching.link_attribute, "");

  EXPECT_FALSE(p.safety.max_suspensions);
  EXPECT_EQ(p.safety.max_suspensions_percent, 12.5);
  EXPECT_EQ(p.safety.max_changes, 500);
  EXPECT_FALSE(p.safety.block_on_empty_source);
  EXPECT_FALSE(p.safety.block_on_missing_field);

  EXPECT_EQ(p.schedule.interval, std::chrono::minutes(90));
  EXPECT_EQ(p.schedule.full_refresh_interval, std::chrono::hours(24));
  EXPECT_EQ(p.schedule.webhook_debounce, std::chrono::seconds(45));
}

// One mistake per case: exactly one error, at this line and column, saying this.
struct ErrorCase {
  const char* name;
  std::string yaml;
  int line;
  int column;
  const char* phrase;
};

std::ostream& operator<<(std::ostream& out, const ErrorCase& c) {
  return out << c.name;
}

class PolicyParserError : public testing::TestWithParam<ErrorCase> {};

TEST_P(PolicyParserError, ReportsOneErrorWithPositionAndExpectation) {
  const auto& c = GetParam();

  const auto result = parse_policy(c.yaml, "policy.yaml");

  EXPECT_FALSE(result.policy);
  const auto errors = errors_of(result.diagnostics);
  ASSERT_EQ(errors.size(), 1U) << dump(result.diagnostics);
  const auto& error = errors.front();
  EXPECT_EQ(error.where.file, "policy.yaml");
  EXPECT_EQ(error.where.line, c.line) << format(error);
  EXPECT_EQ(error.where.column, c.column) << format(error);
  EXPECT_NE(error.message.find(c.phrase), std::string::npos)
      << "'" << c.phrase << "' not in: " << format(error);
}

const ErrorCase k_error_cases[] = {
    {"yaml_syntax",
     "version: 1\n"
     "scope:\n"
     "  include: {emailDomains: [example.com]\n",
     4,
     1,
     "YAML syntax error: end of map flow not found"},
    {"yaml_bad_indentation",
     "version: 1\n"
     "lifecycle:\n"
     "  timeZone: UTC\n"
     "    earlyState: STAGED\n",
     4,
     15,
     "YAML syntax error: illegal map value"},
    {"empty_document", "# nothing\n", 1, 1, "the policy is empty"},
    {"two_documents", "version: 1\n---\nversion: 1\n", 3, 1, "expected one YAML document"},
    {"not_a_map", "- version: 1\n", 1, 1, "expected a map, got a list"},
    {"missing_version", "scope: {}\n", 1, 1, "missing required key 'version'"},
    {"unsupported_version", "version: 2\n", 1, 10, "unsupported policy version '2'; expected 1"},
    {"unknown_top_level_key",
     "version: 1\n"
     "mapings: []\n",
     2,
     1,
     "unknown key 'mapings' in 'policy' (did you mean 'mapping'?)"},
    {"unknown_top_level_key_without_suggestion",
     "version: 1\n"
     "credentials: {}\n",
     2,
     1,
     "unknown key 'credentials' in 'policy'; expected one of version, source, target"},
    {"unknown_nested_key",
     "version: 1\n"
     "lifecycle:\n"
     "  timezone: UTC\n",
     3,
     3,
     "unknown key 'timezone' in 'lifecycle' (did you mean 'timeZone'?)"},
    {"unknown_key_deep",
     "version: 1\n"
     "scope:\n"
     "  exclude:\n"
     "    - sites: [Paris]\n"
     "      department: [Sales]\n",
     5,
     7,
     "unknown key 'department' in 'scope.exclude[0]' (did you mean 'departments'?)"},
    {"duplicate_key",
     "version: 1\n"
     "safety:\n"
     "  maxChanges: 5\n"
     "  maxChanges: 6\n",
     4,
     3,
     "duplicate key 'maxChanges' in 'safety' (first at line 3)"},
    {"map_where_list_expected",
     "version: 1\n"
     "matching:\n"
     "  rules: {email: true}\n",
     3,
     10,
     "matching.rules: expected a list of rules, e.g. [employeeIdentifier, email], got a map"},
    {"list_where_map_expected",
     "version: 1\n"
     "lifecycle: [timeZone]\n",
     2,
     12,
     "lifecycle: expected a map, got a list"},
    {"non_integer",
     "version: 1\n"
     "usernames:\n"
     "  maxLength: thirty\n",
     3,
     14,
     "usernames.maxLength: expected an integer from 3 to 64, got 'thirty'"},
    {"quoted_integer",
     "version: 1\n"
     "target:\n"
     "  jumpcloud:\n"
     "    writeConcurrency: \"4\"\n",
     4,
     23,
     "expected an integer from 1 to 32, got the string '4'"},
    {"integer_out_of_range",
     "version: 1\n"
     "usernames: {maxLength: 65}\n",
     2,
     24,
     "expected an integer from 3 to 64, got '65'"},
    {"not_a_boolean",
     "version: 1\n"
     "lifecycle:\n"
     "  suspendMissing: yes\n",
     3,
     19,
     "lifecycle.suspendMissing: expected true or false, got 'yes'"},
    {"empty_value",
     "version: 1\n"
     "lifecycle:\n"
     "  timeZone:\n"
     "  provisionDaysBefore: 1\n",
     3,
     3,
     "lifecycle.timeZone: expected an IANA time zone such as Europe/London, got nothing"},
    {"bad_enum",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: jobTitle\n"
           "    source: work.title\n"
           "    mode: sometimes\n",
     9,
     11,
     "mapping[2].mode: expected one of always, createOnly, ifEmpty, got 'sometimes'"},
    {"bad_enum_with_suggestion",
     "version: 1\n"
     "lifecycle:\n"
     "  statusBehavior: alwaysactivate\n",
     3,
     19,
     "expected one of useBobStatus, alwaysActivate, alwaysSuspend, got 'alwaysactivate' (did "
     "you mean 'alwaysActivate'?)"},
    {"bad_early_state",
     "version: 1\n"
     "lifecycle: {earlyState: ACTIVATED}\n",
     2,
     25,
     "expected one of STAGED, SUSPENDED"},
    {"unknown_bob_field",
     "version: 1\n"
     "mapping:\n"
     "  - target: email\n"
     "    source: root.emial\n"
     "  - target: username\n"
     "    source: root.displayName\n",
     4,
     13,
     "mapping[0].source: unknown Bob field 'root.emial' (did you mean 'root.email'?)"},
    {"unknown_bob_field_in_sources",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: displayname\n"
           "    sources: [root.firstName, root.lastName]\n"
           "    transforms: [{join: \" \"}]\n",
     8,
     31,
     "mapping[2].sources[1]: unknown Bob field 'root.lastName'"},
    {"bad_custom_field",
     "version: 1\n"
     "lifecycle:\n"
     "  fields:\n"
     "    terminationDate: work.custom.field-1\n",
     4,
     22,
     "unknown Bob field 'work.custom.field-1'"},
    {"unknown_bob_field_in_scope",
     "version: 1\n"
     "scope:\n"
     "  include:\n"
     "    fields:\n"
     "      work.tilte: [CEO]\n",
     5,
     7,
     "unknown Bob field 'work.tilte' (did you mean 'work.title'?)"},
    {"unknown_jumpcloud_field",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: jobtitle\n"
           "    source: work.title\n",
     7,
     13,
     "mapping[2].target: unknown JumpCloud field 'jobtitle' (did you mean 'jobTitle'?)"},
    {"bad_attribute_name",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: attributes[name=cost-code]\n"
           "    source: work.department\n",
     7,
     13,
     "bad attribute name 'cost-code': expected 1 to 31 letters and digits"},
    {"attribute_name_too_long",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: attributes[name=abcdefghijabcdefghijabcdefghij123]\n"
           "    source: work.department\n",
     7,
     13,
     "bad attribute name"},
    {"bad_phone_type",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: phoneNumbers[type=Work]\n"
           "    source: work.workPhone\n",
     7,
     13,
     "bad phone number type 'Work'"},
    {"link_attribute_as_target",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: attributes[name=bobEmployeeId]\n"
           "    source: root.id\n",
     7,
     13,
     "is written by bobsync itself"},
    {"unknown_transform",
     "version: 1\n"
     "mapping:\n"
     "  - target: email\n"
     "    source: root.email\n"
     "    transforms: [trim, lowr]\n"
     "  - target: username\n"
     "    source: root.displayName\n",
     5,
     24,
     "mapping[0].transforms[1]: unknown transform 'lowr' (did you mean 'lower'?)"},
    {"transform_without_argument",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms: [default]\n",
     9,
     18,
     "transform 'default' needs an argument"},
    {"transform_with_extra_argument",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - trim: both\n",
     10,
     9,
     "transform 'trim' takes no argument"},
    {"bad_regex",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - replace: {pattern: \"(R&D\", with: Engineering}\n",
     10,
     28,
     "invalid regular expression '(R&D'"},
    {"regex_backreference",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - replace: {pattern: \"(a)\\\\1\", with: x}\n",
     10,
     28,
     "invalid regular expression '(a)\\1': invalid escape sequence"},
    {"regex_lookahead",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - replace: {pattern: \"a(?=b)\", with: x}\n",
     10,
     28,
     "invalid regular expression 'a(?=b)'"},
    {"replace_with_missing_group",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - replace: {pattern: \"(R)&D\", with: \"$2\"}\n",
     10,
     43,
     "'with' uses $2 but the pattern '(R)&D' has only 1 capture group"},
    {"tab_indentation",
     "version: 1\n"
     "lifecycle:\n"
     "  timeZone: UTC\n"
     "\tearlyState: STAGED\n",
     4,
     1,
     "YAML syntax error: a tab in the indentation; YAML indents with spaces only"},
    {"alias_bomb",
     "version: 1\n"
     "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
     "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
     "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
     1,
     1,
     "more than 100000 YAML values (with aliases expanded)"},
    {"deep_nesting",
     "version: 1\nscope: " + std::string(100, '[') + std::string(100, ']') + "\n",
     1,
     1,
     "nested more than 64 levels deep"},
    {"replace_without_pattern",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - replace: {with: x}\n",
     10,
     18,
     "missing required key 'pattern'"},
    {"lookup_table_not_a_map",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: department\n"
           "    source: work.department\n"
           "    transforms:\n"
           "      - lookup: {table: [a, b]}\n",
     10,
     25,
     "transforms[0].lookup.table: expected a map, got a list"},
    {"source_and_value",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: company\n"
           "    source: work.department\n"
           "    value: Example Ltd\n",
     9,
     12,
     "'source' and 'value' cannot be combined"},
    {"no_source",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: company\n"
           "    mode: always\n",
     7,
     5,
     "mapping[2]: needs one of 'source'"},
    {"missing_target",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows + "  - source: work.department\n",
     7,
     5,
     "missing required key 'target'"},
    {"bad_time_zone",
     "version: 1\n"
     "lifecycle:\n"
     "  timeZone: Mars/Olympus_Mons\n",
     3,
     13,
     "lifecycle.timeZone: unknown time zone 'Mars/Olympus_Mons'"},
    {"bad_site_time_zone",
     "version: 1\n"
     "lifecycle:\n"
     "  siteTimeZones:\n"
     "    New York: America/NewYork\n",
     4,
     15,
     "lifecycle.siteTimeZones.New York: unknown time zone 'America/NewYork'"},
    {"negative_provision_days_before",
     "version: 1\n"
     "lifecycle:\n"
     "  provisionDaysBefore: -1\n",
     3,
     24,
     "lifecycle.provisionDaysBefore: expected an integer from 0 to 365, got '-1'"},
    {"bad_duration",
     "version: 1\n"
     "schedule:\n"
     "  interval: 5 minutes\n",
     3,
     13,
     "schedule.interval: expected a duration such as 30s, 5m, 1h, 1d or 1h30m, got '5 minutes'"},
    {"duration_without_unit",
     "version: 1\n"
     "schedule: {webhookDebounce: 10}\n",
     2,
     29,
     "expected a duration such as 30s"},
    {"zero_duration",
     "version: 1\n"
     "schedule: {interval: 0s}\n",
     2,
     22,
     "expected a duration greater than zero"},
    {"duplicate_target",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: email\n"
           "    source: home.privateEmail\n",
     7,
     13,
     "duplicate target 'email' (already mapped at line 3)"},
    {"missing_email_mapping",
     "version: 1\n"
     "mapping:\n"
     "  - target: username\n"
     "    source: root.displayName\n",
     3,
     3,
     "no mapping for 'email': JumpCloud requires email and username"},
    {"missing_username_mapping",
     "version: 1\n"
     "mapping: [{target: email, source: root.email}]\n",
     2,
     10,
     "no mapping for 'username'"},
    {"several_sources_without_join",
     std::string("version: 1\n"
                 "mapping:\n")
         + k_required_rows
         + "  - target: displayname\n"
           "    sources: [root.firstName, root.surname]\n"
           "    transforms: [trim]\n",
     8,
     14,
     "2 sources need a 'join' or 'concat' transform"},
    {"http_url_not_loopback",
     "version: 1\n"
     "source:\n"
     "  bob:\n"
     "    url: http://api.hibob.com/v1\n",
     4,
     10,
     "plain http:// is only allowed for loopback hosts"},
    {"http_url_loopback_lookalike",
     "version: 1\n"
     "target: {jumpcloud: {url: \"http://127.0.0.1.example.com/api\"}}\n",
     2,
     27,
     "plain http:// is only allowed for loopback hosts"},
    {"url_with_credentials",
     "version: 1\n"
     "target:\n"
     "  jumpcloud: {url: \"https://key:secret@console.jumpcloud.com/api\"}\n",
     3,
     20,
     "must not contain credentials"},
    {"not_a_url",
     "version: 1\n"
     "target: {jumpcloud: {url: console.jumpcloud.com}}\n",
     2,
     27,
     "expected an https:// URL"},
    {"bad_org_id",
     "version: 1\n"
     "target: {jumpcloud: {orgId: \"5f 0c\"}}\n",
     2,
     29,
     "expected a JumpCloud organization id"},
    {"duplicate_match_rule",
     "version: 1\n"
     "matching:\n"
     "  rules: [email, employeeIdentifier, email]\n",
     3,
     38,
     "matching.rules[2]: rule 'email' is listed twice"},
    {"bad_link_attribute",
     "version: 1\n"
     "matching: {linkAttribute: bob_id}\n",
     2,
     27,
     "expected a JumpCloud attribute name"},
    {"percent_out_of_range",
     "version: 1\n"
     "safety: {maxSuspensionsPercent: 150}\n",
     2,
     33,
     "safety.maxSuspensionsPercent: expected a number from 0 to 100, got '150'"},
    {"negative_max_suspensions",
     "version: 1\n"
     "safety:\n"
     "  maxSuspensions: -5\n",
     3,
     19,
     "expected an integer >= 0, got '-5'"},
    {"domain_with_at",
     "version: 1\n"
     "scope:\n"
     "  include:\n"
     "    emailDomains: [\"@example.com\"]\n",
     4,
     20,
     "expected a domain such as example.com (without '@')"},
    {"exclude_not_a_list",
     "version: 1\n"
     "scope: {exclude: example.com}\n",
     2,
     18,
     "scope.exclude: expected a list of filters (or a single filter map)"},
};

INSTANTIATE_TEST_SUITE_P(PolicyErrors,
                         PolicyParserError,
                         testing::ValuesIn(k_error_cases),
                         [](const testing::TestParamInfo<ErrorCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

TEST(PolicyParser, ReportsEveryErrorOfAFileAtOnceInOrder) {
  const auto result =
      parse_policy(read_text(testdata("several-errors.yaml")), "several-errors.yaml");

  EXPECT_FALSE(result.policy);
  const std::vector<std::pair<int, std::string>> expected = {
      {5, "expected an integer from 1 to 32, got '64'"},
      {8, "unknown Bob field 'root.emial' (did you mean 'root.email'?)"},
      {11, "unknown transform 'sanitiseUsername' (did you mean 'sanitizeUsername'?)"},
      {13, "unknown time zone 'Europe/Londn'"},
      {14, "expected one of STAGED, SUSPENDED, got 'staged' (did you mean 'STAGED'?)"},
      {16, "unknown key 'maxSuspension' in 'safety' (did you mean 'maxSuspensions'?)"},
  };
  ASSERT_EQ(result.diagnostics.size(), expected.size()) << dump(result.diagnostics);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& d = result.diagnostics[i];
    EXPECT_EQ(d.severity, Severity::error);
    EXPECT_EQ(d.where.file, "several-errors.yaml");
    EXPECT_EQ(d.where.line, expected[i].first) << format(d);
    EXPECT_NE(d.message.find(expected[i].second), std::string::npos) << format(d);
  }
}

TEST(PolicyParser, DiagnosticsFormatAsFileLineColumn) {
  const auto result = parse_policy("version: 1\nmapings: []\n", "conf/policy.yaml");

  ASSERT_EQ(result.diagnostics.size(), 1U);
  EXPECT_EQ(format(result.diagnostics.front()),
            "conf/policy.yaml:2:1: error: unknown key 'mapings' in 'policy' (did you mean "
            "'mapping'?)");
}

TEST(PolicyParser, DoesNotEchoValuesThatMayBeSecrets) {
  const auto result =
      parse_policy("version: 1\n"
                   "source: {bob: {url: \"https://svc:s3cr3t-token@api.hibob.com/v1\"}}\n"
                   "target: {jumpcloud: {orgId: \"jc_key_s3cr3t\"}}\n",
                   "policy.yaml");

  ASSERT_EQ(result.diagnostics.size(), 2U) << dump(result.diagnostics);
  for (const auto& d : result.diagnostics) {
    EXPECT_EQ(d.message.find("s3cr3t"), std::string::npos) << format(d);
  }
}

TEST(PolicyParser, WarningsDoNotRejectThePolicy) {
  const auto result = parse_policy("version: 1\n"
                                   "mapping:\n"
                                   "  - {target: email, source: root.email}\n"
                                   "  - {target: username, source: root.displayName}\n"
                                   "matching:\n"
                                   "  rules: [employeeIdentifier, email]\n",
                                   "policy.yaml");

  ASSERT_TRUE(result.policy) << dump(result.diagnostics);
  ASSERT_EQ(result.diagnostics.size(), 1U);
  EXPECT_EQ(result.diagnostics[0].severity, Severity::warning);
  EXPECT_EQ(result.diagnostics[0].where.line, 6);
  EXPECT_EQ(result.diagnostics[0].where.column, 11);
  EXPECT_NE(result.diagnostics[0].message.find("no mapping targets employeeIdentifier"),
            std::string::npos);
}

TEST(PolicyParser, AcceptsShorthands) {
  const auto result = parse_policy("version: 1\n"
                                   "scope:\n"
                                   "  exclude: {sites: [Remote]}\n" // one filter, not a list
                                   "usernames:\n"                   // empty section: defaults
                                   "safety:\n"
                                   "  maxSuspensionsPercent: ~\n"
                                   "  maxChanges: 0\n"
                                   "mapping:\n"
                                   "  - target: email\n"
                                   "    source: root.email\n"
                                   "  - target: username\n"
                                   "    source: root.displayName\n"
                                   "    transforms: [join, sanitizeUsername]\n"
                                   "  - target: phoneNumbers[type=work]\n"
                                   "    source: work.workPhone\n"
                                   "    mode: createOnly\n",
                                   "policy.yaml");

  ASSERT_TRUE(result.policy) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.empty()) << dump(result.diagnostics);
  const auto& p = *result.policy;
  ASSERT_EQ(p.scope.exclude.size(), 1U);
  EXPECT_EQ(p.scope.exclude[0].sites, std::vector<std::string>{"Remote"});
  EXPECT_EQ(p.usernames.max_length, 30);
  EXPECT_FALSE(p.safety.max_suspensions_percent);
  EXPECT_EQ(p.safety.max_changes, 0);
  ASSERT_EQ(p.mapping.size(), 3U);
  EXPECT_EQ(p.mapping[1].mode, FieldMode::create_only); // username's default
  EXPECT_EQ(p.mapping[1].transforms[0].arg, " ");       // bare join: one space
  EXPECT_EQ(p.mapping[2].mode, FieldMode::create_only);
  EXPECT_EQ(p.mapping[0].where.line, 9);
  EXPECT_EQ(p.mapping[0].where.column, 5);
}

TEST(PolicyParser, NeverThrowsOnOddInput) {
  for (const char* text : {"",
                           "~",
                           "1",
                           "[",
                           "version: 1\nmapping:\n",
                           "version: 1\n? [a]\n: b\n",
                           "version: 1\nmapping: [1, [2], {target: {}}]\n",
                           "\t"}) {
    const auto result = parse_policy(text, "odd.yaml");
    EXPECT_FALSE(result.policy) << text;
    EXPECT_TRUE(has_errors(result.diagnostics)) << text;
    for (const auto& d : result.diagnostics) {
      EXPECT_GE(d.where.line, 1) << text;
      EXPECT_GE(d.where.column, 1) << text;
    }
  }
}

TEST(PolicyBobFields, AreTheUnionOfMappingScopeAndLifecycleWithoutRootId) {
  Policy policy;
  Mapping name;
  name.target = "displayname";
  name.sources = {"root.surname", "root.firstName"};
  Mapping id;
  id.target = "attributes[name=bobId]";
  id.sources = {"root.id"};
  Mapping email;
  email.target = "email";
  email.sources = {"root.email"};
  policy.mapping = {name, id, email};
  policy.scope.include.fields["work.custom.field_1"] = {"x"};
  policy.scope.exclude.push_back({});
  policy.scope.exclude[0].fields["about.hobbies"] = {"golf"};
  policy.lifecycle.fields.status = "internal.lifecycleStatus";

  EXPECT_EQ(policy.mapped_bob_fields(),
            (std::vector<std::string>{"root.email", "root.firstName", "root.surname"}));
  EXPECT_EQ(policy.bob_fields(),
            (std::vector<std::string>{"about.hobbies",
                                      "employee.lastDayOfWork",
                                      "internal.lifecycleStatus",
                                      "internal.terminationDate",
                                      "payroll.employment.type",
                                      "root.displayName",
                                      "root.email",
                                      "root.firstName",
                                      "root.surname",
                                      "work.custom.field_1",
                                      "work.department",
                                      "work.site",
                                      "work.startDate"}));
}

TEST(PolicyBobFields, OfTheExampleCoverBobsDefaultMapping) {
  const auto result = parse_policy(read_text(example_path()), "example.yaml");
  ASSERT_TRUE(result.policy);

  const auto fields = result.policy->bob_fields();

  EXPECT_TRUE(std::is_sorted(fields.begin(), fields.end()));
  for (const char* f : {"root.email",
                        "root.displayName",
                        "root.firstName",
                        "root.surname",
                        "root.secondName",
                        "work.workPhone",
                        "work.workMobile",
                        "work.title",
                        "work.department",
                        "work.employeeIdInCompany",
                        "work.site",
                        "payroll.employment.type",
                        "work.startDate",
                        "internal.status",
                        "internal.terminationDate",
                        "employee.lastDayOfWork"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), f), fields.end()) << f;
  }
  EXPECT_EQ(std::find(fields.begin(), fields.end(), "root.id"), fields.end());
}

TEST(PolicyPlanOptions, CarryThePolicy) {
  const auto result = parse_policy(read_text(testdata("full.yaml")), "full.yaml");
  ASSERT_TRUE(result.policy) << dump(result.diagnostics);

  const auto options = result.policy->plan_options();

  EXPECT_EQ(options.status_behavior, StatusBehavior::always_activate);
  EXPECT_EQ(options.early_state, UserState::suspended);
  EXPECT_EQ(options.match_rules, std::vector{MatchRule::email});
  EXPECT_FALSE(options.adopt_existing);
  EXPECT_EQ(options.link_attribute, "");
  EXPECT_FALSE(options.suspend_missing);
  EXPECT_EQ(options.usernames.max_length, 20);
  EXPECT_EQ(options.usernames.suffix_start, 1);
  EXPECT_FALSE(options.safety.max_suspensions);
  EXPECT_EQ(options.safety.max_suspensions_percent, 12.5);
  EXPECT_EQ(options.safety.max_changes, 500);
  EXPECT_TRUE(options.only_employees.empty());
}

TEST(PolicyPlanOptions, OfTheDefaultsAreThePlannerDefaults) {
  const auto options = Policy{}.plan_options();
  const state::PlanOptions planner_defaults;

  EXPECT_EQ(options.status_behavior, planner_defaults.status_behavior);
  EXPECT_EQ(options.early_state, planner_defaults.early_state);
  EXPECT_EQ(options.match_rules, planner_defaults.match_rules);
  EXPECT_EQ(options.link_attribute, planner_defaults.link_attribute);
  EXPECT_EQ(options.safety.max_suspensions, 10);
  EXPECT_EQ(options.safety.max_suspensions_percent, 5.0);
}

TEST(PolicyParser, WebhookDebounceTakesMillisecondsOtherDurationsDoNot) {
  EXPECT_EQ(Policy{}.schedule.webhook_debounce, std::chrono::milliseconds(300));
  const auto ok = parse_policy("version: 1\nschedule: {webhookDebounce: 1s250ms}\n", "p.yaml");
  ASSERT_TRUE(ok.policy) << dump(ok.diagnostics);
  EXPECT_EQ(ok.policy->schedule.webhook_debounce, std::chrono::milliseconds(1250));

  const auto bad = parse_policy("version: 1\nschedule: {interval: 500ms}\n", "p.yaml");
  EXPECT_FALSE(bad.policy);
  EXPECT_NE(dump(bad.diagnostics).find("schedule.interval: expected a duration such as 30s"),
            std::string::npos)
      << dump(bad.diagnostics);
}

} // namespace
} // namespace bobsync::policies

namespace bobsync::policies {
namespace {

// The example says the keys it shows are defaults: its safety section is.
TEST(PolicyParserTrust, ExampleSafetySectionIsTheDefaults) {
  const auto result = parse_policy(read_text(example_path()), "example.yaml");
  ASSERT_TRUE(result.policy) << dump(result.diagnostics);
  const auto& s = result.policy->safety;
  const Safety defaults;
  EXPECT_EQ(s.max_suspensions, defaults.max_suspensions);
  EXPECT_EQ(s.max_suspensions_percent, defaults.max_suspensions_percent);
  EXPECT_EQ(s.min_suspensions_for_percent, defaults.min_suspensions_for_percent);
  EXPECT_EQ(s.max_changes, defaults.max_changes);
  EXPECT_EQ(s.block_on_empty_source, defaults.block_on_empty_source);
  EXPECT_EQ(s.block_on_missing_field, defaults.block_on_missing_field);
}

TEST(PolicyParserTrust, MinSuspensionsForPercentIsParsedAndChecked) {
  auto text = read_text(example_path());
  const std::string key = "minSuspensionsForPercent: 5";
  text.replace(text.find(key), key.size(), "minSuspensionsForPercent: 3");
  auto result = parse_policy(text, "p.yaml");
  ASSERT_TRUE(result.policy) << dump(result.diagnostics);
  EXPECT_EQ(result.policy->safety.min_suspensions_for_percent, 3);
  EXPECT_EQ(result.policy->plan_options().safety.min_suspensions_for_percent, 3);
  text.replace(text.find("minSuspensionsForPercent: 3"), key.size(), "minSuspensionsForPercent: 0");
  result = parse_policy(text, "p.yaml");
  EXPECT_FALSE(result.policy);
  EXPECT_NE(dump(result.diagnostics).find("minSuspensionsForPercent"), std::string::npos)
      << dump(result.diagnostics);
}

} // namespace
} // namespace bobsync::policies
