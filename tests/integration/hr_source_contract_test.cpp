// The HrSource contract: every implementation must pass this suite.
// BobHrSource runs against FakeBob over loopback; MemoryHrSource in memory.

#include "controller/adapters/bob/bob_hr_source.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/ports/clock.hpp"
#include "controller/ports/memory_hr_source.hpp"
#include "sandbox/fake_bob.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

namespace bobsync::controller {
namespace {

using namespace std::chrono_literals;

// An employee as a test arranges it: Bob dot field ids and machine values
// (dates as YYYY-MM-DD).
struct Person {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
};

// Bob's display form of a date (what humanReadable gives): DD/MM/YYYY.
std::string display_date(const std::string& iso) {
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

bool is_date_field(std::string_view id) {
  return id.ends_with("Date") || id.ends_with("lastDayOfWork");
}

class HttpHrSourceEnv {
public:
  HttpHrSourceEnv() {
    sandbox::FakeBobOptions options;
    options.service_user_id = "contract-user";
    options.service_user_token = "contract-token";
    options.clock = [this] { return m_clock.wall_now(); };
    m_fake = std::make_unique<sandbox::FakeBob>(options);
    BobSettings settings;
    settings.base_url = m_fake->base_url();
    settings.service_user_id = "contract-user";
    settings.service_user_token = "contract-token";
    settings.search_timeout = 10s;
    settings.read_timeout = 5s;
    m_source = std::make_unique<BobHrSource>(m_transport, m_clock, settings);
  }
  HrSource& source() { return *m_source; }
  void add(const Person& p) {
    sandbox::BobEmployee e;
    e.id = p.id;
    for (const auto& [field, value] : p.fields) {
      e.set(field, sandbox::BobValue::string(value));
    }
    m_fake->put_employee(std::move(e));
  }

private:
  ManualClock m_clock;
  std::unique_ptr<sandbox::FakeBob> m_fake;
  http::CurlTransport m_transport;
  std::unique_ptr<BobHrSource> m_source;
};

// Holds employees as BobHrSource returns them: dates in display form with
// the machine value beside them.
class MemoryHrSourceEnv {
public:
  HrSource& source() { return m_source; }
  void add(const Person& p) {
    state::Employee e;
    e.id = p.id;
    for (const auto& [field, value] : p.fields) {
      if (is_date_field(field)) {
        e.fields.set(field, display_date(value));
        e.fields.set(field + std::string(state::k_machine_suffix), value);
      } else {
        e.fields.set(field, value);
      }
    }
    m_source.put(std::move(e));
  }

private:
  MemoryHrSource m_source;
};

// A field's machine value: what the lifecycle reads.
std::string machine(const state::Employee& e, const std::string& field) {
  const auto* raw = e.fields.find(field + std::string(state::k_machine_suffix));
  return std::string(raw != nullptr ? std::string_view(*raw) : e.get(field));
}

const std::vector<std::string> k_fields = {
    "root.email", "root.displayName", "work.title", "work.startDate", "internal.status"};

template<typename Env> class HrSourceContract : public ::testing::Test {
protected:
  HrSourceContract() {
    m_env.add({"3000000000000000001",
               {{"root.email", "ada@example.com"},
                {"root.displayName", "Ada Lovelace"},
                {"work.title", "Engineer"},
                {"work.department", "R&D"},
                {"work.startDate", "2026-12-01"},
                {"internal.status", "Active"}}});
    m_env.add({"3000000000000000002",
               {{"root.email", "grace@example.com"},
                {"root.displayName", "Grace Hopper"},
                {"work.title", "Admiral"},
                {"work.department", "Navy"},
                {"work.startDate", "2019-03-04"},
                {"internal.status", "Inactive"}}});
  }

  HrSource& source() { return m_env.source(); }

  Env m_env;
};

using HrSourceTypes = ::testing::Types<HttpHrSourceEnv, MemoryHrSourceEnv>;
TYPED_TEST_SUITE(HrSourceContract, HrSourceTypes);

TYPED_TEST(HrSourceContract, ListGivesEveryEmployeeActiveOrNotWithTheRequestedFields) {
  auto employees = this->source().list_employees(k_fields);

  ASSERT_TRUE(employees) << employees.error().message;
  ASSERT_EQ(employees->size(), 2U);
  std::sort(employees->begin(), employees->end(), [](const auto& a, const auto& b) {
    return a.id < b.id;
  });
  const auto& ada = (*employees)[0];
  EXPECT_EQ(ada.id, "3000000000000000001");
  EXPECT_EQ(ada.get("root.email"), "ada@example.com");
  EXPECT_EQ(ada.get("root.displayName"), "Ada Lovelace");
  EXPECT_EQ(ada.get("work.title"), "Engineer");
  EXPECT_EQ(machine(ada, "work.startDate"), "2026-12-01");
  EXPECT_EQ(machine(ada, "internal.status"), "Active");
  // Only what was asked for.
  EXPECT_FALSE(ada.fields.contains("work.department"));
  const auto& grace = (*employees)[1];
  EXPECT_EQ(grace.get("root.email"), "grace@example.com");
  EXPECT_EQ(machine(grace, "internal.status"), "Inactive");
}

TYPED_TEST(HrSourceContract, GetGivesOneEmployeeAndNothingForAnUnknownId) {
  auto one = this->source().get_employee("3000000000000000002", k_fields);
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->id, "3000000000000000002");
  EXPECT_EQ((*one)->get("work.title"), "Admiral");
  EXPECT_EQ(machine(**one, "work.startDate"), "2019-03-04");
  EXPECT_FALSE((*one)->fields.contains("work.department"));

  auto unknown = this->source().get_employee("3999999999999999999", k_fields);
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_FALSE(unknown->has_value());
}

} // namespace
} // namespace bobsync::controller
