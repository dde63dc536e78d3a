#include "sandbox/fake_jumpcloud.hpp"

#include "sandbox/server_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace bobsync::sandbox {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::size_t k_max_page = 100;
constexpr std::size_t k_default_page = 10;

// String fields JumpCloud documents for system users, with their maximum length.
constexpr std::array<std::pair<std::string_view, std::size_t>, 16> k_string_fields = {{
    {"email", 1024},
    {"username", 1024},
    {"firstname", 1024},
    {"lastname", 1024},
    {"middlename", 1024},
    {"displayname", 1024},
    {"jobTitle", 1024},
    {"department", 1024},
    {"employeeIdentifier", 256},
    {"employeeType", 1024},
    {"costCenter", 1024},
    {"company", 1024},
    {"location", 1024},
    {"description", 1024},
    {"manager", 1024},
    {"alternateEmail", 1024},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

class ApiFailure : public std::runtime_error {
public:
  ApiFailure(int status, const std::string& message)
      : std::runtime_error(message),
        m_status(status) {}
  int status() const { return m_status; }

private:
  int m_status;
};

std::string error_json(int status, const std::string& message) {
  const char* code = status == 400   ? "INVALID_ARGUMENT"
                     : status == 401 ? "UNAUTHENTICATED"
                     : status == 403 ? "PERMISSION_DENIED"
                     : status == 404 ? "NOT_FOUND"
                                     : "UNKNOWN";
  return "{\"code\":" + std::to_string(status) + ",\"message\":" + detail::json_quote(message)
         + ",\"status\":\"" + code + "\"}";
}

std::optional<std::string> scalar_text(const ojson& value) {
  if (value.is_null()) {
    return std::nullopt;
  }
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_boolean()) {
    return std::string(value.get<bool>() ? "true" : "false");
  }
  if (value.is_number()) {
    return value.dump();
  }
  return value.dump();
}

bool is_hex24(std::string_view id) {
  return id.size() == 24 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A user as stored: its compact JSON as returned, which always starts with
// {"_id":"<24 hex>" (so the id needs no copy of its own).
struct StoredUser {
  std::string text;

  std::string_view id() const { return std::string_view(text).substr(8, 24); }
};

constexpr std::string_view k_id_prefix = "{\"_id\":\"";

// The unique values of a user: username and email lower-cased, the
// employeeIdentifier as it is ("" when absent).
struct Keys {
  std::string username;
  std::string email;
  std::string employee_identifier;
};

Keys keys_of(const ojson& user) {
  Keys keys;
  keys.username = lower(user.value("username", std::string()));
  keys.email = lower(user.value("email", std::string()));
  if (user.contains("employeeIdentifier") && user["employeeIdentifier"].is_string()) {
    keys.employee_identifier = user["employeeIdentifier"].get<std::string>();
  }
  return keys;
}

enum class Op { eq, ne, gt, gte, lt, lte };

struct Term {
  std::string field;
  Op op = Op::eq;
  std::string value;
};

Term parse_term(const std::string& text) {
  const auto first = text.find(':');
  const auto second = first == std::string::npos ? std::string::npos : text.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos || first == 0) {
    throw ApiFailure(400, "invalid filter '" + text + "': expected <field>:<operator>:<value>");
  }
  Term term;
  term.field = text.substr(0, first);
  const auto op = text.substr(first + 1, second - first - 1);
  term.value = text.substr(second + 1);
  if (op == "$eq") {
    term.op = Op::eq;
  } else if (op == "$ne") {
    term.op = Op::ne;
  } else if (op == "$gt") {
    term.op = Op::gt;
  } else if (op == "$gte") {
    term.op = Op::gte;
  } else if (op == "$lt") {
    term.op = Op::lt;
  } else if (op == "$lte") {
    term.op = Op::lte;
  } else {
    throw ApiFailure(400,
                     "invalid filter operator '" + op + "' (use $eq, $ne, $gt, $gte, $lt, $lte)");
  }
  return term;
}

int compare_values(const std::string& a, const std::string& b) {
  double x = 0;
  double y = 0;
  const auto ra = std::from_chars(a.data(), a.data() + a.size(), x);
  const auto rb = std::from_chars(b.data(), b.data() + b.size(), y);
  if (ra.ec == std::errc() && ra.ptr == a.data() + a.size() && rb.ec == std::errc()
      && rb.ptr == b.data() + b.size()) {
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  return a.compare(b) < 0 ? -1 : (a.compare(b) > 0 ? 1 : 0);
}

bool matches(const Term& term, const std::optional<std::string>& value) {
  switch (term.op) {
  case Op::eq:
    return value && *value == term.value;
  case Op::ne:
    return !value || *value != term.value;
  case Op::gt:
    return value && compare_values(*value, term.value) > 0;
  case Op::gte:
    return value && compare_values(*value, term.value) >= 0;
  case Op::lt:
    return value && compare_values(*value, term.value) < 0;
  case Op::lte:
    return value && compare_values(*value, term.value) <= 0;
  }
  return false; // unreachable
}

std::size_t parse_count(const httplib::Request& request, const char* name, std::size_t fallback) {
  if (!request.has_param(name)) {
    return fallback;
  }
  const auto text = request.get_param_value(name);
  long long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
    throw ApiFailure(400, std::string(name) + " must be a non-negative integer");
  }
  return static_cast<std::size_t>(value);
}

std::vector<std::string> split_spaces(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) {
      ++i;
    }
    const auto start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != ',') {
      ++i;
    }
    if (i > start) {
      out.push_back(text.substr(start, i - start));
    }
  }
  return out;
}

} // namespace

struct FakeJumpCloud::Impl {
  FakeJumpCloudOptions options;
  detail::FakeServer server{"FakeJumpCloud"};
  mutable std::mutex mutex;
  std::vector<std::unique_ptr<StoredUser>> users;           // sorted by id
  std::unordered_map<std::string, StoredUser*> by_username; // lower-cased
  std::unordered_map<std::string, StoredUser*> by_email;    // lower-cased
  std::unordered_map<std::string, StoredUser*> by_employee_identifier;
  std::uint64_t next_user = 1;
  std::uint64_t next_phone = 1;
  std::atomic<int> writes{0};
  std::optional<ListingFault> listing_fault; // guarded by mutex

  std::string organization() const {
    return options.org_id && is_hex24(*options.org_id) ? *options.org_id
                                                       : "5a1b2c3d4e5f60718293a4b5";
  }
  std::chrono::system_clock::time_point now() const {
    return options.clock ? options.clock() : std::chrono::system_clock::now();
  }
  const char* content_type() const {
    return options.compress ? "application/json" : detail::k_json_type;
  }

  // Applies a listing fault to one page: changes `selected` and returns the
  // totalCount to report. Caller holds the mutex.
  long long distort_listing(const ListingFault& fault,
                            const httplib::Request& request,
                            std::size_t skip,
                            std::size_t limit,
                            std::vector<const StoredUser*>& selected,
                            long long total) {
    switch (fault.kind) {
    case ListingFault::Kind::short_page:
      if (skip == limit) {
        selected.resize(selected.size() / 2);
      } else if (skip > limit) {
        selected.clear();
      }
      return total;
    case ListingFault::Kind::wrong_total:
      return fault.total;
    case ListingFault::Kind::duplicate_ids:
      if (skip > 0 && !selected.empty()) {
        selected.front() =
            plain_listing(request) ? users[skip - 1].get() : select(request)[skip - 1];
      }
      return total;
    case ListingFault::Kind::endless: {
      selected.clear();
      for (std::size_t i = 0; i < limit && !users.empty(); ++i) {
        selected.push_back(users[(skip + i) % users.size()].get());
      }
      return static_cast<long long>(skip + 2 * limit);
    }
    case ListingFault::Kind::empty:
      selected.clear();
      return 0;
    }
    return total; // unreachable
  }

  std::string new_id(const char* prefix, std::uint64_t& counter) {
    std::array<char, 32> buffer{};
    while (true) {
      std::snprintf(buffer.data(),
                    buffer.size(),
                    "%s%016llx",
                    prefix,
                    static_cast<unsigned long long>(counter++));
      if (find(buffer.data()) == nullptr) {
        return buffer.data();
      }
    }
  }

  std::vector<std::unique_ptr<StoredUser>>::iterator position(std::string_view id) {
    return std::lower_bound(users.begin(), users.end(), id, [](const auto& u, std::string_view k) {
      return u->id() < k;
    });
  }

  const StoredUser* find(std::string_view id) const {
    const auto it =
        const_cast<Impl*>(this)->position(id); // NOLINT(cppcoreguidelines-pro-type-const-cast)
    return it != users.end() && (*it)->id() == id ? it->get() : nullptr;
  }

  // Throws ApiFailure(400) when a unique value is taken by another user.
  void check_unique(const ojson& user, std::string_view self_id) const {
    const auto keys = keys_of(user);
    auto taken = [&](const std::unordered_map<std::string, StoredUser*>& index,
                     const std::string& key) {
      const auto it = index.find(key);
      return !key.empty() && it != index.end() && it->second->id() != self_id;
    };
    if (taken(by_username, keys.username)) {
      throw ApiFailure(400,
                       "User already exists: username '" + user.value("username", std::string())
                           + "' is already in use");
    }
    if (taken(by_email, keys.email)) {
      throw ApiFailure(400,
                       "User already exists: email '" + user.value("email", std::string())
                           + "' is already in use");
    }
    if (taken(by_employee_identifier, keys.employee_identifier)) {
      throw ApiFailure(400,
                       "User already exists: employeeIdentifier '" + keys.employee_identifier
                           + "' is already in use");
    }
  }

  void unindex(const StoredUser& u) {
    const auto keys = keys_of(ojson::parse(u.text));
    by_username.erase(keys.username);
    by_email.erase(keys.email);
    if (!keys.employee_identifier.empty()) {
      by_employee_identifier.erase(keys.employee_identifier);
    }
  }

  // Inserts or replaces the stored form of `user` (which carries `_id` first).
  void store(const ojson& user) {
    auto text = user.dump();
    text.shrink_to_fit(); // dump() leaves up to twice the capacity: 100,000 users add up
    if (text.compare(0, k_id_prefix.size(), k_id_prefix) != 0
        || text.size() < k_id_prefix.size() + 25) {
      throw ApiFailure(500, "internal error: a stored user must start with its _id");
    }
    const auto id = std::string_view(text).substr(8, 24);
    auto it = position(id);
    StoredUser* stored = nullptr;
    if (it != users.end() && (*it)->id() == id) {
      unindex(**it);
      (*it)->text = std::move(text);
      stored = it->get();
    } else {
      auto fresh = std::make_unique<StoredUser>();
      fresh->text = std::move(text);
      stored = fresh.get();
      users.insert(it, std::move(fresh));
    }
    const auto keys = keys_of(user);
    if (!keys.username.empty()) {
      by_username[keys.username] = stored;
    }
    if (!keys.email.empty()) {
      by_email[keys.email] = stored;
    }
    if (!keys.employee_identifier.empty()) {
      by_employee_identifier[keys.employee_identifier] = stored;
    }
  }

  void remove(std::string_view id) {
    auto it = position(id);
    if (it != users.end() && (*it)->id() == id) {
      unindex(**it);
      users.erase(it);
    }
  }

  // Validates the types of the fields a request sends. `creating`: POST.
  static void validate(const ojson& body, bool creating) {
    for (const auto& [name, limit] : k_string_fields) {
      const auto it = body.find(std::string(name));
      if (it == body.end() || (it->is_null() && !creating)) {
        continue;
      }
      if (!it->is_string()) {
        throw ApiFailure(400, std::string(name) + " must be a string");
      }
      if (it->get_ref<const std::string&>().size() > limit) {
        throw ApiFailure(
            400, std::string(name) + " is longer than " + std::to_string(limit) + " characters");
      }
    }
    if (const auto it = body.find("phoneNumbers"); it != body.end() && !it->is_null()) {
      if (!it->is_array()) {
        throw ApiFailure(400, "phoneNumbers must be an array");
      }
      for (const auto& phone : *it) {
        if (!phone.is_object() || (phone.contains("number") && !phone["number"].is_string())
            || (phone.contains("type") && !phone["type"].is_string())) {
          throw ApiFailure(400,
                           "phoneNumbers entries must be {\"type\": string, \"number\": string}");
        }
      }
    }
    if (const auto it = body.find("attributes"); it != body.end() && !it->is_null()) {
      if (!it->is_array()) {
        throw ApiFailure(400, "attributes must be an array");
      }
      for (const auto& attribute : *it) {
        if (!attribute.is_object() || !attribute.contains("name")
            || !attribute["name"].is_string()) {
          throw ApiFailure(400, "attributes entries must be {\"name\": string, \"value\": string}");
        }
        const auto& name = attribute["name"].get_ref<const std::string&>();
        const bool ok =
            !name.empty() && name.size() < 32 && std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) != 0;
            });
        if (!ok) {
          throw ApiFailure(400,
                           "attribute name '" + name
                               + "' must be fewer than 32 characters, letters and numbers only");
        }
      }
    }
    if (const auto it = body.find("suspended"); it != body.end() && !it->is_boolean()) {
      throw ApiFailure(400, "suspended must be a boolean");
    }
  }

  // The state a request asks for, checked against `suspended`.
  static std::optional<std::string> requested_state(const ojson& body, bool creating) {
    const auto state = body.find("state");
    const auto suspended = body.find("suspended");
    std::optional<std::string> result;
    if (state != body.end() && !state->is_null()) {
      if (!state->is_string()) {
        throw ApiFailure(400, "state must be a string");
      }
      const auto& s = state->get_ref<const std::string&>();
      if (s == "STAGED" && !creating) {
        throw ApiFailure(
            400,
            "state STAGED can only be set when a user is created (use ACTIVATED or SUSPENDED)");
      }
      if (s != "STAGED" && s != "ACTIVATED" && s != "SUSPENDED") {
        throw ApiFailure(400,
                         "state must be one of " + std::string(creating ? "STAGED, " : "")
                             + "ACTIVATED, SUSPENDED");
      }
      if (suspended != body.end() && suspended->is_boolean()
          && suspended->get<bool>() != (s == "SUSPENDED")) {
        throw ApiFailure(400, "Cannot save conflicting state and suspended fields");
      }
      result = s;
    }
    return result;
  }

  void add_phone_ids(ojson& user) {
    const auto it = user.find("phoneNumbers");
    if (it == user.end() || !it->is_array()) {
      return;
    }
    for (auto& phone : *it) {
      if (phone.is_object() && !phone.contains("id")) {
        phone["id"] = new_id("66b2f0c2", next_phone);
      }
    }
  }

  ojson create(const ojson& body) {
    validate(body, true);
    for (const char* required : {"email", "username"}) {
      if (!body.contains(required) || !body[required].is_string()
          || body[required].get_ref<const std::string&>().empty()) {
        throw ApiFailure(400, std::string(required) + " is required");
      }
    }
    const auto asked = requested_state(body, true);
    std::string state = asked.value_or(options.default_state);
    if (!asked && body.contains("suspended") && body["suspended"].get<bool>()) {
      state = "SUSPENDED";
    }
    ojson user = ojson::object();
    user["_id"] = "";
    for (const auto& [key, value] : body.items()) {
      if (key == "_id" || key == "password" || key == "organization" || key == "created") {
        continue;
      }
      user[key] = value;
    }
    if (options.lowercase_emails) {
      user["email"] = lower(user["email"].get<std::string>());
    }
    check_unique(user, "");
    user["_id"] = new_id("66b2f0c1", next_user);
    user["state"] = state;
    user["suspended"] = state == "SUSPENDED";
    user["activated"] = body.contains("password");
    user["account_locked"] = false;
    user["organization"] = organization();
    user["created"] = detail::utc_timestamp(now(), true);
    add_phone_ids(user);
    store(user);
    return user;
  }

  ojson update(const std::string& id, const ojson& body) {
    const StoredUser* existing = find(id);
    if (existing == nullptr) {
      throw ApiFailure(404, "User not found");
    }
    validate(body, false);
    const auto asked = requested_state(body, false);
    ojson user = ojson::parse(existing->text);
    if (body.contains("username") && body["username"].is_string()
        && body["username"].get<std::string>() != user.value("username", std::string())) {
      throw ApiFailure(400, "username cannot be changed after the user is created");
    }
    for (const auto& [key, value] : body.items()) {
      if (key == "_id" || key == "password" || key == "organization" || key == "created"
          || key == "state" || key == "suspended") {
        continue;
      }
      if (value.is_null()) {
        user.erase(key);
      } else {
        user[key] = value;
      }
    }
    if (options.lowercase_emails && user.contains("email") && user["email"].is_string()) {
      user["email"] = lower(user["email"].get<std::string>());
    }
    apply_state(user, body, asked);
    check_unique(user, id);
    add_phone_ids(user);
    store(user);
    return user;
  }

  static void apply_state(ojson& user, const ojson& body, const std::optional<std::string>& asked) {
    if (asked) {
      user["state"] = *asked;
      user["suspended"] = *asked == "SUSPENDED";
    } else if (body.contains("suspended") && body["suspended"].is_boolean()) {
      const bool suspend = body["suspended"].get<bool>();
      const auto current = user.value("state", std::string("ACTIVATED"));
      user["state"] = suspend ? std::string("SUSPENDED")
                              : (current == "SUSPENDED" ? std::string("ACTIVATED") : current);
      user["suspended"] = suspend;
    }
  }

  // True when a list request has no filter and the default (_id) order.
  static bool plain_listing(const httplib::Request& request) {
    for (const auto& [key, value] : request.params) {
      if (key.rfind("filter", 0) == 0) {
        return false;
      }
    }
    const auto sort_keys = split_spaces(request.get_param_value("sort"));
    return sort_keys.empty() || (sort_keys.size() == 1 && sort_keys[0] == "_id");
  }

  // The users a list request selects, in order (mutex held).
  std::vector<const StoredUser*> select(const httplib::Request& request) const {
    std::vector<Term> all_of;
    std::vector<Term> any_of;
    for (const auto& [key, value] : request.params) {
      if (key == "filter" || (key.rfind("filter[", 0) == 0 && key.rfind("filter[or]", 0) != 0)) {
        all_of.push_back(parse_term(value));
      } else if (key.rfind("filter[or]", 0) == 0) {
        any_of.push_back(parse_term(value));
      }
    }
    // Candidates: one user when an $eq term names a unique field (the index
    // finds it case-insensitively; the terms then check the exact value).
    std::vector<const StoredUser*> candidates;
    bool narrowed = false;
    if (any_of.empty()) {
      for (const auto& t : all_of) {
        const std::unordered_map<std::string, StoredUser*>* index =
            t.field == "username"             ? &by_username
            : t.field == "email"              ? &by_email
            : t.field == "employeeIdentifier" ? &by_employee_identifier
                                              : nullptr;
        if (t.op == Op::eq && (index != nullptr || t.field == "_id")) {
          narrowed = true;
          if (t.field == "_id") {
            if (const auto* u = find(t.value)) {
              candidates.push_back(u);
            }
          } else {
            const auto key = t.field == "employeeIdentifier" ? t.value : lower(t.value);
            const auto it = index->find(key);
            if (it != index->end()) {
              candidates.push_back(it->second);
            }
          }
          break;
        }
      }
    }
    if (!narrowed) {
      candidates.reserve(users.size());
      for (const auto& u : users) {
        candidates.push_back(u.get());
      }
    }
    std::unordered_map<const StoredUser*, ojson> parsed;
    auto value_of = [&](const StoredUser* u,
                        const std::string& field) -> std::optional<std::string> {
      if (field == "_id") {
        return std::string(u->id());
      }
      auto it = parsed.find(u);
      if (it == parsed.end()) {
        it = parsed.emplace(u, ojson::parse(u->text)).first;
      }
      const auto member = it->second.find(field);
      return member == it->second.end() ? std::nullopt : scalar_text(*member);
    };

    std::vector<const StoredUser*> chosen;
    chosen.reserve(candidates.size());
    for (const auto* u : candidates) {
      bool ok = std::all_of(all_of.begin(), all_of.end(), [&](const Term& t) {
        return matches(t, value_of(u, t.field));
      });
      if (ok && !any_of.empty()) {
        ok = std::any_of(any_of.begin(), any_of.end(), [&](const Term& t) {
          return matches(t, value_of(u, t.field));
        });
      }
      if (ok) {
        chosen.push_back(u);
      }
    }
    const auto sort_keys = split_spaces(request.get_param_value("sort"));
    const bool default_order =
        sort_keys.empty() || (sort_keys.size() == 1 && sort_keys[0] == "_id");
    if (!default_order) {
      std::vector<std::pair<std::string, bool>> keys; // field, descending
      for (const auto& k : sort_keys) {
        const bool descending = k[0] == '-';
        keys.emplace_back(descending ? k.substr(1) : k, descending);
      }
      std::stable_sort(chosen.begin(), chosen.end(), [&](const StoredUser* a, const StoredUser* b) {
        for (const auto& [field, descending] : keys) {
          const auto va = value_of(a, field).value_or("");
          const auto vb = value_of(b, field).value_or("");
          const int c = compare_values(va, vb);
          if (c != 0) {
            return descending ? c > 0 : c < 0;
          }
        }
        return false;
      });
    }
    return chosen;
  }
};

FakeJumpCloud::FakeJumpCloud(FakeJumpCloudOptions options)
    : m_impl(std::make_unique<Impl>()) {
  auto& impl = *m_impl;
  impl.options = std::move(options);
  auto& http = impl.server.http();

  http.set_pre_routing_handler([this](const httplib::Request& request,
                                      httplib::Response& response) {
    auto& self = *m_impl;
    if (request.path.rfind("/_admin", 0) == 0) {
      if (!detail::is_loopback_peer(request)) {
        detail::reply(response, 403, error_json(403, "admin endpoints are loopback only"));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (self.server.before_handling(request, response)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    if (request.get_header_value("x-api-key") != self.options.api_key) {
      detail::reply(response, 401, error_json(401, "Unauthorized"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (self.options.org_id) {
      const auto org = request.get_header_value("x-org-id");
      if (org.empty()) {
        detail::reply(
            response, 401, error_json(401, "x-org-id header is required for this administrator"));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!is_hex24(org)) {
        detail::reply(response, 400, error_json(400, "x-org-id is not a valid organization id"));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (org != *self.options.org_id) {
        detail::reply(response, 404, error_json(404, "Organization not found"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto guarded = [this](auto&& body) {
    return [this, body](const httplib::Request& request, httplib::Response& response) {
      try {
        body(request, response);
      } catch (const ApiFailure& failure) {
        detail::reply(response, failure.status(), error_json(failure.status(), failure.what()));
      } catch (const nlohmann::json::exception& e) {
        detail::reply(response, 400, error_json(400, std::string("Bad Request: ") + e.what()));
      }
    };
  };
  auto parse_body = [](const httplib::Request& request) {
    auto body = ojson::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      throw ApiFailure(400, "Bad Request: the body must be a JSON object");
    }
    return body;
  };

  http.Get("/api/systemusers",
           guarded([this](const httplib::Request& request, httplib::Response& response) {
             auto& self = *m_impl;
             std::size_t limit = parse_count(request, "limit", k_default_page);
             if (limit == 0) {
               limit = k_default_page;
             }
             limit = std::min(limit, k_max_page);
             const std::size_t skip = parse_count(request, "skip", 0);
             const auto fields = split_spaces(request.get_param_value("fields"));
             std::string out;
             {
               const std::lock_guard lock(self.mutex);
               std::vector<const StoredUser*> selected;
               std::size_t total = self.users.size();
               if (Impl::plain_listing(request)) {
                 // Storage order is _id order: no need to look at every user.
                 for (std::size_t i = skip; i < self.users.size() && i < skip + limit; ++i) {
                   selected.push_back(self.users[i].get());
                 }
               } else {
                 auto all = self.select(request);
                 total = all.size();
                 for (std::size_t i = skip; i < all.size() && i < skip + limit; ++i) {
                   selected.push_back(all[i]);
                 }
               }
               long long reported = static_cast<long long>(total);
               if (self.listing_fault) {
                 reported = self.distort_listing(
                     *self.listing_fault, request, skip, limit, selected, reported);
               }
               out.reserve(64 + selected.size() * 700);
               out += "{\"totalCount\":" + std::to_string(reported) + ",\"results\":[";
               for (std::size_t i = 0; i < selected.size(); ++i) {
                 if (i != 0) {
                   out += ',';
                 }
                 if (fields.empty()) {
                   out += selected[i]->text;
                 } else {
                   const auto user = ojson::parse(selected[i]->text);
                   ojson projected = ojson::object();
                   projected["_id"] = user["_id"];
                   for (const auto& f : fields) {
                     if (user.contains(f)) {
                       projected[f] = user[f];
                     }
                   }
                   out += projected.dump();
                 }
               }
               out += "]}";
             }
             detail::reply(response, 200, std::move(out), self.content_type());
           }));

  http.Get(R"(/api/systemusers/([^/]+))",
           guarded([this](const httplib::Request& request, httplib::Response& response) {
             auto& self = *m_impl;
             const std::lock_guard lock(self.mutex);
             const auto* user = self.find(request.matches[1].str());
             if (user == nullptr) {
               throw ApiFailure(404, "User not found");
             }
             detail::reply(response, 200, user->text, self.content_type());
           }));

  http.Post(
      "/api/systemusers",
      guarded([this, parse_body](const httplib::Request& request, httplib::Response& response) {
        auto& self = *m_impl;
        const auto body = parse_body(request);
        std::string out;
        {
          const std::lock_guard lock(self.mutex);
          out = self.create(body).dump();
        }
        ++self.writes;
        detail::reply(response, 200, std::move(out), self.content_type());
      }));

  http.Put(
      R"(/api/systemusers/([^/]+))",
      guarded([this, parse_body](const httplib::Request& request, httplib::Response& response) {
        auto& self = *m_impl;
        const auto body = parse_body(request);
        std::string out;
        {
          const std::lock_guard lock(self.mutex);
          out = self.update(request.matches[1].str(), body).dump();
        }
        ++self.writes;
        detail::reply(response, 200, std::move(out), self.content_type());
      }));

  http.Delete(R"(/api/systemusers/([^/]+))",
              guarded([this](const httplib::Request& request, httplib::Response& response) {
                auto& self = *m_impl;
                std::string out;
                {
                  const std::lock_guard lock(self.mutex);
                  const auto* user = self.find(request.matches[1].str());
                  if (user == nullptr) {
                    throw ApiFailure(404, "User not found");
                  }
                  out = user->text;
                  self.remove(std::string(user->id()));
                }
                ++self.writes;
                detail::reply(response, 200, std::move(out), self.content_type());
              }));

  // ---- admin -----------------------------------------------------------------
  http.Get("/_admin/users",
           [this](const httplib::Request& /*request*/, httplib::Response& response) {
             std::string out = "[";
             bool first = true;
             for (const auto& text : users_json()) {
               if (!first) {
                 out += ',';
               }
               first = false;
               out += text;
             }
             out += ']';
             detail::reply(response, 200, std::move(out));
           });
  http.Get(R"(/_admin/users/([^/]+))",
           [this](const httplib::Request& request, httplib::Response& response) {
             const auto text = user_json(request.matches[1].str());
             if (!text) {
               detail::reply(response, 404, error_json(404, "User not found"));
               return;
             }
             detail::reply(response, 200, *text);
           });
  http.Post("/_admin/users", [this](const httplib::Request& request, httplib::Response& response) {
    try {
      const auto id = add_user(request.body);
      detail::reply(response, 201, *user_json(id));
    } catch (const std::exception& e) {
      detail::reply(response, 400, error_json(400, e.what()));
    }
  });
  http.Patch(R"(/_admin/users/([^/]+))",
             [this](const httplib::Request& request, httplib::Response& response) {
               try {
                 if (!edit_user(request.matches[1].str(), request.body)) {
                   detail::reply(response, 404, error_json(404, "User not found"));
                   return;
                 }
                 detail::reply(response, 200, *user_json(request.matches[1].str()));
               } catch (const std::exception& e) {
                 detail::reply(response, 400, error_json(400, e.what()));
               }
             });
  detail::install_fault_admin(http, impl.server);

  impl.server.start(impl.options.host, impl.options.port);
}

FakeJumpCloud::~FakeJumpCloud() {
  m_impl->server.stop();
}

std::string FakeJumpCloud::base_url() const {
  return "http://" + m_impl->server.host() + ":" + std::to_string(m_impl->server.port()) + "/api";
}

int FakeJumpCloud::port() const {
  return m_impl->server.port();
}

void FakeJumpCloud::load_seed(std::string_view json_text) {
  const auto seed = ojson::parse(json_text, nullptr, false);
  if (seed.is_discarded() || !seed.is_array()) {
    throw std::runtime_error("JumpCloud seed: expected a JSON array of users");
  }
  std::size_t index = 0;
  for (const auto& user : seed) {
    try {
      add_user(user.dump());
    } catch (const std::exception& e) {
      throw std::runtime_error("JumpCloud seed: users[" + std::to_string(index) + "]: " + e.what());
    }
    ++index;
  }
}

std::string FakeJumpCloud::add_user(std::string_view user_json) {
  auto& impl = *m_impl;
  auto user = ojson::parse(user_json, nullptr, false);
  if (user.is_discarded() || !user.is_object()) {
    throw std::runtime_error("a user must be a JSON object");
  }
  try {
    Impl::validate(user, true);
    const auto asked = Impl::requested_state(user, true);
    for (const char* required : {"email", "username"}) {
      if (!user.contains(required) || !user[required].is_string()) {
        throw ApiFailure(400, std::string(required) + " is required");
      }
    }
    const std::lock_guard lock(impl.mutex);
    std::string id;
    if (user.contains("_id")) {
      if (!user["_id"].is_string() || !is_hex24(user["_id"].get<std::string>())) {
        throw ApiFailure(400, "_id must be 24 lower-case hex digits");
      }
      id = user["_id"].get<std::string>();
      if (impl.find(id) != nullptr) {
        throw ApiFailure(400, "_id " + id + " already exists");
      }
    } else {
      id = impl.new_id("66b2f0c1", impl.next_user);
    }
    ojson stored = ojson::object();
    stored["_id"] = id;
    for (const auto& [key, value] : user.items()) {
      if (key != "_id" && key != "password") {
        stored[key] = value;
      }
    }
    const std::string state = asked.value_or(
        user.contains("suspended") && user["suspended"].get<bool>() ? std::string("SUSPENDED")
                                                                    : impl.options.default_state);
    stored["state"] = state;
    stored["suspended"] = state == "SUSPENDED";
    if (!stored.contains("activated")) {
      stored["activated"] = true;
    }
    if (!stored.contains("organization")) {
      stored["organization"] = impl.organization();
    }
    impl.check_unique(stored, id);
    impl.add_phone_ids(stored);
    impl.store(stored);
    return id;
  } catch (const ApiFailure& failure) {
    throw std::runtime_error(failure.what());
  }
}

bool FakeJumpCloud::edit_user(const std::string& id, std::string_view patch_json) {
  auto& impl = *m_impl;
  const auto patch = ojson::parse(patch_json, nullptr, false);
  if (patch.is_discarded() || !patch.is_object()) {
    throw std::runtime_error("the patch must be a JSON object");
  }
  const std::lock_guard lock(impl.mutex);
  const auto* existing = impl.find(id);
  if (existing == nullptr) {
    return false;
  }
  auto user = ojson::parse(existing->text);
  for (const auto& [key, value] : patch.items()) {
    if (key == "_id" || key == "state" || key == "suspended") {
      continue;
    }
    if (value.is_null()) {
      user.erase(key);
    } else {
      user[key] = value;
    }
  }
  std::optional<std::string> asked;
  if (patch.contains("state") && patch["state"].is_string()) {
    asked = patch["state"].get<std::string>();
  }
  Impl::apply_state(user, patch, asked);
  try {
    impl.check_unique(user, id);
  } catch (const ApiFailure& failure) {
    throw std::runtime_error(failure.what());
  }
  impl.add_phone_ids(user);
  impl.store(user);
  return true;
}

std::optional<std::string> FakeJumpCloud::user_json(const std::string& id) const {
  const std::lock_guard lock(m_impl->mutex);
  const auto* user = m_impl->find(id);
  if (user == nullptr) {
    return std::nullopt;
  }
  return user->text;
}

std::vector<std::string> FakeJumpCloud::users_json() const {
  const std::lock_guard lock(m_impl->mutex);
  std::vector<std::string> out;
  out.reserve(m_impl->users.size());
  for (const auto& u : m_impl->users) {
    out.push_back(u->text);
  }
  return out;
}

std::size_t FakeJumpCloud::user_count() const {
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->users.size();
}

void FakeJumpCloud::reserve(std::size_t count) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->users.reserve(count);
  m_impl->by_username.reserve(count);
  m_impl->by_email.reserve(count);
  m_impl->by_employee_identifier.reserve(count);
}

int FakeJumpCloud::write_count() const {
  return m_impl->writes.load();
}

void FakeJumpCloud::set_listing_fault(std::optional<ListingFault> fault) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->listing_fault = fault;
}

FaultPlan& FakeJumpCloud::faults() {
  return m_impl->server.faults();
}

RequestStats& FakeJumpCloud::stats() {
  return m_impl->server.stats();
}

} // namespace bobsync::sandbox
