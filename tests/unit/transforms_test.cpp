#include "policies/transforms.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace bobsync::policies {
namespace {

// ---- helpers -------------------------------------------------------------------

Transform step(Transform::Kind kind, std::string arg = {}) {
  Transform t;
  t.kind = kind;
  t.arg = std::move(arg);
  return t;
}

Transform replace(std::string pattern, std::string with) {
  Transform t = step(Transform::Kind::replace, std::move(with));
  t.pattern = std::move(pattern);
  return t;
}

Transform lookup(std::map<std::string, std::string> table,
                 std::optional<std::string> fallback = std::nullopt) {
  Transform t = step(Transform::Kind::lookup, fallback.value_or(""));
  t.table = std::move(table);
  t.has_fallback = fallback.has_value();
  return t;
}

std::string
run(std::vector<std::string> values, const std::vector<Transform>& chain, int max_length = 30) {
  Usernames usernames;
  usernames.max_length = max_length;
  return apply_transforms(std::move(values), chain, usernames);
}

bool is_valid_username(const std::string& u, int max_length) {
  if (u.empty()) {
    return true;
  }
  if (max_length > 0 && u.size() > static_cast<std::size_t>(max_length)) {
    return false;
  }
  if (u.front() < 'a' || u.front() > 'z') {
    return false;
  }
  auto sep = [](char c) { return c == '.' || c == '_' || c == '-'; };
  if (sep(u.back())) {
    return false;
  }
  for (std::size_t i = 0; i < u.size(); ++i) {
    const char c = u[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || sep(c);
    if (!ok || (i > 0 && sep(c) && sep(u[i - 1]))) {
      return false;
    }
  }
  return true;
}

// ---- sanitize_username ----------------------------------------------------------------

struct SanitizeCase {
  const char* name;
  std::string input;
  std::string expected;
  int max_length = 30;
};

void PrintTo(const SanitizeCase& c, std::ostream* os) {
  *os << c.name << " (max " << c.max_length << ")";
}

class SanitizeUsernameTest : public ::testing::TestWithParam<SanitizeCase> {};

TEST_P(SanitizeUsernameTest, ProducesExpectedUsername) {
  const auto& c = GetParam();
  const std::string out = sanitize_username(c.input, c.max_length);
  EXPECT_EQ(out, c.expected) << "input: " << c.input;
  EXPECT_TRUE(is_valid_username(out, c.max_length)) << out;
}

const std::string k_sixty = // 60 characters; position 30 is a word boundary
    "Maximilian Alexander Johannes Wolfgang Montgomery Smithsonia";

INSTANTIATE_TEST_SUITE_P(
    SanitizeUsername,
    SanitizeUsernameTest,
    ::testing::Values(
        // Latin with diacritics, special letters and ligatures
        SanitizeCase{"Spanish", "José Núñez", "jose.nunez"},
        SanitizeCase{"German", "Straße", "strasse"},
        SanitizeCase{"Nordic", "Zoë Ødegård", "zoe.odegard"},
        SanitizeCase{"Polish", "Łukasz Żółć", "lukasz.zolc"},
        SanitizeCase{"Ligatures", "ÆSIR Œuvre", "aesir.oeuvre"},
        SanitizeCase{"DotlessAndDotted", "İlkay Iğdır", "ilkay.igdir"},
        SanitizeCase{"Vietnamese", "Nguyễn Văn Thành", "nguyen.van.thanh"},
        SanitizeCase{"DecomposedAccent", "E\xCC\x81mile Zola", "emile.zola"},
        SanitizeCase{"FullWidth", "Ｊｏｈｎ", "john"},
        // apostrophes and hyphens
        SanitizeCase{"Apostrophe", "O'Brien", "obrien"},
        SanitizeCase{"TypographicApostrophe",
                     "Seán O\xE2\x80\x99"
                     "Brien",
                     "sean.obrien"},
        SanitizeCase{"ModifierApostrophe",
                     "D\xCA\xBC"
                     "Angelo",
                     "dangelo"},
        SanitizeCase{"Hyphen", "Anne-Marie", "anne-marie"},
        SanitizeCase{"SpacedHyphen", "Jean - Luc Picard", "jean.luc.picard"},
        SanitizeCase{"SeparatorRuns", "a__b..c--d-._e", "a_b.c-d-e"},
        // other scripts (transliterated by ICU, not a hand table)
        SanitizeCase{"Cyrillic", "Иван Петров", "ivan.petrov"},
        SanitizeCase{"Greek", "Γιώργος Παπαδόπουλος", "giorgos.papadopoulos"},
        SanitizeCase{"Chinese", "王小明", "wang.xiao.ming"},
        SanitizeCase{"Korean", "김민수", "gimminsu"},
        SanitizeCase{"MixedScripts", "Ivan Петров", "ivan.petrov"},
        // whitespace
        SanitizeCase{"SpacesEverywhere", "  John   Smith ", "john.smith"},
        SanitizeCase{"NoBreakSpace", "John\xC2\xA0Smith", "john.smith"},
        SanitizeCase{"IdeographicSpace", "John\xE3\x80\x80Smith", "john.smith"},
        SanitizeCase{"TabsAndNewlines", "Tab\tSeparated\nName", "tab.separated.name"},
        SanitizeCase{"CommaAndTitle", "Smith, Dr. John", "smith.dr.john"},
        // hostile
        SanitizeCase{"Empty", "", ""},
        SanitizeCase{"OnlyDigits", "1234", ""},
        SanitizeCase{"OnlyPunctuation", "!!!", ""},
        SanitizeCase{"OnlySpaces", "   ", ""},
        SanitizeCase{"OnlyEmoji", "😀😀", ""},
        SanitizeCase{"LeadingDigits", "007 James Bond", "james.bond"},
        SanitizeCase{"DigitsKeptInside", "Henry 8th", "henry.8th"},
        SanitizeCase{"LeadingSeparators", "-._john", "john"},
        SanitizeCase{"TrailingSeparators", "john._-", "john"},
        SanitizeCase{"Emoji", "😀 Smile 😀", "smile"},
        SanitizeCase{"EmojiInside", "Mary 😀 Jane", "mary.jane"},
        SanitizeCase{"Symbols", "R&D <Team> #1", "rd.team.1"},
        SanitizeCase{"InvalidUtf8", "Jo\xFFhn Smith", "john.smith"},
        SanitizeCase{"ZeroWidthSpace", "Jo\xE2\x80\x8Bhn", "john"},
        // length
        SanitizeCase{"SixtyCharsCutAtSeparator", k_sixty, "maximilian.alexander.johannes"},
        SanitizeCase{"SixtyCharsNoLimit",
                     k_sixty,
                     "maximilian.alexander.johannes.wolfgang.montgomery.smithsonia",
                     0},
        SanitizeCase{"CutInsideWord", "Bartholomew Smith", "bartholomew.s", 13},
        SanitizeCase{"CutLeavesNoTrailingDot", "Bartholomew Smith", "bartholomew", 12},
        SanitizeCase{"ExactlyMax", "abcde", "abcde", 5}),
    [](const ::testing::TestParamInfo<SanitizeCase>& p) { return p.param.name; });

TEST(SanitizeUsernameProperties, IdenticalDisplayNamesGiveIdenticalUsernames) {
  // Uniqueness is the planner's job: the sanitizer is a pure function.
  EXPECT_EQ(sanitize_username("John Smith", 30), "john.smith");
  EXPECT_EQ(sanitize_username("John Smith", 30), sanitize_username("John Smith", 30));
  EXPECT_EQ(sanitize_username("Иван Петров", 30), sanitize_username("Иван Петров", 30));
}

TEST(SanitizeUsernameProperties, AsciiFastPathAgreesWithTransliteration) {
  // "John" is plain ASCII; "John\u00e9" goes through ICU. The shared part must
  // come out the same either way.
  EXPECT_EQ(sanitize_username("John Smith-Jones", 30), "john.smith-jones");
  EXPECT_EQ(sanitize_username("John Smith-Jonés", 30), "john.smith-jones");
}

TEST(SanitizeUsernameProperties, SameOutputOnEveryThread) {
  const std::vector<std::string> names = {
      "José Núñez", "Иван Петров", "王小明", "Γιώργος Παπαδόπουλος", "Zoë Ødegård", "O'Brien"};
  std::vector<std::string> expected;
  for (const auto& n : names) {
    expected.push_back(sanitize_username(n, 30));
  }
  std::vector<std::vector<std::string>> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (const auto& n : names) {
          results[t].push_back(sanitize_username(n, 30));
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const auto& r : results) {
    ASSERT_EQ(r.size(), names.size() * 50);
    for (std::size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r[i], expected[i % names.size()]);
    }
  }
}

TEST(SanitizeUsernameProperties, OutputIsAlwaysAValidUsername) {
  const std::vector<std::string> inputs = {"Ａｎｎａ—Ｌｅｅ",
                                           "._- -._",
                                           "a",
                                           "9a",
                                           "Ærø-Ø",
                                           "\xF0\x9F\x98\x80x",
                                           "x\xCC\x81\xCC\x81y",
                                           "Ⅻ Roman",
                                           "ß",
                                           "Mc'Donald-O'Neil   Jr.",
                                           "\xC0\x80",
                                           "\xE2\x80\xAE"
                                           "evil",
                                           "\t\n",
                                           "1-a"};
  for (int max = 1; max <= 30; max += 7) {
    for (const auto& in : inputs) {
      EXPECT_TRUE(is_valid_username(sanitize_username(in, max), max)) << in << " max " << max;
    }
  }
}

// ---- normalize_diacritics ----------------------------------------------------------------

struct TextCase {
  const char* name;
  std::string input;
  std::string expected;
};

void PrintTo(const TextCase& c, std::ostream* os) {
  *os << c.name;
}

class TransformNormalizeDiacriticsTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(TransformNormalizeDiacriticsTest, Folds) {
  EXPECT_EQ(normalize_diacritics(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(TransformNormalizeDiacritics,
                         TransformNormalizeDiacriticsTest,
                         ::testing::Values(TextCase{"Ascii", "John Smith", "John Smith"},
                                           TextCase{"Spanish", "José Núñez", "Jose Nunez"},
                                           TextCase{"SharpS", "Straße", "Strasse"},
                                           TextCase{"Polish", "Łukasz Żółć", "Lukasz Zolc"},
                                           TextCase{"Specials", "Ø Æ œ đ ı", "O AE oe d i"},
                                           TextCase{"KeepsCase", "ZOË Ødegård", "ZOE Odegard"},
                                           TextCase{"Decomposed", "E\xCC\x81mile", "Emile"},
                                           TextCase{"CyrillicKept", "Йошкар Ёлка", "Йошкар Ёлка"},
                                           TextCase{"GreekKept", "Γιώργος", "Γιώργος"},
                                           TextCase{"HanKept", "王小明", "王小明"},
                                           TextCase{"MixedScripts", "Ёлка José", "Ёлка Jose"},
                                           TextCase{"PunctuationKept",
                                                    "O\xE2\x80\x99"
                                                    "Brien – Jr.",
                                                    "O\xE2\x80\x99"
                                                    "Brien – Jr."},
                                           TextCase{"EmojiKept", "Zoë 😀", "Zoe 😀"}),
                         [](const ::testing::TestParamInfo<TextCase>& p) { return p.param.name; });

// ---- trim / lower / upper ------------------------------------------------------------------

class TransformTrimTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(TransformTrimTest, Trims) {
  EXPECT_EQ(trim(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    TransformTrim,
    TransformTrimTest,
    ::testing::Values(TextCase{"Nothing", "John", "John"},
                      TextCase{"Ascii", " \t John Smith \r\n", "John Smith"},
                      TextCase{"InsideKept", "a  b", "a  b"},
                      TextCase{"NoBreakSpace", "\xC2\xA0John\xC2\xA0", "John"},
                      TextCase{"IdeographicSpace", "\xE3\x80\x80王\xE3\x80\x80", "王"},
                      TextCase{"ZeroWidthAndBom", "\xEF\xBB\xBFJohn\xE2\x80\x8B", "John"},
                      TextCase{"OnlySpaces", " \xC2\xA0\t ", ""},
                      TextCase{"Empty", "", ""},
                      TextCase{"NonSpaceUnicodeKept", "ÉmileÉ", "ÉmileÉ"},
                      TextCase{"InvalidUtf8Kept", "\xFF x \xFF", "\xFF x \xFF"}),
    [](const ::testing::TestParamInfo<TextCase>& p) { return p.param.name; });

TEST(TransformCase, LowerAndUpperUseFullUnicodeMapping) {
  EXPECT_EQ(to_lower("John.SMITH@Example.COM"), "john.smith@example.com");
  EXPECT_EQ(to_lower("ÉMILE ZOLA"), "émile zola");
  EXPECT_EQ(to_lower("ИВАН"), "иван");
  EXPECT_EQ(to_lower("ΟΔΥΣΣΕΥΣ"), "οδυσσευς"); // final sigma
  EXPECT_EQ(to_upper("straße"), "STRASSE");    // one letter becomes two
  EXPECT_EQ(to_upper("émile"), "ÉMILE");
  EXPECT_EQ(to_upper("abc-1"), "ABC-1");
  EXPECT_EQ(to_lower(""), "");
}

// ---- apply_transforms ------------------------------------------------------------------------

using K = Transform::Kind;

struct ChainCase {
  const char* name;
  std::vector<std::string> values;
  std::vector<Transform> chain;
  std::string expected;
};

class TransformChainTest : public ::testing::TestWithParam<ChainCase> {};

TEST_P(TransformChainTest, Applies) {
  const auto& c = GetParam();
  EXPECT_EQ(run(c.values, c.chain), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    TransformChain,
    TransformChainTest,
    ::testing::Values(
        ChainCase{"NoSteps", {"  x "}, {}, "  x "},
        ChainCase{"Trim", {"  x "}, {step(K::trim)}, "x"},
        ChainCase{"TrimLower",
                  {" John@EXAMPLE.com "},
                  {step(K::trim), step(K::lower)},
                  "john@example.com"},
        ChainCase{"Upper", {"gb"}, {step(K::upper)}, "GB"},
        ChainCase{"DefaultOnEmpty", {""}, {step(K::default_value, "n/a")}, "n/a"},
        ChainCase{"DefaultKeepsValue", {"x"}, {step(K::default_value, "n/a")}, "x"},
        ChainCase{
            "DefaultAfterTrim", {"   "}, {step(K::trim), step(K::default_value, "n/a")}, "n/a"},
        ChainCase{"DefaultBeforeTrimSeesSpaces",
                  {"   "},
                  {step(K::default_value, "n/a"), step(K::trim)},
                  ""},
        ChainCase{"DefaultOnNoValues", {}, {step(K::default_value, "n/a")}, "n/a"},
        ChainCase{
            "ReplaceGroups", {"Smith, John"}, {replace("^(\\w+), (\\w+)$", "$2 $1")}, "John Smith"},
        ChainCase{"ReplaceAll", {"+44 (20) 7946-0000"}, {replace("[^0-9+]", "")}, "+442079460000"},
        ChainCase{"ReplaceNoMatch", {"abc"}, {replace("x+", "y")}, "abc"},
        ChainCase{"ReplaceWholeMatch", {"ab"}, {replace("b", "[$&]")}, "a[b]"},
        ChainCase{"ReplaceBadPatternKeepsValue", {"abc"}, {replace("(", "y")}, "abc"},
        ChainCase{"ReplaceDollarDollarIsADollar", {"ab"}, {replace("b", "$$")}, "a$"},
        ChainCase{"ReplaceBackslashIsLiteral", {"a-b"}, {replace("-", "\\")}, "a\\b"},
        ChainCase{"ReplaceGroupZero", {"ab"}, {replace("b", "<$0>")}, "a<b>"},
        ChainCase{"ReplaceUnknownDollarIsLiteral", {"ab"}, {replace("b", "$x")}, "a$x"},
        ChainCase{"ReplaceEmptyMatchesEverywhere", {"ab"}, {replace("", "-")}, "-a-b-"},
        ChainCase{"ReplaceUtf8", {"Zoë Ødegård"}, {replace("ø|Ø", "O")}, "Zoë Odegård"},
        ChainCase{"ReplaceShorthandClasses", {"a 1\tb"}, {replace("\\s+\\d?", "_")}, "a__b"},
        ChainCase{"LookupHit", {"FT"}, {lookup({{"FT", "Full-time"}}, "Other")}, "Full-time"},
        ChainCase{"LookupFallback", {"PT"}, {lookup({{"FT", "Full-time"}}, "Other")}, "Other"},
        ChainCase{"LookupNoFallbackKeeps", {"PT"}, {lookup({{"FT", "Full-time"}})}, "PT"},
        ChainCase{"LookupIsExact", {"ft"}, {lookup({{"FT", "Full-time"}})}, "ft"},
        ChainCase{"JoinSkipsEmpty", {"John", "", "Smith"}, {step(K::join, ".")}, "John.Smith"},
        ChainCase{"JoinAllEmptyThenDefault",
                  {"", ""},
                  {step(K::join, "-"), step(K::default_value, "x")},
                  "x"},
        ChainCase{"JoinThenElementwise",
                  {"José", "Núñez"},
                  {step(K::join, " "), step(K::normalize_diacritics), step(K::upper)},
                  "JOSE NUNEZ"},
        ChainCase{
            "ElementwiseBeforeJoin", {" a ", " b "}, {step(K::trim), step(K::join, "+")}, "a+b"},
        ChainCase{"LeftoverElementsJoinedWithSpace",
                  {"John", "", "Smith"},
                  {step(K::trim)},
                  "John Smith"},
        ChainCase{"DefaultPerElement", {"", "b"}, {step(K::default_value, "a")}, "a b"},
        ChainCase{
            "NormalizeDiacritics", {"Zoë Ødegård"}, {step(K::normalize_diacritics)}, "Zoe Odegard"},
        ChainCase{
            "SanitizeUsername", {"  José Núñez "}, {step(K::sanitize_username)}, "jose.nunez"},
        ChainCase{"UsernameFromFirstAndLast",
                  {"Zoë", "Ødegård"},
                  {step(K::join, " "), step(K::sanitize_username)},
                  "zoe.odegard"},
        ChainCase{"UsernameThenDefault",
                  {"1234"},
                  {step(K::sanitize_username), step(K::default_value, "user")},
                  "user"}),
    [](const ::testing::TestParamInfo<ChainCase>& p) { return p.param.name; });

TEST(TransformChain, SanitizeUsesThePolicyMaxLength) {
  const std::vector<Transform> chain = {step(K::sanitize_username)};
  EXPECT_EQ(run({"Bartholomew Smith"}, chain, 30), "bartholomew.smith");
  EXPECT_EQ(run({"Bartholomew Smith"}, chain, 12), "bartholomew");
}

// A pattern that backtracks exponentially in std::regex: RE2 matches in
// linear time.
TEST(TransformChain, NestedQuantifiersMatchInLinearTime) {
  const std::string name = std::string(33, 'a') + "!"; // 34 characters
  const auto started = std::chrono::steady_clock::now();

  EXPECT_EQ(run({name}, {replace("(a+)+$", "x")}), name);
  EXPECT_EQ(run({std::string(34, 'a')}, {replace("(a+)+$", "x")}), "x");

  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

TEST(TransformChain, ReplaceCheckAcceptsOnlyWhatRunsInLinearTime) {
  EXPECT_EQ(check_replace("^(\\w+), (\\w+)$", "$2 $1"), std::nullopt);
  EXPECT_EQ(check_replace("[^0-9+]", ""), std::nullopt);
  const auto error_of = [](const std::string& pattern, const std::string& with) {
    return check_replace(pattern, with).value_or("(accepted)");
  };
  EXPECT_EQ(error_of("(R&D", "x"), "invalid regular expression '(R&D': missing ): (R&D");
  EXPECT_NE(error_of("(a)\\1", "x").find("invalid escape sequence"), std::string::npos);
  EXPECT_NE(error_of("a(?=b)", "x").find("invalid perl operator"), std::string::npos);
  EXPECT_EQ(error_of("(a)", "$2"), "'with' uses $2 but the pattern '(a)' has only 1 capture group");
}

TEST(TransformChain, RegexCacheServesDifferentPatterns) {
  // Same value, two patterns used alternately: a cache keyed wrongly would mix them.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run({"a-b"}, {replace("-", "+")}), "a+b");
    EXPECT_EQ(run({"a-b"}, {replace("a", "z")}), "z-b");
  }
}

} // namespace
} // namespace bobsync::policies
