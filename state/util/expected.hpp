#pragma once

// A small subset of C++23 std::expected: g++ 12 in C++20 mode has no <expected>.

#include <cassert>
#include <utility>
#include <variant>

namespace bobsync {

template<typename E> struct Unexpected { E error; };

template<typename E> Unexpected<E> unexpected(E error) {
  return Unexpected<E>{std::move(error)};
}

// Holds either a value or an error. Accessing the wrong alternative is a bug
// (asserted), not an exception.
template<typename T, typename E> class Expected {
public:
  Expected(T value) // NOLINT(google-explicit-constructor): mirrors std::expected
      : m_data(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected<E> error) // NOLINT(google-explicit-constructor)
      : m_data(std::in_place_index<1>, std::move(error.error)) {}

  bool has_value() const { return m_data.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(m_data);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(m_data);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(m_data));
  }
  const E& error() const {
    assert(!has_value());
    return std::get<1>(m_data);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

private:
  std::variant<T, E> m_data;
};

} // namespace bobsync
