#include "policies/catalog.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace bobsync::policies {
namespace {

// Bob's standard field ids (dot form), sorted. Sources: the people-search
// request of shared/specs/hibob/NOTES.md §2.2, the field catalogue of §2.5, Bob's
// own JumpCloud mapping, and the categories seen in the real full-record
// payloads of shared/specs/hibob/examples/. Company-specific fields (custom
// fields, custom table columns) are matched by pattern instead.
const std::vector<std::string_view> k_standard_bob_fields = [] {
  std::vector<std::string_view> fields = {
      "about.about",
      "about.avatar",
      "about.foodPreferences",
      "about.hobbies",
      "about.socialData.facebook",
      "about.socialData.linkedin",
      "about.socialData.twitter",
      "about.superpowers",
      "address.activeEffectiveDate",
      "address.city",
      "address.country",
      "address.fullAddress",
      "address.line1",
      "address.line2",
      "address.postCode",
      "address.siteAddress1",
      "address.siteAddress2",
      "address.siteCity",
      "address.siteCountry",
      "address.sitePostalCode",
      "address.siteState",
      "address.usaState",
      "address.zipCode",
      "eeo.ethnicity",
      "eeo.jobCategory",
      "employee.firstDayOfWork",
      "employee.lastDayOfWork",
      "employee.orgLevel",
      "employee.recentLeaveEndDate",
      "employee.recentLeaveStartDate",
      "financial.accountName",
      "financial.accountnumber",
      "financial.accountType",
      "financial.bankAccountType",
      "financial.bankAddress",
      "financial.bankName",
      "financial.iban",
      "financial.identificationNumber",
      "financial.passportNumber",
      "financial.rightToWorkExpiryDate",
      "financial.routingNumber",
      "financial.sortcode",
      "financial.swift",
      "home.familyStatus",
      "home.legalGender",
      "home.mobilePhone",
      "home.numberOfKids",
      "home.privateEmail",
      "home.privatePhone",
      "home.spouse.birthDate",
      "home.spouse.firstName",
      "home.spouse.gender",
      "home.spouse.surname",
      "internal.currentActiveStatusStartDate",
      "internal.lifecycleStatus",
      "internal.notice",
      "internal.periodSinceTermination",
      "internal.probationEndDate",
      "internal.status",
      "internal.terminationDate",
      "internal.terminationReason",
      "internal.terminationType",
      "internal.yearsSinceTermination",
      "payroll.employment.activeEffectiveDate",
      "payroll.employment.calendarId",
      "payroll.employment.contract",
      "payroll.employment.flsaCode",
      "payroll.employment.fte",
      "payroll.employment.salaryPayType",
      "payroll.employment.type",
      "payroll.employment.weeklyHours",
      "payroll.employment.workingPattern",
      "payroll.nin",
      "payroll.salary.activeEffectiveDate",
      "payroll.salary.payFrequency",
      "payroll.salary.payPeriod",
      "payroll.taxCode",
      "personal.age",
      "personal.birthDate",
      "personal.communication.skypeUsername",
      "personal.communication.slackUsername",
      "personal.honorific",
      "personal.nationality",
      "personal.pronouns",
      "personal.shortBirthDate",
      "root.avatarUrl",
      "root.companyId",
      "root.creationDate",
      "root.creationDateTime",
      "root.displayName",
      "root.email",
      "root.firstName",
      "root.fullName",
      "root.id",
      "root.secondName",
      "root.state",
      "root.surname",
      "work.activeEffectiveDate",
      "work.daysOfPreviousService",
      "work.department",
      "work.directReports",
      "work.durationOfEmployment",
      "work.employeeIdInCompany",
      "work.indirectReports",
      "work.isManager",
      "work.manager",
      "work.originalStartDate",
      "work.reportsTo",
      "work.reportsTo.displayName",
      "work.reportsTo.email",
      "work.reportsTo.firstName",
      "work.reportsTo.id",
      "work.reportsTo.surname",
      "work.reportsToIdInCompany",
      "work.secondLevelManager",
      "work.shortStartDate",
      "work.site",
      "work.siteId",
      "work.startDate",
      "work.tenureDuration",
      "work.tenureYears",
      "work.title",
      "work.workMobile",
      "work.workPhone",
      "work.yearsOfService",
  };
  std::sort(fields.begin(), fields.end());
  return fields;
}();

const std::vector<std::string_view> k_jumpcloud_scalar_fields = {
    "email",
    "username",
    "firstname",
    "lastname",
    "middlename",
    "displayname",
    "jobTitle",
    "department",
    "employeeIdentifier",
    "employeeType",
    "costCenter",
    "company",
    "location",
    "description",
    "manager",
    "alternateEmail",
    "managedAppleId",
};

// Categories whose custom fields and custom table columns Bob exposes.
constexpr std::array<std::string_view, 10> k_custom_categories = {"root",
                                                                  "work",
                                                                  "home",
                                                                  "about",
                                                                  "address",
                                                                  "payroll",
                                                                  "employee",
                                                                  "internal",
                                                                  "personal",
                                                                  "financial"};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// `prefix` followed by one or more of [A-Za-z0-9_].
bool is_prefixed_word(std::string_view text, std::string_view prefix) {
  return text.size() > prefix.size() && text.substr(0, prefix.size()) == prefix
         && std::all_of(
             text.begin() + static_cast<std::ptrdiff_t>(prefix.size()), text.end(), is_word_char);
}

bool is_custom_bob_field(std::string_view field_id) {
  const auto dot = field_id.find('.');
  if (dot == std::string_view::npos) {
    return false;
  }
  const auto category = field_id.substr(0, dot);
  if (std::find(k_custom_categories.begin(), k_custom_categories.end(), category)
      == k_custom_categories.end()) {
    return false;
  }
  const auto rest = field_id.substr(dot + 1);
  return is_prefixed_word(rest, "custom.field_") || is_prefixed_word(rest, "customColumns.column_");
}

// True when `field` is `prefix` + value + `]`; sets `value`.
bool bracket_value(std::string_view field, std::string_view prefix, std::string_view& value) {
  if (field.size() < prefix.size() + 1 || field.substr(0, prefix.size()) != prefix
      || field.back() != ']') {
    return false;
  }
  value = field.substr(prefix.size(), field.size() - prefix.size() - 1);
  return true;
}

char fold(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// Optimal string alignment distance (Levenshtein plus adjacent
// transpositions), ASCII case-insensitive.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::size_t> two_back(m + 1);
  std::vector<std::size_t> previous(m + 1);
  std::vector<std::size_t> current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) {
    previous[j] = j;
  }
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1])) {
        current[j] = std::min(current[j], two_back[j - 2] + 1);
      }
    }
    two_back.swap(previous);
    previous.swap(current);
  }
  return previous[m];
}

} // namespace

bool is_known_bob_field(std::string_view field_id) {
  return std::binary_search(k_standard_bob_fields.begin(), k_standard_bob_fields.end(), field_id)
         || is_custom_bob_field(field_id);
}

const std::vector<std::string_view>& standard_bob_fields() {
  return k_standard_bob_fields;
}

bool is_known_jumpcloud_field(std::string_view field) {
  if (std::find(k_jumpcloud_scalar_fields.begin(), k_jumpcloud_scalar_fields.end(), field)
      != k_jumpcloud_scalar_fields.end()) {
    return true;
  }
  std::string_view value;
  if (bracket_value(field, "phoneNumbers[type=", value)) {
    return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || c == '_';
    });
  }
  if (bracket_value(field, "attributes[name=", value)) {
    return !value.empty() && value.size() < 32
           && std::all_of(value.begin(), value.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0;
              });
  }
  return false;
}

const std::vector<std::string_view>& jumpcloud_scalar_fields() {
  return k_jumpcloud_scalar_fields;
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 0;
  bool found = false;
  for (const auto candidate : candidates) {
    const auto distance = edit_distance(word, candidate);
    if (!found || distance < best_distance) {
      best = candidate;
      best_distance = distance;
      found = true;
    }
  }
  if (!found || word.empty()) {
    return {};
  }
  // Close: a couple of typos, or up to a third of the word; never a total
  // rewrite of a short word.
  const bool close = best_distance <= 2 || best_distance * 3 <= word.size();
  return close && best_distance < word.size() ? best : std::string_view();
}

} // namespace bobsync::policies
