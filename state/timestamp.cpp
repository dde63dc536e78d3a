#include "state/timestamp.hpp"

namespace bobsync::state {
namespace {

// The number made of text[pos, pos + n) if all are digits.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') {
      return std::nullopt;
    }
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

} // namespace

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  const auto y = digits(text, 0, 4);
  const auto mo = digits(text, 5, 2);
  const auto d = digits(text, 8, 2);
  if (!y || !mo || !d || text.size() < 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  const year_month_day ymd{
      year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  const sys_days date{ymd};
  if (text.size() == 10) {
    return date + hours{12};
  }
  const auto h = digits(text, 11, 2);
  const auto mi = digits(text, 14, 2);
  const auto s = digits(text, 17, 2);
  if (text[10] != 'T' || !h || !mi || !s || text[13] != ':' || text[16] != ':' || *h > 23
      || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  const auto local = date + hours{*h} + minutes{*mi} + seconds{*s};
  const auto zone = text.substr(19);
  if (zone.empty() || zone == "Z") {
    return local;
  }
  const auto oh = digits(zone, 1, 2);
  const auto om = digits(zone, 4, 2);
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || !oh || !om
      || *oh > 23 || *om > 59) {
    return std::nullopt;
  }
  const minutes offset{*oh * 60 + *om};
  return zone[0] == '+' ? local - offset : local + offset;
}

} // namespace bobsync::state
