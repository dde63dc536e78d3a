#pragma once

// PositionIndex: string keys to the positions (indexes into some input
// vector) that hold them. The planner builds several per pass over 100,000
// users; each is a few flat vectors instead of one allocated node per key.

#include "state/util/ascii.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

namespace bobsync::state {

struct ExactHash {
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct ExactEqual {
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};
// Emails compare without regard to ASCII case (FNV-1a over lowercased bytes).
struct FoldedHash {
  std::size_t operator()(std::string_view s) const {
    std::uint64_t h = 1469598103934665603ULL;
    for (char c : s) {
      h ^= static_cast<unsigned char>(ascii_fold(c));
      h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};
struct FoldedEqual {
  bool operator()(std::string_view a, std::string_view b) const { return ascii_iequals(a, b); }
};

// Positions by key, built once and then only read (there is no erase). Keys
// are views: what they point into must outlive the index. A key added more
// than once keeps all its positions, in the order added. What `find`
// returns is valid until the next `add`.
namespace index_detail {

inline constexpr std::uint32_t k_end = std::numeric_limits<std::uint32_t>::max();

struct Item {
  std::uint32_t position;
  std::uint32_t next; // the key's next item, or k_end
};

// One distinct key.
struct Key {
  std::string_view text;
  std::uint32_t count = 0;
  std::uint32_t head = k_end;
  std::uint32_t tail = k_end;
};

// One key's positions, in the order added.
class Positions {
public:
  class iterator {
  public:
    using value_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const std::vector<Item>* items, std::uint32_t at)
        : m_items(items),
          m_at(at) {}
    std::size_t operator*() const { return (*m_items)[m_at].position; }
    iterator& operator++() {
      m_at = (*m_items)[m_at].next;
      return *this;
    }
    iterator operator++(int) {
      auto old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& other) const { return m_at == other.m_at; }

  private:
    const std::vector<Item>* m_items = nullptr;
    std::uint32_t m_at = k_end;
  };

  Positions() = default;
  Positions(const std::vector<Item>* items, const Key* key)
      : m_items(items),
        m_key(key) {}
  iterator begin() const { return m_key != nullptr ? iterator(m_items, m_key->head) : iterator(); }
  iterator end() const { return {}; }
  std::size_t size() const { return m_key != nullptr ? m_key->count : 0; }
  bool empty() const { return size() == 0; }
  std::size_t front() const { return *begin(); }

private:
  const std::vector<Item>* m_items = nullptr;
  const Key* m_key = nullptr;
};

} // namespace index_detail

// An open-addressing table of 8-byte slots (hash, key number) over a dense
// list of distinct keys and a list of positions: for 100,000 keys about
// 6 MB and a handful of allocations.
template<typename Hash, typename Equal> class PositionIndex {
  using Item = index_detail::Item;
  using Key = index_detail::Key;
  static constexpr std::uint32_t k_end = index_detail::k_end;
  struct Slot {
    std::uint32_t hash = 0;
    std::uint32_t key = 0; // 1 + index into m_keys; 0: free
  };

public:
  using Positions = index_detail::Positions;

  void reserve(std::size_t n) {
    m_items.reserve(n);
    m_keys.reserve(n);
    if (capacity_for(n) > m_slots.size()) {
      rehash(capacity_for(n));
    }
  }

  void add(std::string_view text, std::size_t position) {
    if (capacity_for(m_keys.size() + 1) > m_slots.size()) {
      rehash(std::max<std::size_t>(16, m_slots.size() * 2));
    }
    const auto hash = static_cast<std::uint32_t>(Hash{}(text));
    Slot& slot = m_slots[locate(text, hash)];
    if (slot.key == 0) {
      m_keys.push_back({text, 0, k_end, k_end});
      slot = {hash, static_cast<std::uint32_t>(m_keys.size())};
    }
    Key& key = m_keys[slot.key - 1];
    const auto item = static_cast<std::uint32_t>(m_items.size());
    m_items.push_back({static_cast<std::uint32_t>(position), k_end});
    if (key.count == 0) {
      key.head = item;
    } else {
      m_items[key.tail].next = item;
    }
    key.tail = item;
    ++key.count;
  }

  Positions find(std::string_view text) const {
    if (m_slots.empty()) {
      return {};
    }
    const Slot& slot = m_slots[locate(text, static_cast<std::uint32_t>(Hash{}(text)))];
    return slot.key == 0 ? Positions() : Positions(&m_items, &m_keys[slot.key - 1]);
  }
  bool contains(std::string_view text) const { return !find(text).empty(); }

  // Calls f(key, positions) for every key added more than once, in the order
  // the keys were first added.
  template<typename F> void for_each_repeated(F&& f) const {
    for (const auto& key : m_keys) {
      if (key.count > 1) {
        f(key.text, Positions(&m_items, &key));
      }
    }
  }

private:
  // At most half full: short probe sequences.
  static std::size_t capacity_for(std::size_t n) { return std::bit_ceil(n * 2 + 1); }

  // The slot holding `text`, or the free slot where it belongs.
  std::size_t locate(std::string_view text, std::uint32_t hash) const {
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
      const Slot& slot = m_slots[at];
      if (slot.key == 0 || (slot.hash == hash && Equal{}(m_keys[slot.key - 1].text, text))) {
        return at;
      }
    }
  }

  void rehash(std::size_t capacity) {
    std::vector<Slot> old(capacity);
    old.swap(m_slots);
    const std::size_t mask = m_slots.size() - 1;
    for (const auto& slot : old) {
      if (slot.key == 0) {
        continue;
      }
      std::size_t at = slot.hash & mask;
      while (m_slots[at].key != 0) {
        at = (at + 1) & mask;
      }
      m_slots[at] = slot;
    }
  }

  std::vector<Slot> m_slots;
  std::vector<Key> m_keys;
  std::vector<Item> m_items;
};

} // namespace bobsync::state
