#include "policies/transforms.hpp"

#include "state/util/ascii.hpp"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <re2/re2.h>
#include <unordered_map>
#include <utility>

namespace bobsync::policies {
namespace {

// Bounds on the memo tables (per thread, and the process-wide ones of the
// transliterators). They only make repeated work cheaper: results never
// depend on what is cached, so clearing a full table is safe.
constexpr std::size_t k_max_cached_regexes = 64;
constexpr std::size_t k_max_cached_code_points = 4096;
constexpr std::size_t k_max_cached_words = 65536; // ~8 MB per thread at most

bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
  }
  return true;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char ascii_lower(char c) {
  return ascii_fold(c);
}

char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

icu::UnicodeString from_utf8(std::string_view text) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
}

std::string to_utf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

void append_utf8(std::string& out, UChar32 c) {
  char buffer[U8_MAX_LENGTH];
  std::int32_t length = 0;
  UBool error = false;
  U8_APPEND(buffer, length, U8_MAX_LENGTH, c, error);
  if (!error) {
    out.append(buffer, static_cast<std::size_t>(length));
  }
}

// Decodes the code point at `pos` and advances `pos`; invalid UTF-8 yields a
// negative value and skips one byte.
UChar32 next_code_point(std::string_view text, std::int32_t& pos) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto length = static_cast<std::int32_t>(text.size());
  UChar32 c = 0;
  U8_NEXT(bytes, pos, length, c);
  return c;
}

// Decodes the code point that ends at `pos` and moves `pos` to its start;
// an invalid sequence yields a negative value and steps back one byte.
UChar32 previous_code_point(std::string_view text, std::int32_t& pos) {
  std::int32_t start = pos - 1;
  while (start > 0 && pos - start < U8_MAX_LENGTH
         && (static_cast<unsigned char>(text[static_cast<std::size_t>(start)]) & 0xC0) == 0x80) {
    --start;
  }
  std::int32_t end = start;
  const UChar32 c = next_code_point(text, end);
  if (c >= 0 && end == pos) {
    pos = start;
    return c;
  }
  --pos;
  return -1;
}

// White_Space plus the invisible characters HR data picks up from copy and
// paste (zero-width space, word joiner, byte order mark).
bool is_trimmable(UChar32 c) {
  if (c >= 0 && c < 0x80) { // ASCII: no need to ask ICU
    return c == ' ' || (c >= '\t' && c <= '\r');
  }
  return c >= 0 && (u_isUWhiteSpace(c) || c == 0x200B || c == 0x2060 || c == 0xFEFF);
}

bool is_latin(UChar32 c) {
  UErrorCode status = U_ZERO_ERROR;
  return uscript_getScript(c, &status) == USCRIPT_LATIN && U_SUCCESS(status);
}

bool is_nonspacing_mark(UChar32 c) {
  return u_charType(c) == U_NON_SPACING_MARK;
}

// ---- transliterators ---------------------------------------------------------
//
// Building a transliterator parses rule files (milliseconds), and Any-Latin
// builds one more, again from rules, for each script the first time it meets
// that script. ICU does not copy those when a transliterator is cloned, so
// per-thread clones rebuilt every script's rules on every new planning
// thread, each pass (10 % of bench_plan's samples). Instead the process holds
// one Any-Latin and one Latin-ASCII, kept warm across threads and passes, and
// since transliterate() is not documented as thread-safe they are used under
// a mutex, behind a process-wide memo: a word or a code point is
// transliterated once per process. Each thread keeps its own memo in front
// (no lock on a hit), so the mutex is only taken for what a thread has not
// met yet. A missing ICU transliterator (broken ICU data) leaves the text as
// it is rather than failing.

std::unique_ptr<icu::Transliterator> create_transliterator(const char* id) {
  UErrorCode status = U_ZERO_ERROR;
  UParseError parse_error{};
  std::unique_ptr<icu::Transliterator> result(icu::Transliterator::createInstance(
      icu::UnicodeString::fromUTF8(id), UTRANS_FORWARD, parse_error, status));
  if (U_FAILURE(status)) {
    result.reset();
  }
  return result;
}

class SharedTransliteration {
public:
  static SharedTransliteration& instance() {
    static SharedTransliteration shared;
    return shared;
  }

  // ICU's Latin-ASCII of one code point, as UTF-8.
  std::string latin_ascii(UChar32 c) {
    const std::lock_guard lock(m_mutex);
    return fold(c);
  }

  // One whitespace-free piece of a display name -> Any-Latin, combining marks
  // dropped, Latin-ASCII, lowercase. Characters with no ASCII form stay
  // non-ASCII and are removed later.
  std::string ascii_word(std::string_view word) {
    const std::lock_guard lock(m_mutex);
    std::string key(word);
    if (const auto it = m_words.find(key); it != m_words.end()) {
      return it->second;
    }
    icu::UnicodeString text = from_utf8(word);
    if (m_any_latin) {
      m_any_latin->transliterate(text);
    }
    std::string out;
    out.reserve(word.size());
    for (std::int32_t i = 0; i < text.length();) {
      const UChar32 c = text.char32At(i);
      i += U16_LENGTH(c);
      if (c < 0x80) {
        out += ascii_lower(static_cast<char>(c));
      } else if (!is_nonspacing_mark(c)) {
        for (const char folded : fold(c)) {
          out += ascii_lower(folded);
        }
      }
    }
    if (m_words.size() >= k_max_cached_words) {
      m_words.clear();
    }
    return m_words.emplace(std::move(key), std::move(out)).first->second;
  }

private:
  // Latin-ASCII has a large rule set (several microseconds per call even on
  // plain text) while names use few distinct code points. Its only
  // context-dependent rules concern letter case, which callers either keep
  // (normalize_diacritics: "Æ" -> "AE") or lower afterwards. Under m_mutex.
  const std::string& fold(UChar32 c) {
    if (const auto it = m_code_points.find(c); it != m_code_points.end()) {
      return it->second;
    }
    if (m_code_points.size() >= k_max_cached_code_points) {
      m_code_points.clear();
    }
    icu::UnicodeString text(c);
    if (m_latin_ascii) {
      m_latin_ascii->transliterate(text);
    }
    return m_code_points.emplace(c, to_utf8(text)).first->second;
  }

  std::mutex m_mutex;
  // Any script to Latin (Cyrillic, Greek, Han pinyin, ...); Latin is left alone.
  std::unique_ptr<icu::Transliterator> m_any_latin = create_transliterator("Any-Latin");
  // Latin letters, ligatures and typographic punctuation to ASCII.
  std::unique_ptr<icu::Transliterator> m_latin_ascii = create_transliterator("Latin-ASCII");
  std::unordered_map<std::string, std::string> m_words;
  std::unordered_map<UChar32, std::string> m_code_points;
};

// SharedTransliteration::latin_ascii behind a per-thread memo.
const std::string& latin_ascii_fold(UChar32 c) {
  thread_local std::unordered_map<UChar32, std::string> memo;
  if (const auto it = memo.find(c); it != memo.end()) {
    return it->second;
  }
  if (memo.size() >= k_max_cached_code_points) {
    memo.clear();
  }
  return memo.emplace(c, SharedTransliteration::instance().latin_ascii(c)).first->second;
}

// SharedTransliteration::ascii_word behind a per-thread memo: first names and
// surnames repeat across a company and across reconcile cycles, and Any-Latin
// costs 5-60 us per word for Cyrillic, Greek or Han.
const std::string& ascii_word_cached(std::string_view word) {
  thread_local std::unordered_map<std::string, std::string> memo;
  std::string key(word);
  if (const auto it = memo.find(key); it != memo.end()) {
    return it->second;
  }
  if (memo.size() >= k_max_cached_words) {
    memo.clear();
  }
  auto value = SharedTransliteration::instance().ascii_word(word);
  return memo.emplace(std::move(key), std::move(value)).first->second;
}

// ---- regular expressions ---------------------------------------------------------

// RE2 matches in time linear in the input, whatever the pattern: a policy
// cannot make a pass hang on a name (std::regex backtracks: "(a+)+$" on a
// 34-character name ran for minutes).
RE2::Options regex_options() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(RE2::Options::EncodingUTF8);
  return options;
}

// The policy's replacement ($1..$9 and $0 or $& for groups, $$ for "$",
// anything else literal) as an RE2 rewrite string (\1, \0, "\\" for "\").
// `highest` is set to the highest group number used.
std::string rewrite_of(std::string_view with, int& highest) {
  highest = 0;
  std::string out;
  for (std::size_t i = 0; i < with.size(); ++i) {
    const char c = with[i];
    if (c == '\\') {
      out += "\\\\";
      continue;
    }
    if (c != '$' || i + 1 == with.size()) {
      out += c;
      continue;
    }
    const char next = with[i + 1];
    if (next == '$') {
      out += '$';
      ++i;
    } else if (next == '&') {
      out += "\\0";
      ++i;
    } else if (next >= '0' && next <= '9') {
      highest = std::max(highest, next - '0');
      out += '\\';
      out += next;
      ++i;
    } else {
      out += c;
    }
  }
  return out;
}

struct CompiledReplace {
  std::unique_ptr<RE2> re;
  std::string rewrite;
};

// The compiled pattern and rewrite of a replace step, nullptr when they
// cannot be used (the policy parser rejects those; this is the last line of
// defence). Cached per thread, so no lock is taken per value.
const CompiledReplace* cached_replace(const Transform& step) {
  thread_local std::unordered_map<std::string, std::unique_ptr<CompiledReplace>> cache;
  std::string key = step.pattern;
  key += '\0';
  key += step.arg;
  if (const auto it = cache.find(key); it != cache.end()) {
    return it->second.get();
  }
  if (cache.size() >= k_max_cached_regexes) {
    cache.clear();
  }
  auto compiled = std::make_unique<CompiledReplace>();
  compiled->re = std::make_unique<RE2>(step.pattern, regex_options());
  int highest = 0;
  compiled->rewrite = rewrite_of(step.arg, highest);
  if (!compiled->re->ok() || highest > compiled->re->NumberOfCapturingGroups()) {
    compiled.reset();
  }
  return cache.emplace(std::move(key), std::move(compiled)).first->second.get();
}

std::string regex_replace_or_keep(const std::string& value, const Transform& step) {
  const CompiledReplace* compiled = cached_replace(step);
  if (compiled == nullptr) {
    return value;
  }
  std::string out = value;
  RE2::GlobalReplace(&out, *compiled->re, compiled->rewrite);
  return out;
}

std::string join_non_empty(const std::vector<std::string>& values, std::string_view separator) {
  std::string out;
  bool first = true;
  for (const auto& v : values) {
    if (v.empty()) {
      continue;
    }
    if (!first) {
      out += separator;
    }
    out += v;
    first = false;
  }
  return out;
}

// [begin, end) of `text` without leading and trailing trimmable characters.
std::pair<std::size_t, std::size_t> trim_bounds(std::string_view text) {
  std::int32_t begin = 0;
  const auto length = static_cast<std::int32_t>(text.size());
  while (begin < length) {
    std::int32_t next = begin;
    if (!is_trimmable(next_code_point(text, next))) {
      break;
    }
    begin = next;
  }
  std::int32_t end = length;
  while (end > begin) {
    std::int32_t previous = end;
    if (!is_trimmable(previous_code_point(text, previous))) {
      break;
    }
    end = std::max(previous, begin);
  }
  return {static_cast<std::size_t>(begin), static_cast<std::size_t>(end)};
}

void trim_in_place(std::string& text) {
  const auto [begin, end] = trim_bounds(text);
  if (begin == 0 && end == text.size()) {
    return;
  }
  text.erase(end);
  text.erase(0, begin);
}

void lower_in_place(std::string& text) {
  if (is_ascii(text)) {
    for (auto& c : text) {
      c = ascii_lower(c);
    }
  } else {
    text = to_lower(text);
  }
}

void upper_in_place(std::string& text) {
  if (is_ascii(text)) {
    for (auto& c : text) {
      c = ascii_upper(c);
    }
  } else {
    text = to_upper(text);
  }
}

bool is_separator(char c) {
  return c == '.' || c == '_' || c == '-';
}

bool is_username_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || is_separator(c);
}

void strip_trailing_separators(std::string& text) {
  while (!text.empty() && is_separator(text.back())) {
    text.pop_back();
  }
}

} // namespace

std::string to_lower(std::string_view text) {
  if (is_ascii(text)) {
    std::string out(text);
    for (auto& c : out) {
      c = ascii_lower(c);
    }
    return out;
  }
  return to_utf8(from_utf8(text).toLower(icu::Locale::getRoot()));
}

std::string to_upper(std::string_view text) {
  if (is_ascii(text)) {
    std::string out(text);
    for (auto& c : out) {
      c = ascii_upper(c);
    }
    return out;
  }
  return to_utf8(from_utf8(text).toUpper(icu::Locale::getRoot()));
}

std::string_view trim_view(std::string_view text) {
  const auto [begin, end] = trim_bounds(text);
  return text.substr(begin, end - begin);
}

std::string trim(std::string_view text) {
  return std::string(trim_view(text));
}

// Combining marks are removed only after a Latin base letter, so Cyrillic й
// and Greek ώ are kept as they are; the remaining Latin letters without a
// decomposition (ß, Ł, Ø, Æ, œ, đ, ı, ligatures, full-width forms) go through
// ICU's Latin-ASCII one code point at a time.
std::string normalize_diacritics(std::string_view text) {
  if (is_ascii(text)) {
    return std::string(text);
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    return std::string(text);
  }
  const icu::UnicodeString decomposed = nfd->normalize(from_utf8(text), status);
  icu::UnicodeString stripped;
  bool after_latin = false;
  for (std::int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (is_nonspacing_mark(c)) {
      if (!after_latin) {
        stripped.append(c);
      }
      continue;
    }
    after_latin = is_latin(c);
    stripped.append(c);
  }
  const icu::UnicodeString composed = nfc->normalize(stripped, status);
  if (U_FAILURE(status)) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  for (std::int32_t i = 0; i < composed.length();) {
    const UChar32 c = composed.char32At(i);
    i += U16_LENGTH(c);
    if (c >= 0x80 && is_latin(c)) {
      out += latin_ascii_fold(c);
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

// Steps: (1) every run of White_Space becomes one '.', each word in between is
// lowered (ASCII) or transliterated (Any-Latin, marks dropped, Latin-ASCII,
// lowercase); (2) apostrophes vanish ("O'Brien" -> "obrien"), anything outside
// [a-z0-9._-] is removed, a run of separators keeps its first one; (3) leading
// characters up to the first letter and trailing separators are cut; (4) the
// result is cut to `max_length` (no limit when max_length < 1) and trailing
// separators are cut again. Deterministic; thread-safe (one ICU transliterator
// of each kind per process, under a mutex, behind memo tables).
std::string sanitize_username(std::string_view text, int max_length) {
  std::string folded;
  folded.reserve(text.size());
  const auto length = static_cast<std::int32_t>(text.size());
  std::int32_t pos = 0;
  while (pos < length) {
    std::int32_t next = pos;
    const UChar32 c = next_code_point(text, next);
    if (c >= 0 && u_isUWhiteSpace(c)) {
      folded += ' ';
      pos = next;
      continue;
    }
    const std::int32_t word_begin = pos;
    bool ascii = true;
    while (pos < length) {
      next = pos;
      const UChar32 w = next_code_point(text, next);
      if (w >= 0 && u_isUWhiteSpace(w)) {
        break;
      }
      ascii = ascii && w >= 0 && w < 0x80;
      pos = next;
    }
    const std::string_view word = text.substr(static_cast<std::size_t>(word_begin),
                                              static_cast<std::size_t>(pos - word_begin));
    if (ascii) {
      for (const char w : word) {
        folded += ascii_lower(w);
      }
    } else {
      folded += ascii_word_cached(word);
    }
  }

  std::string out;
  out.reserve(folded.size());
  for (char c : folded) {
    if (is_ascii_space(c)) {
      c = '.';
    }
    if (!is_username_char(c)) {
      continue; // apostrophes, punctuation, leftovers of other scripts
    }
    if (is_separator(c) && !out.empty() && is_separator(out.back())) {
      continue;
    }
    if (out.empty() && !(c >= 'a' && c <= 'z')) {
      continue; // must start with a letter
    }
    out += c;
  }
  strip_trailing_separators(out);
  if (max_length > 0 && out.size() > static_cast<std::size_t>(max_length)) {
    out.resize(static_cast<std::size_t>(max_length));
    strip_trailing_separators(out);
  }
  return out;
}

std::optional<std::string> check_replace(const std::string& pattern, const std::string& with) {
  const RE2 re(pattern, regex_options());
  if (!re.ok()) {
    return "invalid regular expression '" + pattern + "': " + re.error();
  }
  int highest = 0;
  static_cast<void>(rewrite_of(with, highest));
  const int groups = re.NumberOfCapturingGroups();
  if (highest > groups) {
    return "'with' uses $" + std::to_string(highest) + " but the pattern '" + pattern
           + "' has only " + std::to_string(groups) + " capture group" + (groups == 1 ? "" : "s");
  }
  return std::nullopt;
}

// An empty list counts as one empty value, so `default` can fill a mapping
// whose sources are all missing. A `replace` whose pattern does not compile or
// whose match fails (regex complexity limits) keeps the value unchanged.
namespace {

// One elementwise step on one value (every step but `join`).
void apply_step(std::string& v, const Transform& step, const Usernames& usernames) {
  switch (step.kind) {
  case Transform::Kind::trim:
    trim_in_place(v);
    break;
  case Transform::Kind::lower:
    lower_in_place(v);
    break;
  case Transform::Kind::upper:
    upper_in_place(v);
    break;
  case Transform::Kind::default_value:
    if (v.empty()) {
      v = step.arg;
    }
    break;
  case Transform::Kind::replace:
    v = regex_replace_or_keep(v, step);
    break;
  case Transform::Kind::lookup:
    if (const auto it = step.table.find(v); it != step.table.end()) {
      v = it->second;
    } else if (step.has_fallback) {
      v = step.arg;
    }
    break;
  case Transform::Kind::join:
    break; // not elementwise: see apply_transforms
  case Transform::Kind::normalize_diacritics:
    v = normalize_diacritics(v);
    break;
  case Transform::Kind::sanitize_username:
    v = sanitize_username(v, usernames.max_length);
    break;
  }
}

} // namespace

std::string apply_transforms(std::vector<std::string> values,
                             const std::vector<Transform>& chain,
                             const Usernames& usernames) {
  if (values.size() <= 1) {
    return apply_transforms(
        values.empty() ? std::string() : std::move(values.front()), chain, usernames);
  }
  for (const auto& step : chain) {
    if (step.kind == Transform::Kind::join) {
      std::string joined = join_non_empty(values, step.arg);
      values.assign(1, std::move(joined));
      continue;
    }
    for (auto& v : values) {
      apply_step(v, step, usernames);
    }
  }
  if (values.size() == 1) {
    return std::move(values.front());
  }
  return join_non_empty(values, " ");
}

std::string apply_transforms(std::string value,
                             const std::vector<Transform>& chain,
                             const Usernames& usernames) {
  for (const auto& step : chain) {
    apply_step(value, step, usernames); // joining one value leaves it as it is
  }
  return value;
}

} // namespace bobsync::policies
