#include "state/position_index.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bobsync::state {
namespace {

template<typename Index> std::vector<std::size_t> all(const Index& index, std::string_view key) {
  std::vector<std::size_t> out;
  for (std::size_t p : index.find(key)) {
    out.push_back(p);
  }
  return out;
}

TEST(PositionIndex, FindsEveryPositionOfAKeyInTheOrderAdded) {
  PositionIndex<ExactHash, ExactEqual> index;
  index.add("a", 3);
  index.add("b", 1);
  index.add("a", 0);
  index.add("a", 7);
  EXPECT_EQ(all(index, "a"), (std::vector<std::size_t>{3, 0, 7}));
  EXPECT_EQ(index.find("a").size(), 3u);
  EXPECT_EQ(index.find("a").front(), 3u);
  EXPECT_EQ(all(index, "b"), (std::vector<std::size_t>{1}));
  EXPECT_TRUE(index.find("c").empty());
  EXPECT_FALSE(index.contains("A"));
}

TEST(PositionIndex, AnEmptyIndexFindsNothing) {
  const PositionIndex<ExactHash, ExactEqual> index;
  EXPECT_TRUE(index.find("").empty());
  EXPECT_EQ(index.find("x").begin(), index.find("x").end());
}

TEST(PositionIndex, FoldedKeysIgnoreAsciiCaseOnly) {
  PositionIndex<FoldedHash, FoldedEqual> index;
  index.add("Ada@Example.com", 0);
  index.add("ada@example.COM", 1);
  index.add("\xc3\x89mile@example.com", 2); // É is not ASCII: kept as it is
  EXPECT_EQ(all(index, "ADA@EXAMPLE.COM"), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(all(index, "\xc3\x89MILE@example.com"), (std::vector<std::size_t>{2}));
  EXPECT_TRUE(index.find("\xc3\xa9mile@example.com").empty());
}

TEST(PositionIndex, GrowsPastWhatWasReservedWithoutLosingKeys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back("user" + std::to_string(i));
  }
  PositionIndex<ExactHash, ExactEqual> index;
  index.reserve(3);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    index.add(keys[i], i);
    if (i % 10 == 0) {
      index.add(keys[i], i + 100000); // some keys repeat
    }
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto expected =
        i % 10 == 0 ? std::vector<std::size_t>{i, i + 100000} : std::vector<std::size_t>{i};
    ASSERT_EQ(all(index, keys[i]), expected) << keys[i];
  }
  EXPECT_TRUE(index.find("user5000").empty());
}

TEST(PositionIndex, ListsTheRepeatedKeysOnly) {
  PositionIndex<FoldedHash, FoldedEqual> index;
  index.add("x@a.com", 0);
  index.add("y@a.com", 1);
  index.add("X@A.com", 2);
  index.add("z@a.com", 3);
  index.add("Y@a.com", 4);
  index.add("y@A.com", 5);
  std::vector<std::pair<std::string, std::vector<std::size_t>>> repeated;
  index.for_each_repeated([&](std::string_view key, const auto& positions) {
    std::vector<std::size_t> list(positions.begin(), positions.end());
    repeated.emplace_back(std::string(key), list);
  });
  std::sort(repeated.begin(), repeated.end());
  ASSERT_EQ(repeated.size(), 2u);
  EXPECT_EQ(repeated[0], (std::pair<std::string, std::vector<std::size_t>>{"x@a.com", {0, 2}}));
  EXPECT_EQ(repeated[1], (std::pair<std::string, std::vector<std::size_t>>{"y@a.com", {1, 4, 5}}));
}

} // namespace
} // namespace bobsync::state
