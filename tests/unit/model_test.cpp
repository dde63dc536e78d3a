#include "state/model.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bobsync::state {
namespace {

TEST(FlatMap, KeepsKeysSortedWhateverTheInsertionOrder) {
  FlatMap<int> map;
  for (const auto* key : {"work.title", "root.email", "zeta", "alpha", "root.displayName"}) {
    map.set(key, static_cast<int>(map.size()));
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) {
    keys.emplace_back(key);
  }
  EXPECT_EQ(
      keys,
      (std::vector<std::string>{"alpha", "root.displayName", "root.email", "work.title", "zeta"}));
  ASSERT_NE(map.find("zeta"), nullptr);
  EXPECT_EQ(*map.find("zeta"), 2);
  EXPECT_EQ(map.find("missing"), nullptr);
}

TEST(FlatMap, OverwritesAndErases) {
  FlatMap<std::string> map{{"b", "1"}, {"a", "2"}};
  map.set("b", "3");
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(*map.find("b"), "3");
  EXPECT_TRUE(map.erase("a"));
  EXPECT_FALSE(map.erase("a"));
  EXPECT_EQ(map, (FlatMap<std::string>{{"b", "3"}}));
}

TEST(FlatMap, KeysOutliveTheStringsTheyWereSetFrom) {
  FlatMap<std::string> map;
  {
    std::string key = "attributes[name=";
    key += "costCode]";
    map.set(key, "CC-1");
    key.assign(key.size(), 'x'); // the map must not have kept a view of this buffer
  }
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map.begin()->first, "attributes[name=costCode]");
}

// Small maps are scanned, large ones searched: both find exactly the keys
// set, by content (a key asked for from another buffer, a prefix, a longer
// name with the same start, the empty key).
TEST(FlatMap, FindsByContentWhateverTheSize) {
  for (const int size : {0, 1, 20, 48, 49, 200}) {
    FlatMap<int> map;
    for (int i = 0; i < size; ++i) {
      map.set("work.custom.field_" + std::to_string(i), i);
    }
    for (int i = 0; i < size; ++i) {
      const std::string key = "work.custom.field_" + std::to_string(i);
      ASSERT_NE(map.find(key), nullptr) << size << " " << key;
      EXPECT_EQ(*map.find(key), i);
    }
    EXPECT_EQ(map.find("work.custom.field_"), nullptr) << size;
    EXPECT_EQ(map.find("work.custom.field_0x"), nullptr) << size;
    EXPECT_EQ(map.find("work.custom.field_" + std::to_string(size)), nullptr) << size;
    EXPECT_EQ(map.find(""), nullptr) << size;
  }
  FlatMap<int> with_empty{{"", 7}, {"a", 1}};
  ASSERT_NE(with_empty.find(std::string()), nullptr);
  EXPECT_EQ(*with_empty.find(std::string()), 7);
}

TEST(InternFieldName, EqualNamesShareOneCopy) {
  const std::string a = "phoneNumbers[type=work_mobile]";
  const std::string b = a; // a different buffer with the same content
  const auto ia = intern_field_name(a);
  const auto ib = intern_field_name(b);
  EXPECT_EQ(ia, a);
  EXPECT_EQ(ia.data(), ib.data());
  EXPECT_NE(ia.data(), a.data());
  EXPECT_EQ(intern_field_name(""), "");
  // Names that fall in one slot of the per-thread cache still stay apart.
  EXPECT_EQ(intern_field_name("ab"), "ab");
  EXPECT_EQ(intern_field_name("ba"), "ba");
  EXPECT_EQ(intern_field_name("ab").data(), intern_field_name(std::string("ab")).data());
}

TEST(FieldName, HoldsTheInternedCopyOfATemporary) {
  FieldName name;
  EXPECT_TRUE(name.empty());
  {
    std::string text = "attributes[name=";
    text += "costCode]";
    name = text;
    text.assign(text.size(), 'x'); // the name must not be a view of this buffer
  }
  EXPECT_EQ(name, "attributes[name=costCode]");
  EXPECT_EQ(name.view().data(), intern_field_name("attributes[name=costCode]").data());
  EXPECT_EQ(name.size(), 25U);
}

TEST(FieldName, ComparesByContent) {
  const FieldName a = "department";
  const FieldName b = std::string("jobTitle");
  EXPECT_LT(a, b);
  EXPECT_EQ(a, std::string_view("department"));
  EXPECT_EQ(a, std::string("department"));
  EXPECT_NE(a, b);
  std::ostringstream out;
  out << a << '|' << b;
  EXPECT_EQ(out.str(), "department|jobTitle");
}

TEST(FlatMap, ShrinkToFitKeepsTheEntries) {
  FlatMap<std::string> map;
  for (int i = 0; i < 21; ++i) {
    map.set("field." + std::to_string(100 + i), std::to_string(i));
  }
  map.shrink_to_fit();
  ASSERT_EQ(map.size(), 21U);
  EXPECT_EQ(map.entries().capacity(), 21U);
  EXPECT_EQ(*map.find("field.120"), "20");
}

TEST(InternFieldName, IsSafeFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string_view>> seen(4);
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&seen, t] {
      for (int i = 0; i < 2000; ++i) {
        seen[t].push_back(intern_field_name("thread.field." + std::to_string(i % 300)));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (std::size_t t = 1; t < seen.size(); ++t) {
    ASSERT_EQ(seen[t].size(), seen[0].size());
    for (std::size_t i = 0; i < seen[0].size(); ++i) {
      ASSERT_EQ(seen[t][i].data(), seen[0][i].data()) << i;
      ASSERT_EQ(seen[t][i], "thread.field." + std::to_string(i % 300));
    }
  }
}

} // namespace
} // namespace bobsync::state
