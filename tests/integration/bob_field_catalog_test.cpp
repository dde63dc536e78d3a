// BobFieldCatalog against FakeBob's GET /v1/company/people/fields over real
// HTTP on loopback.

#include "controller/adapters/bob/bob_field_catalog.hpp"
#include "controller/adapters/http/curl_transport.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/fake_bob.hpp"
#include "tests/integration/support.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace bobsync::controller {
namespace {

using namespace std::chrono_literals;

constexpr const char* k_user = "SERVICE-USER-7";
constexpr const char* k_token = "bob-fields-t0ken-s3cret";

const BobField* find(const std::vector<BobField>& fields, std::string_view id) {
  const auto it =
      std::find_if(fields.begin(), fields.end(), [&](const BobField& f) { return f.id == id; });
  return it == fields.end() ? nullptr : &*it;
}

class BobFieldCatalogTest : public ::testing::Test {
protected:
  BobFieldCatalogTest() {
    sandbox::FakeBobOptions options;
    options.service_user_id = k_user;
    options.service_user_token = k_token;
    m_fake = std::make_unique<sandbox::FakeBob>(options);
  }

  ApiResult<std::vector<BobField>> list(std::string token = k_token) {
    BobSettings s;
    s.base_url = m_fake->base_url() + "/";
    s.service_user_id = k_user;
    s.service_user_token = std::move(token);
    s.read_timeout = 5s;
    s.retry.jitter_seed = 1;
    BobFieldCatalog catalog(m_transport, m_clock, std::move(s));
    return catalog.list_fields();
  }

  ManualClock m_clock;
  std::unique_ptr<sandbox::FakeBob> m_fake;
  http::CurlTransport m_transport;
};

TEST_F(BobFieldCatalogTest, ListsTheTenantsFieldsWithLabelCategoryTypeAndList) {
  auto fields = list();
  ASSERT_TRUE(fields) << fields.error().message;
  EXPECT_EQ(fields->size(), m_fake->field_catalogue().size());
  const auto* department = find(*fields, "work.department");
  ASSERT_NE(department, nullptr);
  EXPECT_EQ(department->name, "Department");
  EXPECT_EQ(department->category, "work");
  EXPECT_EQ(department->type, "list");
  EXPECT_EQ(department->list_id, "department");
  EXPECT_TRUE(department->historical);
  const auto* email = find(*fields, "root.email");
  ASSERT_NE(email, nullptr);
  EXPECT_EQ(email->json_path, "email"); // root fields' jsonPath has no "root."
  EXPECT_EQ(email->list_id, "");
  EXPECT_NE(find(*fields, "work.custom.field_1644932887286"), nullptr);
}

TEST_F(BobFieldCatalogTest, FieldsAddedToTheTenantAndHiddenFieldsAreListed) {
  m_fake->add_field({"work.custom.field_1700000000001", "Badge", "work", "text", "", false});
  m_fake->hide_field("home.privateEmail"); // metadata needs no data permission
  m_fake->remove_field("about.hobbies");
  auto fields = list();
  ASSERT_TRUE(fields) << fields.error().message;
  ASSERT_NE(find(*fields, "work.custom.field_1700000000001"), nullptr);
  EXPECT_EQ(find(*fields, "work.custom.field_1700000000001")->name, "Badge");
  EXPECT_NE(find(*fields, "home.privateEmail"), nullptr);
  EXPECT_EQ(find(*fields, "about.hobbies"), nullptr);
}

TEST_F(BobFieldCatalogTest, WrongCredentialsAreRefusedAndTheTokenIsNotInTheError) {
  auto fields = list("wrong-token-s3cret");
  ASSERT_FALSE(fields);
  EXPECT_EQ(fields.error().kind, ErrorKind::unauthorized);
  EXPECT_NE(fields.error().message.find("Bob list fields"), std::string::npos)
      << fields.error().message;
  EXPECT_EQ(fields.error().message.find("wrong-token-s3cret"), std::string::npos);
}

TEST_F(BobFieldCatalogTest, TransientFailuresAreRetried) {
  m_fake->faults().fail_next("/v1/company/people/fields", 503, 2);
  auto fields = list();
  ASSERT_TRUE(fields) << fields.error().message;
  EXPECT_FALSE(fields->empty());
}

TEST(BobFieldCatalogParse, RejectsWhatIsNotACatalogue) {
  std::string error;
  EXPECT_FALSE(parse_field_catalog("{\"fields\": []}", error));
  EXPECT_NE(error.find("not a JSON array"), std::string::npos);
  EXPECT_FALSE(parse_field_catalog("[{\"name\": \"no id\"}]", error));
  EXPECT_NE(error.find("field 0"), std::string::npos);
  auto ok = parse_field_catalog("[{\"id\": \"root.email\"}]", error);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->at(0).id, "root.email");
  EXPECT_EQ(ok->at(0).name, "");
}

TEST(BobFieldCatalogSearch, MatchesIdLabelOrCategoryIgnoringCase) {
  const std::vector<BobField> fields = {
      {"work.title", "Title", "work", "list", "title", "", true},
      {"root.email", "Email", "root", "text", "", "email", false},
      {"work.custom.field_1", "Cost center", "work", "list", "", "", false}};
  EXPECT_EQ(search_fields(fields, "").size(), 3U);
  EXPECT_EQ(search_fields(fields, "COST").size(), 1U);
  EXPECT_EQ(search_fields(fields, "root").size(), 1U);
  EXPECT_EQ(search_fields(fields, "work").size(), 2U);
  EXPECT_TRUE(search_fields(fields, "nothing").empty());
}

} // namespace
} // namespace bobsync::controller
