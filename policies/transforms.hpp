#pragma once

// Transforms applied to Bob values on their way to JumpCloud. Pure functions;
// transliteration uses ICU.

#include "policies/policy.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::policies {

// Applies a chain to the values read from a mapping's sources and returns the
// final string. Elementwise steps apply to every element; `join` merges them.
// If more than one element is left at the end they are joined with a space.
std::string apply_transforms(std::vector<std::string> values,
                             const std::vector<Transform>& chain,
                             const Usernames& usernames);

// The same for a mapping with one source (or a constant): no list to build.
std::string apply_transforms(std::string value,
                             const std::vector<Transform>& chain,
                             const Usernames& usernames);

// Why a `replace` step cannot be used: its pattern is not a valid RE2
// regular expression (RE2 syntax: no backreferences or lookaround; matching
// takes time linear in the value), or `with` names a group ($1..$9) the
// pattern does not have. nullopt when it can be used.
std::optional<std::string> check_replace(const std::string& pattern, const std::string& with);

// Strips diacritics and folds Latin ligatures/special letters (José -> Jose,
// Straße -> Strasse, Łukasz -> Lukasz). Other scripts are kept as they are.
std::string normalize_diacritics(std::string_view text);

// Any script to ASCII (ICU Any-Latin; Latin-ASCII), lowercase, spaces become
// '.', only [a-z0-9._-], no leading/trailing or doubled separators, starts
// with a letter (leading digits/separators dropped), at most `max_length`
// characters. "José Núñez" -> "jose.nunez", "Иван Петров" -> "ivan.petrov".
// Returns "" when nothing usable is left.
std::string sanitize_username(std::string_view text, int max_length);

// ASCII lowercase / uppercase of UTF-8 text (full Unicode case mapping).
std::string to_lower(std::string_view text);
std::string to_upper(std::string_view text);
std::string trim(std::string_view text);
// The same as a view into `text`.
std::string_view trim_view(std::string_view text);

} // namespace bobsync::policies
