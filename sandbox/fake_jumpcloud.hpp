#pragma once

// A stateful stand-in for JumpCloud's v1 system users API, served over HTTP
// on loopback. Product code: `bobsync sandbox`, tests and benchmarks use it.
// docs/sandbox.md describes its behaviour and what it leaves out.

#include "sandbox/fake_bob.hpp"
#include "sandbox/fault_plan.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bobsync::sandbox {

struct FakeJumpCloudOptions {
  std::string host = "127.0.0.1";
  int port = 0; // 0: ephemeral
  std::string api_key = "sandbox-key";
  std::optional<std::string> org_id;       // when set, x-org-id must match
  std::string default_state = "ACTIVATED"; // for a create without `state`
  bool lowercase_emails = false; // store emails lower-cased (what a 2016 report suggests the
                                 // server did; unconfirmed today, so off by default)
  bool compress = false;         // gzip responses for clients that accept it
  WallClock clock;               // for `created`; default: the system clock
};

// What a listing (GET /systemusers) gets wrong, for tests of a client's
// checks. Set with FakeJumpCloud::set_listing_fault; applies to every
// listing until cleared.
struct ListingFault {
  enum class Kind {
    short_page,    // the page at skip == limit has half its users, later pages none
                   // (fewer users than totalCount)
    wrong_total,   // every page reports totalCount = `total`
    duplicate_ids, // a page after the first starts with the previous page's last user
                   // instead of its own first one (count right, an id twice)
    endless,       // every page is full (users repeated) and reports a totalCount one
                   // page beyond it: the listing never ends
    empty,         // every page is empty with totalCount 0 (as another org would answer)
  };
  Kind kind = Kind::short_page;
  long long total = 0; // wrong_total
};

// Serves, under <base_url> = http://127.0.0.1:<port>/api:
//   GET    /systemusers?limit&skip&sort&fields&filter   {"totalCount", "results"}
//   GET    /systemusers/{id}        (404 {"message": "User not found"})
//   POST   /systemusers             create
//   PUT    /systemusers/{id}        update
//   DELETE /systemusers/{id}
// x-api-key auth (401), x-org-id when configured (401 missing / 400 malformed /
// 404 unknown), limit default 10 and at most 100 (larger values are clamped),
// sort on any field (`-` for descending; default _id), filters
// `field:$op:value` ($eq $ne $gt $gte $lt $lte, case-sensitive; filter[0],
// filter[1], repeated filter= AND; filter[or][n] OR), uniqueness of username
// and email (case-insensitive) and of a non-empty employeeIdentifier (400
// "User already exists ..." on create and update), STAGED only on create,
// `state` and `suspended` kept consistent (400 when a request contradicts
// itself), arrays (phoneNumbers, attributes, ...) replaced whole on PUT,
// username unchangeable, 24-hex `_id`s from a counter (deterministic). Admin
// endpoints under /_admin (loopback peers only) list and edit users behind
// the controller's back. Thread-safe.
class FakeJumpCloud {
public:
  explicit FakeJumpCloud(FakeJumpCloudOptions options = {});
  ~FakeJumpCloud();
  FakeJumpCloud(const FakeJumpCloud&) = delete;
  FakeJumpCloud& operator=(const FakeJumpCloud&) = delete;

  std::string base_url() const; // http://127.0.0.1:<port>/api
  int port() const;

  // Loads users in JumpCloud's own shape (a JSON array of systemuserreturn
  // objects, `_id` optional). Uniqueness is enforced. Throws
  // std::runtime_error naming the problem.
  void load_seed(std::string_view json_text);
  // Adds one user as an administrator would (not an API write): `_id`,
  // `state`/`suspended` defaults filled in. Returns the `_id`. Throws on a
  // duplicate or a malformed user.
  std::string add_user(std::string_view user_json);
  // Changes a user behind the controller's back: top-level keys replace
  // (null removes). Not an API write. False when the id is unknown.
  bool edit_user(const std::string& id, std::string_view patch_json);

  std::optional<std::string> user_json(const std::string& id) const;
  std::vector<std::string> users_json() const; // in _id order
  std::size_t user_count() const;
  void reserve(std::size_t count);

  // API writes applied (POST/PUT/DELETE that changed the store).
  int write_count() const;

  // nullopt clears it.
  void set_listing_fault(std::optional<ListingFault> fault);

  FaultPlan& faults();
  RequestStats& stats();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace bobsync::sandbox
