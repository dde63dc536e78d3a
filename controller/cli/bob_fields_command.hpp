#pragma once

// `bobsync bob fields` (the tenant's Bob field catalogue) and the online part
// of `bobsync validate --online` (the policy's Bob fields checked against
// that catalogue and against what the service user can see).

#include "policies/policy.hpp"
#include "state/diagnostic.hpp"

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

namespace bobsync::controller {
class Clock;
} // namespace bobsync::controller

namespace bobsync::cli {

struct BobFieldsRequest {
  std::string bob_url;    // the policy's source.bob.url after BOB_API_URL, or the default
  std::string url_origin; // "BOB_API_URL", "source.bob.url" or "default"
  std::string search;     // only fields whose id, label or category contain it
  bool json = false;
};

// Lists the catalogue (GET /v1/company/people/fields) as a table or as JSON
// ([{"id","label","category","type","listId"}]). Credentials from
// BOB_SERVICE_USER_ID / BOB_SERVICE_USER_TOKEN. Returns the exit code.
int run_bob_fields(const BobFieldsRequest& request,
                   std::shared_ptr<controller::Clock> clock,
                   std::ostream& out,
                   std::ostream& err);

// The diagnostics of `validate --online` for a valid policy read from
// `policy_text` at `path`: an error for every Bob field the policy reads
// that the tenant's catalogue lacks ("unknown Bob field 'work.departmnt'
// (did you mean 'work.department'?)"), a warning for every catalogued field
// that Bob leaves out of every employee of a people search (the service
// user may not see it). Each at the field's file:line:column (no position
// for a lifecycle field the policy leaves at its default). Throws Fatal when
// Bob cannot be asked (credentials, URL, an API error).
state::Diagnostics check_policy_fields_online(const policies::Policy& policy,
                                              std::string_view policy_text,
                                              const std::string& path,
                                              std::shared_ptr<controller::Clock> clock);

} // namespace bobsync::cli
