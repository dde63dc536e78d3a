#pragma once

// Email addresses that only look alike (Unicode TS #39 confusables): an HR
// record whose address reads like someone else's, with a Cyrillic "а" for a
// Latin "a" or a Kelvin sign for a "K", gets an account of its own (it is
// another address), and the plan says so in a warning a reviewer can see.

#include "state/model.hpp"
#include "state/plan.hpp"

#include <vector>

namespace bobsync::policies {

// For every create of `plan` whose email differs (ignoring case) from an
// existing JumpCloud user's, or from another create's, but has the same
// confusable skeleton (ICU's spoof checker), adds a warning to
// plan.diagnostics naming both addresses, the user or employee it could be
// taken for, and the code points beyond ASCII. Costs nothing when the plan
// has no create.
void warn_lookalike_emails(state::Plan& plan, const std::vector<state::DirectoryUser>& users);

} // namespace bobsync::policies
