#pragma once

// A plan as Markdown for a pull-request or merge-request comment
// (`bobsync plan --format markdown`): what a reviewer needs first (blocked,
// conflicts), a table by action, then the changes by action in collapsible
// <details> sections. Deterministic; every value from Bob or JumpCloud is
// escaped, and the text stays under a size limit (GitHub's comment limit is
// 65,536 characters).

#include "state/plan.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace bobsync::state {

struct MarkdownOptions {
  // The most bytes the document may have (bytes >= characters, so this
  // bounds the character count too). Changes that do not fit are left out
  // and counted.
  std::size_t max_bytes = 60000;
  // Where the whole plan is, named when changes are left out: the file of
  // `plan --out` (a CI artifact). Empty: points at `plan --format json`.
  std::string json_artifact;
  // The longest value shown; longer values are cut with "…".
  std::size_t max_value_chars = 200;
};

std::string render_markdown(const Plan& plan, const MarkdownOptions& options = {});

// Text from Bob or JumpCloud made inert in Markdown and HTML (a table cell,
// a list item): HTML metacharacters as entities, Markdown punctuation
// backslash-escaped, `@` and `#` as entities (no mentions or issue links),
// line breaks as <br>, other control characters as spaces.
std::string markdown_escape(std::string_view text);

} // namespace bobsync::state
