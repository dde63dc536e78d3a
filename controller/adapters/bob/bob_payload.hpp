#pragma once

// Pure helpers for Bob's wire format (no HTTP, no JSON library in the header).

#include <string>
#include <string_view>
#include <vector>

namespace bobsync::controller {

// Splits a people-search response (`{"employees": [ {...}, ... ], ...}`) into
// the text of each employee object, as views into `text`, without building a
// document for the whole body (a 100,000-employee answer is ~150 MB). Checks
// the JSON syntax of the whole body as it goes. Returns false and sets `error`
// (with the byte offset) when the body is not a JSON object with an
// `employees` array of objects.
bool split_search_response(std::string_view text,
                           std::vector<std::string_view>& employees,
                           std::string& error);

// Standard Base64 with padding.
std::string base64_encode(std::string_view bytes);

// The value of the Authorization header for HTTP Basic:
// "Basic " + base64("<user>:<token>").
std::string basic_authorization(std::string_view user, std::string_view token);

} // namespace bobsync::controller
