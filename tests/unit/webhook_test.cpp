#include "controller/server/webhook.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace bobsync::controller::server {
namespace {

// RFC 4231 test case 2, as Base64 (the hex MAC is 164b7a7b...38bce737).
constexpr std::string_view k_rfc_key = "Jefe";
constexpr std::string_view k_rfc_data = "what do ya want for nothing?";
constexpr std::string_view k_rfc_signature =
    "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw==";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string envelope(std::string_view type, std::string_view data) {
  return R"({"companyId":636192,"type":")" + std::string(type)
         + R"(","triggeredBy":"3332883804594373380","triggeredAt":"2025-01-08T13:06:26.915906",)"
         + R"("version":"v2","data":)" + std::string(data) + "}";
}

TEST(BobSignature, MatchesTheRfc4231Vector) {
  EXPECT_EQ(bob_signature(k_rfc_key, k_rfc_data), k_rfc_signature);
  EXPECT_TRUE(verify_bob_signature(k_rfc_key, k_rfc_data, k_rfc_signature));
}

TEST(BobSignature, AcceptsMissingPaddingAndSurroundingSpace) {
  std::string unpadded(k_rfc_signature);
  unpadded.resize(unpadded.size() - 2);
  EXPECT_TRUE(verify_bob_signature(k_rfc_key, k_rfc_data, unpadded));
  EXPECT_TRUE(
      verify_bob_signature(k_rfc_key, k_rfc_data, "  " + std::string(k_rfc_signature) + " "));
}

TEST(BobSignature, SignsTheExactBytesOfARealBody) {
  // Checked with Python's hmac module over the file's bytes.
  const auto body = read_file(std::string(BOBSYNC_TESTDATA_DIR)
                              + "/bob/webhook-v2-table.entry.created.lifecycle.json");
  ASSERT_EQ(body.size(), 285U);
  const std::string expected =
      "GPAlWmvEyDxKA/o7BNWZgc/nF2qmd24lOsSlOPutxtYSZTl8lZ1Qz2XFoTMGpaNReqSfrxWqfjgitTBezTzfLw==";
  EXPECT_TRUE(verify_bob_signature("sandbox-webhook-secret", body, expected));
  // One byte of whitespace more is another body.
  EXPECT_FALSE(verify_bob_signature("sandbox-webhook-secret", body + "\n", expected));
}

TEST(BobSignature, RejectsEverythingElse) {
  const std::string body = envelope("employee.updated", R"({"employeeId":"3332883854254932743"})");
  const std::string good = bob_signature("s3cret", body);
  ASSERT_EQ(good.size(), 88U);
  ASSERT_TRUE(verify_bob_signature("s3cret", body, good));

  EXPECT_FALSE(verify_bob_signature("s3cret", body, ""));
  EXPECT_FALSE(verify_bob_signature("s3cret", body, "   "));
  EXPECT_FALSE(verify_bob_signature("other", body, good));
  EXPECT_FALSE(verify_bob_signature("", body, bob_signature("", body))) << "empty secret";
  EXPECT_FALSE(verify_bob_signature("s3cret", body + " ", good));
  // Every byte of the MAC counts: change one character anywhere.
  for (std::size_t i = 0; i < 86; ++i) {
    std::string flipped = good;
    flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verify_bob_signature("s3cret", body, flipped)) << "character " << i;
  }
  EXPECT_FALSE(verify_bob_signature("s3cret", body, good.substr(0, 86 - 4))) << "truncated MAC";
  EXPECT_FALSE(verify_bob_signature("s3cret", body, good + good)) << "two MACs";
  EXPECT_FALSE(verify_bob_signature("s3cret", body, "sha512=" + good)) << "prefixed";
  std::string url_safe = good;
  for (auto& c : url_safe) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  if (url_safe != good) {
    EXPECT_FALSE(verify_bob_signature("s3cret", body, url_safe)) << "URL-safe alphabet";
  }
  EXPECT_FALSE(verify_bob_signature("s3cret", body, std::string(100000, 'A'))) << "huge header";
  EXPECT_FALSE(verify_bob_signature("s3cret", body, "=" + good.substr(0, 87))) << "padding first";
  // The hex form of a MAC is not Bob's format.
  EXPECT_FALSE(verify_bob_signature(
      k_rfc_key,
      k_rfc_data,
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8"
      "f0e6fdcaeab1a34d4a6b4b636e070a38bce737"));
}

TEST(ParseBobEvent, ReadsTheV2TableEntryExample) {
  const auto event = parse_bob_event(envelope(
      "table.entry.created",
      R"({"employeeId":"3332883854254932743","tableId":"lifecycle","effectiveDate":"2025-01-08"})"));
  EXPECT_EQ(event.kind, BobEventKind::table_entry);
  EXPECT_EQ(event.type, "table.entry.created");
  EXPECT_EQ(event.employee_id, "3332883854254932743");
}

TEST(ParseBobEvent, EveryEmployeeEventOfTheProductSpec) {
  for (const char* type : {"employee.created",
                           "employee.updated",
                           "employee.joined",
                           "employee.left",
                           "employee.deleted",
                           "employee.inactivated",
                           "employee.activated",
                           "employee.access.revoked.immediately"}) {
    const auto event = parse_bob_event(
        envelope(type, R"({"employeeId":"3332883854254932743","fieldUpdates":["work.title"]})"));
    EXPECT_EQ(event.kind, BobEventKind::employee) << type;
    EXPECT_EQ(event.type, type);
    EXPECT_EQ(event.employee_id, "3332883854254932743") << type;
    EXPECT_TRUE(is_known_bob_event_type(type)) << type;
  }
  // A numeric id (unconfirmed shape) is read without losing digits.
  const auto numeric =
      parse_bob_event(envelope("employee.updated", R"({"employeeId":3332883854254932743})"));
  EXPECT_EQ(numeric.kind, BobEventKind::employee);
  EXPECT_EQ(numeric.employee_id, "3332883854254932743");
}

TEST(ParseBobEvent, ReadsTheLegacyV1Body) {
  const auto body =
      read_file(std::string(BOBSYNC_TESTDATA_DIR) + "/bob/webhook-v1-employee.created.json");
  ASSERT_FALSE(body.empty());
  const auto event = parse_bob_event(body);
  EXPECT_EQ(event.kind, BobEventKind::employee);
  EXPECT_EQ(event.employee_id, "2834190035467633537") << "employee.id, not changedBy.id";
}

TEST(ParseBobEvent, Pings) {
  EXPECT_EQ(parse_bob_event("Ping test").kind, BobEventKind::ping);
  EXPECT_EQ(parse_bob_event("Ping test\n").kind, BobEventKind::ping);
  EXPECT_EQ(parse_bob_event(R"({"text":"Ping test"})").kind, BobEventKind::ping);
  EXPECT_EQ(parse_bob_event(R"({"text":"Pong"})").kind, BobEventKind::malformed);
  EXPECT_EQ(parse_bob_event("Ping test please").kind, BobEventKind::malformed);
}

TEST(ParseBobEvent, UnknownTypesAreAcknowledgedNotActedOn) {
  const auto event = parse_bob_event(envelope("timeoff.request.created", R"({"employeeId":"1"})"));
  EXPECT_EQ(event.kind, BobEventKind::unknown);
  EXPECT_EQ(event.type, "timeoff.request.created");
  EXPECT_TRUE(event.employee_id.empty());
  EXPECT_FALSE(is_known_bob_event_type("timeoff.request.created"));
  // An employee event type bobsync does not know by name still names an
  // employee: re-reading them is always safe.
  const auto future = parse_bob_event(envelope("employee.renamed", R"({"employeeId":"42"})"));
  EXPECT_EQ(future.kind, BobEventKind::employee);
  EXPECT_FALSE(is_known_bob_event_type("employee.renamed"));
}

TEST(ParseBobEvent, HostileAndBrokenBodies) {
  static constexpr char k_with_nul[] = "{\"type\":\"employee.updated\"\0,\"data\":{}}";
  const std::string with_nul(k_with_nul, sizeof(k_with_nul) - 1);
  struct Case {
    std::string body;
    const char* why;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {"   ", "blank"},
      {"{", "truncated"},
      {R"({"type":"employee.updated","data":{"employeeId":"1"})", "unclosed"},
      {R"(["employee.updated"])", "array root"},
      {R"("employee.updated")", "string root"},
      {"null", "null root"},
      {R"({"data":{"employeeId":"1"}})", "no type"},
      {R"({"type":7,"data":{"employeeId":"1"}})", "type not a string"},
      {R"({"type":"","data":{"employeeId":"1"}})", "empty type"},
      {R"({"type":")" + std::string(200, 'x') + R"(","data":{}})", "type too long"},
      {envelope("employee.updated", "{}"), "no employee id"},
      {envelope("employee.updated", R"({"employeeId":""})"), "empty id"},
      {envelope("employee.updated", R"({"employeeId":null})"), "null id"},
      {envelope("employee.updated", R"({"employeeId":["1"]})"), "array id"},
      {envelope("employee.updated", R"({"employeeId":{"id":"1"}})"), "object id"},
      {envelope("employee.updated", R"({"employeeId":1.5})"), "float id"},
      {envelope("employee.updated", R"({"employeeId":"../../people"})"), "path in id"},
      {envelope("employee.updated", R"({"employeeId":"1\n2"})"), "newline in id"},
      {envelope("employee.updated", R"({"employeeId":"1 OR 1=1"})"), "space in id"},
      {envelope("employee.updated", R"({"employeeId":")" + std::string(65, '1') + "\"}"),
       "id too long"},
      {envelope("table.entry.updated", R"({"tableId":"work"})"), "table event without id"},
      {R"({"type":"employee.updated","type":"employee.left","data":{"employeeId":"1"}})",
       "duplicate type"},
      {R"({"type":"employee.updated","data":{"employeeId":"1","employeeId":"2"}})", "duplicate id"},
      {std::string(10000, '[') + std::string(10000, ']'), "deep nesting"},
      {R"({"type":"employee.updated","data":{"employeeId":"1"}} trailing)", "trailing garbage"},
      {std::string("{\"type\":\"employee.updated\",\"x\":\"\xff\xfe\"}"), "invalid UTF-8"},
      {with_nul, "NUL byte"},
  };
  for (const auto& c : cases) {
    const auto event = parse_bob_event(c.body);
    EXPECT_EQ(event.kind, BobEventKind::malformed) << c.why;
    EXPECT_TRUE(event.employee_id.empty()) << c.why;
    EXPECT_FALSE(event.error.empty()) << c.why;
    EXPECT_LT(event.error.size(), 200U) << c.why << ": the error never echoes the body";
  }
}

TEST(ParseBobEvent, IdsInsideArraysOrOtherObjectsAreNotTheEmployee) {
  // Only data.employeeId counts, not a key of the same name anywhere else.
  const auto event = parse_bob_event(
      R"({"type":"employee.updated","other":{"employeeId":"666"},"data":{"list":[{"employeeId":"7"}],"employeeId":"42"}})");
  EXPECT_EQ(event.kind, BobEventKind::employee);
  EXPECT_EQ(event.employee_id, "42");
}

} // namespace
} // namespace bobsync::controller::server
