#include "controller/adapters/http/redactor.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace bobsync::controller::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x))
                  == std::tolower(static_cast<unsigned char>(y));
         });
}

} // namespace

Redactor::Redactor(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (!s.empty()) {
      m_secrets.push_back(std::move(s));
    }
  }
  std::sort(m_secrets.begin(), m_secrets.end(), [](const auto& a, const auto& b) {
    return a.size() > b.size();
  });
}

Redactor Redactor::with(std::string secret) const {
  auto secrets = m_secrets;
  secrets.push_back(std::move(secret));
  return Redactor(std::move(secrets));
}

std::string Redactor::redact(std::string_view text) const {
  std::string out(text);
  for (const auto& secret : m_secrets) {
    std::size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  return out;
}

bool Redactor::is_sensitive_header(std::string_view name) {
  static constexpr std::array<std::string_view, 5> k_names = {
      "authorization", "x-api-key", "cookie", "proxy-authorization", "bob-signature"};
  return std::any_of(
      k_names.begin(), k_names.end(), [&](std::string_view n) { return iequals(n, name); });
}

std::string Redactor::describe(const Headers& headers) const {
  std::string out;
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += is_sensitive_header(name) ? std::string("***") : redact(value);
    out += '\n';
  }
  return out;
}

} // namespace bobsync::controller::http
