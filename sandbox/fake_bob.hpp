#pragma once

// A stateful stand-in for the slice of HiBob's API bobsync uses, served over
// HTTP on loopback. Product code: `bobsync sandbox`, tests and benchmarks use
// it. docs/sandbox.md describes its behaviour and what it leaves out.

#include "sandbox/fake_bob_fields.hpp"
#include "sandbox/fault_plan.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bobsync::sandbox {

// Wall-clock source; tests pass a manual one to drive rate limits and dates.
using WallClock = std::function<std::chrono::system_clock::time_point()>;

// A Bob field value as stored: the machine value (a list-item id for list
// fields), with its JSON type.
struct BobValue {
  enum class Type { null_value, string, number, boolean };
  Type type = Type::null_value;
  std::string text; // string contents; number/boolean as JSON text

  static BobValue null() { return {}; }
  static BobValue string(std::string text) { return {Type::string, std::move(text)}; }
  static BobValue number(std::string json_number) { return {Type::number, std::move(json_number)}; }
  static BobValue boolean(bool value) { return {Type::boolean, value ? "true" : "false"}; }

  bool operator==(const BobValue&) const = default;
};

// One employee: backend id and fields by dot id (`root.email`, `work.title`,
// `payroll.employment.type`). Fields not listed are null.
struct BobEmployee {
  std::string id; // 19-digit string; hire() assigns one when empty
  std::vector<std::pair<std::string, BobValue>> fields;

  const BobValue* find(std::string_view field) const;
  void set(std::string_view field, BobValue value);
};

// A v2 webhook the fake sent (or tried to send).
struct SentWebhook {
  std::string type; // employee.created, employee.updated, ...
  std::string employee_id;
  std::string body;      // exact bytes sent
  std::string signature; // Bob-Signature header
  int status = 0;        // HTTP status from the receiver; 0 when not delivered
  std::string error;     // why delivery failed
};

struct FakeBobOptions {
  std::string host = "127.0.0.1";
  int port = 0; // 0: ephemeral
  std::string service_user_id = "sandbox-user";
  std::string service_user_token = "sandbox-token";
  int search_requests_per_minute = 50; // POST /people/search; 0 disables the limit
  WallClock clock;                     // default: the system clock
  std::string webhook_url;             // where admin changes are announced; empty: none
  std::string webhook_secret = "sandbox-webhook-secret";
  long long company_id = 636192;
};

// Serves, under <base_url> = http://127.0.0.1:<port>/v1:
//   POST /people/search  {"fields", "filters", "showInactive", "humanReadable"}
//   POST /people/{id}    {"fields", "humanReadable"}   (id or email; 404 when unknown)
//   GET  /company/people/fields   the field catalogue (fake_bob_fields.hpp), hidden
//                                 fields included (metadata needs no data permission)
// with HTTP Basic service-user auth (401 otherwise), both response shapes
// (nested and flat "/cat/field": {"value"} for non-null values), a
// humanReadable node (list items by name, dates DD/MM/YYYY), only requested
// fields, showInactive=false hiding Inactive employees, hidden fields
// silently omitted (the service-user permission trap), and the 50
// requests/minute limit on search (429 + X-RateLimit-* headers). Admin
// endpoints under /_admin (loopback peers only, no auth) and the C++ methods
// below change employees and send signed v2 webhooks. Thread-safe.
class FakeBob {
public:
  explicit FakeBob(FakeBobOptions options = {});
  ~FakeBob();
  FakeBob(const FakeBob&) = delete;
  FakeBob& operator=(const FakeBob&) = delete;

  std::string base_url() const; // http://127.0.0.1:<port>/v1
  int port() const;

  // Loads the seed authoring format (docs/sandbox.md): {"companyId", "lists",
  // "hiddenFields", "fields" (catalogue entries {id, name, category, type,
  // listId, historical}, added to the catalogue), "employees": [{"id", "<dot field>": value,
  // ...}]}. Adds to what is there. Throws std::runtime_error naming the problem.
  void load_seed(std::string_view json_text);

  // Human-readable names of a list field's items (item id -> name).
  void define_list(const std::string& field_id,
                   const std::vector<std::pair<std::string, std::string>>& items);
  // The field catalogue (default_field_catalogue() at first): adds a field
  // or replaces the one with the same id; removes one.
  void add_field(BobFieldMeta field);
  void remove_field(const std::string& field_id);
  std::vector<BobFieldMeta> field_catalogue() const;

  // The service user "may not see" this field: it is omitted from responses.
  void hide_field(const std::string& field_id);
  void show_field(const std::string& field_id);

  // Adds or replaces an employee without a webhook (arranging a test).
  void put_employee(BobEmployee employee);
  std::optional<BobEmployee> employee(const std::string& id) const;
  std::vector<BobEmployee> employees() const;
  std::size_t employee_count() const;
  void reserve(std::size_t count);

  // Admin operations. Each sends a signed v2 webhook when a URL is set and
  // returns after delivery was attempted.
  // New employee; lifecycle (internal.status/lifecycleStatus) derived from
  // work.startDate when not given. Returns the id. Sends employee.created
  // (+ employee.joined when the start date has come).
  std::string hire(BobEmployee employee);
  // Sets fields; sends employee.updated with data.fieldUpdates. False if unknown.
  bool change(const std::string& id, const std::vector<std::pair<std::string, BobValue>>& fields);
  // Sets internal.terminationDate (+ employee.lastDayOfWork); when the date
  // has come, lifecycle "terminated" and status Inactive. Sends
  // table.entry.created (lifecycle) and, when effective, employee.left.
  bool terminate(const std::string& id,
                 const std::string& termination_date,
                 const std::optional<std::string>& last_day_of_work = std::nullopt);
  // Deletes; sends employee.deleted.
  bool remove(const std::string& id);

  void set_webhook(std::string url, std::string secret);
  std::vector<SentWebhook> webhooks() const;

  FaultPlan& faults();
  RequestStats& stats();
  // People searches answered (any status).
  int search_count() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace bobsync::sandbox
