#include "policies/lookalike.hpp"

#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

namespace bobsync::policies {
namespace {

struct SpoofCloser {
  void operator()(USpoofChecker* checker) const { uspoof_close(checker); }
};

// The address as the planner compares addresses (ASCII letters lower-cased,
// nothing else: a Kelvin sign is not a "k" to JumpCloud) and its confusable
// skeleton, taken of the fully lower-cased text; an empty skeleton when ICU
// cannot compute one (the address is then not compared).
struct Key {
  std::string lower;
  std::string skeleton;
};

Key key_of(USpoofChecker* checker, std::string_view email) {
  Key key;
  key.lower.reserve(email.size());
  for (const char ch : email) {
    key.lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  auto text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(email.data(), static_cast<int32_t>(email.size())));
  text.toLower();
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString skeleton;
  uspoof_getSkeletonUnicodeString(checker, 0, text, skeleton, &status);
  if (U_SUCCESS(status)) {
    skeleton.toUTF8String(key.skeleton);
  }
  return key;
}

// "U+0430, U+0456": the code points beyond ASCII, at most five.
std::string beyond_ascii(std::string_view text) {
  std::string out;
  int shown = 0;
  int32_t i = 0;
  const auto length = static_cast<int32_t>(text.size());
  while (i < length) {
    UChar32 c = 0;
    U8_NEXT(text.data(), i, length, c);
    if (c < 0x80) {
      continue;
    }
    if (shown++ == 5) {
      out += ", ...";
      break;
    }
    std::array<char, 16> code{};
    std::snprintf(code.data(), code.size(), "U+%04X", static_cast<unsigned>(c < 0 ? 0xFFFD : c));
    out += (out.empty() ? "" : ", ") + std::string(code.data());
  }
  return out;
}

} // namespace

void warn_lookalike_emails(state::Plan& plan, const std::vector<state::DirectoryUser>& users) {
  bool creates = false;
  for (const auto& c : plan.changes) {
    creates = creates || (c.action == state::Action::create && !c.email.empty());
  }
  if (!creates) {
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  const std::unique_ptr<USpoofChecker, SpoofCloser> checker(uspoof_open(&status));
  if (U_FAILURE(status)) {
    return; // no ICU data: nothing to compare with
  }
  // skeleton -> the address it came from and whose it is
  std::map<std::string, std::pair<std::string, std::string>> seen;
  for (const auto& u : users) {
    const auto email = u.get("email");
    if (email.empty()) {
      continue;
    }
    auto key = key_of(checker.get(), email);
    if (!key.skeleton.empty()) {
      seen.try_emplace(std::move(key.skeleton), key.lower, "JumpCloud user " + u.id);
    }
  }
  for (const auto& c : plan.changes) {
    if (c.action != state::Action::create || c.email.empty()) {
      continue;
    }
    auto key = key_of(checker.get(), c.email);
    if (key.skeleton.empty()) {
      continue;
    }
    const auto [it, fresh] = seen.try_emplace(key.skeleton, key.lower, "employee " + c.employee_id);
    if (fresh || it->second.first == key.lower) {
      continue; // the same address (case aside) is the planner's business
    }
    const auto odd = beyond_ascii(key.lower + it->second.first);
    state::Diagnostic warning;
    warning.severity = state::Severity::warning;
    warning.message = "email '" + c.email + "' of employee " + c.employee_id
                      + " (to be created) looks like '" + it->second.first + "' of "
                      + it->second.second + " but is another address"
                      + (odd.empty() ? std::string() : " (" + odd + ")")
                      + ": check in Bob that it is not a typo or an impersonation";
    plan.diagnostics.push_back(std::move(warning));
  }
}

} // namespace bobsync::policies
