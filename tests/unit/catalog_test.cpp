#include "policies/catalog.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace bobsync::policies {
namespace {

struct FieldCase {
  const char* field;
  bool known;
};

class CatalogBobField : public testing::TestWithParam<FieldCase> {};

TEST_P(CatalogBobField, IsKnownOrNot) {
  EXPECT_EQ(is_known_bob_field(GetParam().field), GetParam().known) << GetParam().field;
}

INSTANTIATE_TEST_SUITE_P(
    Catalog,
    CatalogBobField,
    testing::Values(
        // Bob's default JumpCloud mapping and the lifecycle fields.
        FieldCase{"root.email", true},
        FieldCase{"root.displayName", true},
        FieldCase{"root.secondName", true},
        FieldCase{"work.workMobile", true},
        FieldCase{"work.employeeIdInCompany", true},
        FieldCase{"payroll.employment.type", true},
        FieldCase{"internal.terminationDate", true},
        FieldCase{"internal.lifecycleStatus", true},
        FieldCase{"employee.lastDayOfWork", true},
        FieldCase{"work.reportsTo.email", true},
        FieldCase{"work.secondLevelManager", true},
        FieldCase{"home.mobilePhone", true},
        FieldCase{"address.city", true},
        FieldCase{"about.socialData.linkedin", true},
        // Custom fields and custom table columns, by pattern.
        FieldCase{"work.custom.field_1644932887286", true},
        FieldCase{"root.custom.field_abc_1", true},
        FieldCase{"financial.custom.field_X9", true},
        FieldCase{"work.customColumns.column_1639495541396", true},
        FieldCase{"payroll.customColumns.column_a", true},
        // Not fields.
        FieldCase{"", false},
        FieldCase{"email", false},
        FieldCase{"root.emial", false},
        FieldCase{"work.mobile", false}, // a common mistake: it is work.workMobile
        FieldCase{"Root.email", false},
        FieldCase{"work.custom.field_", false},
        FieldCase{"work.custom.field_1.x", false},
        FieldCase{"work.custom.field-1", false},
        FieldCase{"work.customColumns.column_", false},
        FieldCase{"eeo.custom.field_1", false}, // not a custom-field category
        FieldCase{"work.custom.other_1", false},
        FieldCase{"/work/title", false}),
    [](const testing::TestParamInfo<FieldCase>& case_info) {
      std::string name = case_info.param.field;
      std::replace_if(
          name.begin(), name.end(), [](char c) { return std::isalnum(c) == 0; }, '_');
      return (case_info.param.known ? "known_" : "unknown_") + name + "_"
             + std::to_string(case_info.index);
    });

TEST(CatalogBobFields, StandardListIsSortedUniqueAndKnown) {
  const auto& fields = standard_bob_fields();

  EXPECT_TRUE(std::is_sorted(fields.begin(), fields.end()));
  EXPECT_EQ(std::adjacent_find(fields.begin(), fields.end()), fields.end());
  EXPECT_GT(fields.size(), 50U);
  for (const auto field : fields) {
    EXPECT_TRUE(is_known_bob_field(field)) << field;
  }
}

// Every field of the people-search request in shared/specs/hibob/NOTES.md §2.2.
TEST(CatalogBobFields, CoverTheSearchRequestOfTheBobNotes) {
  for (const char* field : {"root.id",
                            "root.email",
                            "root.firstName",
                            "root.surname",
                            "root.displayName",
                            "root.secondName",
                            "work.title",
                            "work.department",
                            "work.site",
                            "work.siteId",
                            "work.startDate",
                            "work.employeeIdInCompany",
                            "work.reportsTo",
                            "work.manager",
                            "work.workPhone",
                            "work.workMobile",
                            "home.mobilePhone",
                            "payroll.employment.type",
                            "internal.status",
                            "internal.lifecycleStatus",
                            "internal.terminationDate",
                            "employee.lastDayOfWork"}) {
    EXPECT_TRUE(is_known_bob_field(field)) << field;
  }
}

class CatalogJumpCloudField : public testing::TestWithParam<FieldCase> {};

TEST_P(CatalogJumpCloudField, IsKnownOrNot) {
  EXPECT_EQ(is_known_jumpcloud_field(GetParam().field), GetParam().known) << GetParam().field;
}

INSTANTIATE_TEST_SUITE_P(
    Catalog,
    CatalogJumpCloudField,
    testing::Values(FieldCase{"email", true},
                    FieldCase{"username", true},
                    FieldCase{"jobTitle", true},
                    FieldCase{"employeeIdentifier", true},
                    FieldCase{"managedAppleId", true},
                    FieldCase{"phoneNumbers[type=work]", true},
                    FieldCase{"phoneNumbers[type=work_mobile]", true},
                    FieldCase{"attributes[name=costCode]", true},
                    FieldCase{"attributes[name=a]", true},
                    FieldCase{"attributes[name=abcdefghijabcdefghijabcdefghij1]", true}, // 31
                    FieldCase{"attributes[name=abcdefghijabcdefghijabcdefghij12]", false},
                    FieldCase{"attributes[name=]", false},
                    FieldCase{"attributes[name=cost-code]", false},
                    FieldCase{"attributes[name=cost code]", false},
                    FieldCase{"attributes[costCode]", false},
                    FieldCase{"phoneNumbers[type=]", false},
                    FieldCase{"phoneNumbers[type=Work]", false},
                    FieldCase{"phoneNumbers[type=work2]", false},
                    FieldCase{"phoneNumbers[type=work", false},
                    FieldCase{"jobtitle", false},
                    FieldCase{"_id", false},
                    FieldCase{"state", false},
                    FieldCase{"", false}),
    [](const testing::TestParamInfo<FieldCase>& case_info) {
      return std::string(case_info.param.known ? "known_" : "unknown_")
             + std::to_string(case_info.index);
    });

struct ClosestCase {
  const char* word;
  std::vector<std::string_view> candidates;
  const char* expected;
};

class CatalogClosest : public testing::TestWithParam<ClosestCase> {};

TEST_P(CatalogClosest, SuggestsOnlyCloseWords) {
  const auto& c = GetParam();
  EXPECT_EQ(closest(c.word, c.candidates), c.expected) << c.word;
}

const std::vector<std::string_view> k_keys = {
    "version", "source", "target", "scope", "mapping", "lifecycle", "safety", "schedule"};

INSTANTIATE_TEST_SUITE_P(
    Catalog,
    CatalogClosest,
    testing::Values(
        ClosestCase{"mapings", k_keys, "mapping"},     // deletion
        ClosestCase{"lifecylce", k_keys, "lifecycle"}, // transposition
        ClosestCase{"Safety", k_keys, "safety"},       // case only
        ClosestCase{"schedules", k_keys, "schedule"},  // insertion
        ClosestCase{"taget", k_keys, "target"},        // deletion
        ClosestCase{"credentials", k_keys, ""},        // nothing close
        ClosestCase{"xy", k_keys, ""},                 // too short to guess
        ClosestCase{"", k_keys, ""},                   // empty word
        ClosestCase{"mapping", {}, ""},                // no candidates
        ClosestCase{"sanitiseUsername", {"sanitizeUsername", "trim"}, "sanitizeUsername"},
        ClosestCase{"normalizeDiacritic", {"normalizeDiacritics"}, "normalizeDiacritics"},
        ClosestCase{"work.dept", {"work.department"}, ""}, // 6 edits in 9
        ClosestCase{
            "payroll.employment.typ", {"payroll.employment.type"}, "payroll.employment.type"}),
    [](const testing::TestParamInfo<ClosestCase>& case_info) {
      return "case_" + std::to_string(case_info.index);
    });

TEST(CatalogClosest, AllowsAThirdOfALongWord) {
  // 3 edits in a 21-character word: within a third of its length.
  EXPECT_EQ(closest("internl.terminatonDte", {"internal.terminationDate"}),
            "internal.terminationDate");
  // 5 edits in a 20-character word.
  EXPECT_EQ(closest("work.department_name", {"work.department"}), "work.department");
  // 3 edits in a 6-character word: too many.
  EXPECT_EQ(closest("sxurxx", {"source"}), "");
  // The nearest of several candidates wins.
  EXPECT_EQ(closest("root.emai", {"root.id", "root.email", "root.state"}), "root.email");
}

TEST(CatalogJumpCloudFields, ScalarListIsKnown) {
  const auto& fields = jumpcloud_scalar_fields();

  EXPECT_EQ(fields.size(), 17U);
  for (const auto field : fields) {
    EXPECT_TRUE(is_known_jumpcloud_field(field)) << field;
  }
}

} // namespace
} // namespace bobsync::policies
