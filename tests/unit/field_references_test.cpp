#include "policies/field_references.hpp"

#include <gtest/gtest.h>

namespace bobsync::policies {
namespace {

TEST(FieldReferences, FindsEveryBobFieldWithItsPosition) {
  const std::string yaml = "version: 1\n"
                           "scope:\n"
                           "  include:\n"
                           "    fields: {work.custom.field_1: [x]}\n"
                           "  exclude:\n"
                           "    - fields:\n"
                           "        work.site: [Paris]\n"
                           "mapping:\n"
                           "  - target: email\n"
                           "    source: root.email\n"
                           "  - target: displayname\n"
                           "    sources: [root.firstName, root.surname]\n"
                           "lifecycle:\n"
                           "  fields:\n"
                           "    startDate: work.startDat\n";
  const auto refs = bob_field_references(yaml, "p.yaml");
  ASSERT_EQ(refs.size(), 6U);
  auto expect =
      [&](std::size_t i, const std::string& field, const std::string& key, int line, int col) {
        EXPECT_EQ(refs[i].field, field);
        EXPECT_EQ(refs[i].key, key);
        EXPECT_EQ(refs[i].where, (state::SourceLocation{"p.yaml", line, col})) << field;
      };
  expect(0, "root.email", "mapping[0].source", 10, 13);
  expect(1, "root.firstName", "mapping[1].sources[0]", 12, 15);
  expect(2, "root.surname", "mapping[1].sources[1]", 12, 31);
  expect(3, "work.custom.field_1", "scope.include.fields", 4, 14);
  expect(4, "work.site", "scope.exclude[0].fields", 7, 9);
  expect(5, "work.startDat", "lifecycle.fields.startDate", 15, 16);
}

TEST(FieldReferences, NotYamlGivesNothing) {
  EXPECT_TRUE(bob_field_references("a: [unclosed", "p.yaml").empty());
  EXPECT_TRUE(bob_field_references("- just\n- a list\n", "p.yaml").empty());
}

} // namespace
} // namespace bobsync::policies
