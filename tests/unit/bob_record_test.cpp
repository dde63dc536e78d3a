#include "controller/adapters/bob/bob_record.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace bobsync::controller {
namespace {

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(BOBSYNC_TESTDATA_DIR) + "/bob/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of a field, or nullopt when the key is absent.
std::optional<std::string> field(const state::Employee& e, const std::string& id) {
  const auto* value = e.fields.find(id);
  return value != nullptr ? std::optional(*value) : std::nullopt;
}

state::Employee parse_one(const std::string& text, const std::vector<std::string>& fields) {
  std::string error;
  auto employee = employee_from_json_text(text, fields, error);
  EXPECT_TRUE(employee.has_value()) << error;
  EXPECT_EQ(error, "");
  return employee.value_or(state::Employee{});
}

std::string parse_one_error(const std::string& text) {
  std::string error;
  const auto employee = employee_from_json_text(text, {"root.email"}, error);
  EXPECT_FALSE(employee.has_value());
  return error;
}

std::string search_error(const std::string& text) {
  std::string error;
  const auto employees = employees_from_search_text(text, {"root.email"}, error);
  EXPECT_FALSE(employees.has_value());
  return error;
}

// ---- real payloads ---------------------------------------------------------------

TEST(BobRecordRealPayloads, SearchAppend) {
  std::string error;
  const auto employees = employees_from_search_text(
      read_testdata("people-search.APPEND.scrubbed.json"),
      {"root.id", "root.displayName", "root.email", "work.title", "work.department"},
      error);
  ASSERT_TRUE(employees.has_value()) << error;
  ASSERT_EQ(employees->size(), 3U);
  EXPECT_EQ((*employees)[0].id, "3987598587553907167");
  EXPECT_EQ((*employees)[1].id, "3980342572051595995");
  EXPECT_EQ((*employees)[2].id, "3991677493793784607");
  const auto& first = (*employees)[0];
  // root.id: humanReadable carries the real id; the flat "/root/id" (scrubbed) is not used.
  EXPECT_EQ(field(first, "root.id"), "3987598587553907167");
  EXPECT_EQ(field(first, "root.email"), "person@example.com");
  EXPECT_EQ(field(first, "root.displayName"), "<text>");
  EXPECT_EQ(field(first, "work.title"), "<text>");
  EXPECT_EQ(field(first, "work.department"), std::nullopt); // not sent at all
  EXPECT_EQ(first.fields.size(), 4U);                       // no @machine: values agree
}

TEST(BobRecordRealPayloads, ReadOneAppendPrefersHumanReadableAndKeepsMachine) {
  const auto e = parse_one(read_testdata("people-read-one.APPEND.scrubbed.json"),
                           {"root.id",
                            "root.email",
                            "root.firstName",
                            "root.surname",
                            "home.mobilePhone",
                            "work.department",
                            "work.title",
                            "work.site",
                            "work.startDate",
                            "internal.status",
                            "work.manager"});
  EXPECT_EQ(e.id, "3980342332732998349"); // $.id, not the scrubbed "/root/id"
  EXPECT_EQ(field(e, "root.email"), "person@example.com");
  EXPECT_EQ(field(e, "work.startDate"), "<text>"); // human-readable wins
  EXPECT_EQ(field(e, "work.startDate@machine"), "2026-09-06");
  EXPECT_EQ(field(e, "internal.status"), "<text>");
  EXPECT_EQ(field(e, "internal.status@machine"), std::nullopt); // same text
  // Sent as null: present and empty.
  EXPECT_EQ(field(e, "home.mobilePhone"), "");
  EXPECT_EQ(field(e, "work.department"), "");
  EXPECT_EQ(field(e, "work.title"), "");
  // Not sent: absent.
  EXPECT_EQ(field(e, "root.surname"), std::nullopt);
  EXPECT_EQ(field(e, "work.manager"), std::nullopt);
}

TEST(BobRecordRealPayloads, ReadOneMachine) {
  const auto e = parse_one(read_testdata("people-read-one.machine.scrubbed.json"),
                           {"work.startDate", "work.reportsTo", "root.displayName"});
  EXPECT_EQ(e.id, "3980342332732998349");
  EXPECT_EQ(field(e, "work.startDate"), "2026-09-06");
  EXPECT_EQ(field(e, "work.startDate@machine"), std::nullopt);
  EXPECT_EQ(field(e, "work.reportsTo"), "");
  EXPECT_EQ(field(e, "root.displayName"), "<text>");
}

TEST(BobRecordRealPayloads, FullRecordWithHumanReadable) {
  const auto e = parse_one(read_testdata("people-v1-full-record.with-humanReadable.json"),
                           {"root.displayName",
                            "root.secondName",
                            "root.companyId",
                            "work.title",
                            "work.department",
                            "work.manager",
                            "work.siteId",
                            "work.isManager",
                            "work.tenureYears",
                            "work.startDate",
                            "work.employeeIdInCompany",
                            "work.workPhone",
                            "work.custom.field_1644932887286",
                            "work.customColumns.column_1639496202710",
                            "work.customColumns.column_1639495541396",
                            "payroll.employment.type",
                            "payroll.employment.fte",
                            "personal.nationality",
                            "about.hobbies",
                            "internal.lifecycleStatus",
                            "internal.terminationDate",
                            "employee.lastDayOfWork"});
  EXPECT_EQ(e.id, "2834190035467633537");
  EXPECT_EQ(field(e, "root.displayName"), "Victor Ivanovich Yasinskiy");
  EXPECT_EQ(field(e, "root.secondName"), "Ivanovich");
  EXPECT_EQ(field(e, "root.companyId"), "475308");
  EXPECT_EQ(field(e, "root.companyId@machine"), std::nullopt); // 475308 == "475308"
  EXPECT_EQ(field(e, "work.title"), "Business Development Manager");
  EXPECT_EQ(field(e, "work.manager"), "Indrek Truu");
  EXPECT_EQ(field(e, "work.manager@machine"), "2693707360307774170");
  EXPECT_EQ(field(e, "work.siteId"), "London (Demo)");
  EXPECT_EQ(field(e, "work.siteId@machine"), "1814407");
  EXPECT_EQ(field(e, "work.isManager"), "No");
  EXPECT_EQ(field(e, "work.isManager@machine"), "false");
  EXPECT_EQ(field(e, "work.tenureYears"), "0");
  EXPECT_EQ(field(e, "work.tenureYears@machine"), std::nullopt);
  EXPECT_EQ(field(e, "work.startDate"), "05/09/2022");
  EXPECT_EQ(field(e, "work.startDate@machine"), "2022-05-09");
  EXPECT_EQ(field(e, "work.employeeIdInCompany"), "");
  EXPECT_EQ(field(e, "work.workPhone"), "");
  EXPECT_EQ(field(e, "work.custom.field_1644932887286"), "");
  EXPECT_EQ(field(e, "work.customColumns.column_1639496202710"), "Four4");
  EXPECT_EQ(field(e, "work.customColumns.column_1639496202710@machine"), "228075491");
  EXPECT_EQ(field(e, "work.customColumns.column_1639495541396"), "");
  EXPECT_EQ(field(e, "payroll.employment.type"), "");
  EXPECT_EQ(field(e, "payroll.employment.fte"), "100.00");
  EXPECT_EQ(field(e, "payroll.employment.fte@machine"), "100");
  EXPECT_EQ(field(e, "personal.nationality"), "Afghan,Ukrainian");
  EXPECT_EQ(field(e, "personal.nationality@machine"), ""); // an array: not mapped
  EXPECT_EQ(field(e, "about.hobbies"), "");
  EXPECT_EQ(field(e, "about.hobbies@machine"), std::nullopt);
  EXPECT_EQ(field(e, "internal.lifecycleStatus"), "Employed");
  EXPECT_EQ(field(e, "internal.lifecycleStatus@machine"), "employed");
  EXPECT_EQ(field(e, "internal.terminationDate"), "");
  EXPECT_EQ(field(e, "employee.lastDayOfWork"), std::nullopt);
}

TEST(BobRecordRealPayloads, FullRecordMachineOnlyNumbersAndBooleans) {
  const auto e = parse_one(read_testdata("people-v1-full-record.samplebob-demo.json"),
                           {"root.email",
                            "work.employeeIdInCompany",
                            "work.yearsOfService",
                            "work.reportsTo",
                            "work.reportsTo.email",
                            "work.department",
                            "work.custom.field_1",
                            "payroll.salary.monthlyPayment.value",
                            "payroll.employment.fte",
                            "payroll.employment.workingPattern.raw",
                            "payroll.employment.siteWorkingPattern.days.monday",
                            "payroll.employment.siteWorkingPattern.days.sunday",
                            "home.mobilePhone",
                            "about.hobbies",
                            "internal.terminationDate"});
  EXPECT_EQ(e.id, "2378379585948483884");
  EXPECT_EQ(field(e, "root.email"), "amy.miles_200519@samplebob.com");
  EXPECT_EQ(field(e, "work.employeeIdInCompany"), "39");
  EXPECT_EQ(field(e, "work.yearsOfService"), "5.417");
  EXPECT_EQ(field(e, "work.reportsTo"), ""); // an object: not mapped, but present
  EXPECT_EQ(field(e, "work.reportsTo.email"), "zoe.clark_200519@samplebob.com");
  EXPECT_EQ(field(e, "work.department"), "Product");
  EXPECT_EQ(field(e, "work.custom.field_1"), std::nullopt);
  EXPECT_EQ(field(e, "payroll.salary.monthlyPayment.value"), "3333.3333333333335");
  EXPECT_EQ(field(e, "payroll.employment.fte"), "100");
  EXPECT_EQ(field(e, "payroll.employment.workingPattern.raw"), "");
  EXPECT_EQ(field(e, "payroll.employment.siteWorkingPattern.days.monday"), "true");
  EXPECT_EQ(field(e, "payroll.employment.siteWorkingPattern.days.sunday"), "false");
  EXPECT_EQ(field(e, "home.mobilePhone"), "914-963-9202");
  EXPECT_EQ(field(e, "about.hobbies"), "");
  EXPECT_EQ(field(e, "internal.terminationDate"), "");
}

// ---- hand-written shapes ------------------------------------------------------------

TEST(BobRecordShapes, FlatOnly) {
  const auto e = parse_one(read_testdata("handwritten-flat-only.json"),
                           {"root.email", "work.title", "work.employeeIdInCompany", "work.site"});
  EXPECT_EQ(e.id, "3332883854254932743"); // from "/root/id"
  EXPECT_EQ(field(e, "root.email"), "flat.only@example.com");
  EXPECT_EQ(field(e, "work.title"), "X");
  EXPECT_EQ(field(e, "work.employeeIdInCompany"), "1042");
  EXPECT_EQ(field(e, "work.site"), std::nullopt);
}

TEST(BobRecordShapes, NestedOnly) {
  const auto e = parse_one(read_testdata("handwritten-nested-only.json"),
                           {"root.email",
                            "root.displayName",
                            "root.secondName",
                            "root.surname",
                            "work.title",
                            "work.department",
                            "work.employeeIdInCompany",
                            "work.isManager",
                            "work.startDate",
                            "payroll.employment.fte",
                            "payroll.employment.type"});
  EXPECT_EQ(e.id, "3332883804594373380"); // a JSON number, kept exactly
  EXPECT_EQ(field(e, "root.email"), "nested.only@example.com");
  EXPECT_EQ(field(e, "root.displayName"), "Zoë Ødegård");
  EXPECT_EQ(field(e, "root.secondName"), "");
  EXPECT_EQ(field(e, "root.surname"), std::nullopt);
  EXPECT_EQ(field(e, "work.title"), "Engineer");
  EXPECT_EQ(field(e, "work.department"), "");
  EXPECT_EQ(field(e, "work.employeeIdInCompany"), "1042");
  EXPECT_EQ(field(e, "work.isManager"), "false");
  EXPECT_EQ(field(e, "work.startDate"), "2026-12-01");
  EXPECT_EQ(field(e, "payroll.employment.fte"), "37.5");
  EXPECT_EQ(field(e, "payroll.employment.type"), "");
  EXPECT_EQ(e.fields.size(), 11U);   // the 10 fields and root.id; no @machine without humanReadable
  EXPECT_EQ(e.get("root.id"), e.id); // mappable like any other field
}

TEST(BobRecordShapes, SearchWithListIdsAndDisplayDates) {
  std::string error;
  const auto employees =
      employees_from_search_text(read_testdata("handwritten-search-list-ids.json"),
                                 {"root.displayName", "work.title", "work.startDate"},
                                 error);
  ASSERT_TRUE(employees.has_value()) << error;
  ASSERT_EQ(employees->size(), 2U);
  const auto& jose = (*employees)[0];
  EXPECT_EQ(field(jose, "root.displayName"), "José Núñez");
  EXPECT_EQ(field(jose, "work.title"), "CEO");
  EXPECT_EQ(field(jose, "work.title@machine"), "253271839");
  EXPECT_EQ(field(jose, "work.startDate"), "01/12/2026");
  EXPECT_EQ(field(jose, "work.startDate@machine"), "2026-12-01");
  const auto& ivan = (*employees)[1];
  EXPECT_EQ(ivan.id, "3332883804594373380");
  EXPECT_EQ(field(ivan, "root.displayName"), "Иван Петров");
  EXPECT_EQ(field(ivan, "work.title"), "");
  EXPECT_EQ(field(ivan, "work.startDate"), "");
  EXPECT_EQ(field(ivan, "work.startDate@machine"), std::nullopt);
}

struct PresenceCase {
  const char* name;
  std::string json;
  std::optional<std::string> title;           // work.title
  std::optional<std::string> machine_title{}; // work.title@machine
};

class BobRecordPresenceTest : public ::testing::TestWithParam<PresenceCase> {};

TEST_P(BobRecordPresenceTest, ReadsWorkTitle) {
  const auto e = parse_one(GetParam().json, {"work.title"});
  EXPECT_EQ(field(e, "work.title"), GetParam().title);
  EXPECT_EQ(field(e, "work.title@machine"), GetParam().machine_title);
}

INSTANTIATE_TEST_SUITE_P(
    BobRecordPresence,
    BobRecordPresenceTest,
    ::testing::Values(
        PresenceCase{"Absent", R"({"id": "1"})", std::nullopt},
        PresenceCase{"OtherCategoryOnly", R"({"id": "1", "work": {"site": "x"}})", std::nullopt},
        PresenceCase{"NestedNull", R"({"id": "1", "work": {"title": null}})", ""},
        PresenceCase{"NestedEmpty", R"({"id": "1", "work": {"title": ""}})", ""},
        PresenceCase{"CategoryNull", R"({"id": "1", "work": null})", ""},
        PresenceCase{"CategoryNotObject", R"({"id": "1", "work": "x"})", std::nullopt},
        PresenceCase{"FlatNull", R"({"id": "1", "/work/title": {"value": null}})", ""},
        PresenceCase{"FlatValue", R"({"id": "1", "/work/title": {"value": "T"}})", "T"},
        PresenceCase{"NestedNullFlatValue",
                     R"({"id": "1", "work": {"title": null}, "/work/title": {"value": "T"}})",
                     "T"},
        PresenceCase{"NestedBeatsFlat",
                     R"({"id": "1", "work": {"title": "N"}, "/work/title": {"value": "F"}})",
                     "N"},
        PresenceCase{
            "HumanNullOnly", R"({"id": "1", "humanReadable": {"work": {"title": null}}})", ""},
        PresenceCase{
            "HumanOnly", R"({"id": "1", "humanReadable": {"work": {"title": "CEO"}}})", "CEO"},
        PresenceCase{"HumanBeatsMachine",
                     R"({"id": "1", "work": {"title": "253271839"},
                         "/work/title": {"value": "253271839"},
                         "humanReadable": {"work": {"title": "CEO"}}})",
                     "CEO",
                     "253271839"},
        PresenceCase{"HumanNullFallsBackToMachine",
                     R"({"id": "1", "work": {"title": "253271839"},
                         "humanReadable": {"work": {"title": null}}})",
                     "253271839"},
        PresenceCase{"HumanObjectFallsBackToMachine",
                     R"({"id": "1", "work": {"title": "253271839"},
                         "humanReadable": {"work": {"title": {"x": 1}}}})",
                     "253271839"},
        PresenceCase{"Number", R"({"id": "1", "work": {"title": 1042}})", "1042"},
        PresenceCase{"NegativeNumber", R"({"id": "1", "work": {"title": -7}})", "-7"},
        PresenceCase{"Float", R"({"id": "1", "work": {"title": 0.5}})", "0.5"},
        PresenceCase{"Boolean", R"({"id": "1", "work": {"title": true}})", "true"},
        PresenceCase{"Array", R"({"id": "1", "work": {"title": ["a"]}})", ""},
        PresenceCase{"Object", R"({"id": "1", "work": {"title": {"a": 1}}})", ""},
        // A key repeated in one object: the last one counts, whole.
        PresenceCase{
            "RepeatedKeyLastWins", R"({"id": "1", "work": {"title": "A", "title": "B"}})", "B"},
        PresenceCase{"RepeatedCategoryReplacesTheFirst",
                     R"({"id": "1", "work": {"title": "A"}, "work": {"site": "x"}})",
                     std::nullopt},
        PresenceCase{"RepeatedCategoryNullThenObject",
                     R"({"id": "1", "work": null, "work": {"title": "A"}})",
                     "A"},
        PresenceCase{"RepeatedCategoryObjectThenNull",
                     R"({"id": "1", "work": {"title": "A"}, "work": null})",
                     ""},
        // Nothing inside an array is a field, even with the right keys.
        PresenceCase{"CategoryArray", R"({"id": "1", "work": [{"title": "A"}]})", std::nullopt},
        PresenceCase{"FlatScalar", R"({"id": "1", "/work/title": "T"})", "T"},
        PresenceCase{"FlatObjectWithoutValue", R"({"id": "1", "/work/title": {"x": "T"}})", ""},
        PresenceCase{"FlatValueObject", R"({"id": "1", "/work/title": {"value": {"a": 1}}})", ""},
        PresenceCase{"FlatValueRepeated",
                     R"({"id": "1", "/work/title": {"value": "A", "value": "B"}})",
                     "B"},
        PresenceCase{"KeyWithTheSeparator", R"({"id": "1", "work.title": "A"})", std::nullopt},
        PresenceCase{
            "EscapedKeys", R"({"id": "1", "w\u006frk": {"\u0074itle": "A\u00e9"}})", "A\u00e9"}),
    [](const ::testing::TestParamInfo<PresenceCase>& p) { return p.param.name; });

TEST(BobRecordShapes, RootFieldsAreAtTheTopLevel) {
  const auto e = parse_one(
      R"({"id": "1", "email": "top@example.com", "root": {"email": "wrong@example.com"},
          "humanReadable": {"firstName": "Zoë"}})",
      {"root.email", "root.firstName"});
  EXPECT_EQ(field(e, "root.email"), "top@example.com");
  EXPECT_EQ(field(e, "root.firstName"), "Zoë");
}

// ---- ids --------------------------------------------------------------------------------

struct IdCase {
  const char* name;
  std::string json;
  std::optional<std::string> id; // nullopt: rejected
};

class BobRecordIdTest : public ::testing::TestWithParam<IdCase> {};

TEST_P(BobRecordIdTest, ReadsId) {
  std::string error;
  const auto e = employee_from_json_text(GetParam().json, {}, error);
  if (GetParam().id) {
    ASSERT_TRUE(e.has_value()) << error;
    EXPECT_EQ(e->id, *GetParam().id);
  } else {
    EXPECT_FALSE(e.has_value());
    EXPECT_NE(error.find("'id'"), std::string::npos) << error;
  }
}

INSTANTIATE_TEST_SUITE_P(
    BobRecordId,
    BobRecordIdTest,
    ::testing::Values(
        IdCase{"String19Digits", R"({"id": "3980342332732998349"})", "3980342332732998349"},
        IdCase{"Number19Digits", R"({"id": 3980342332732998349})", "3980342332732998349"},
        IdCase{"NumberAboveInt64", R"({"id": 18446744073709551615})", "18446744073709551615"},
        IdCase{
            "FlatOnly", R"({"/root/id": {"value": "3332883854254932743"}})", "3332883854254932743"},
        IdCase{
            "FlatNumber", R"({"/root/id": {"value": 3332883854254932743}})", "3332883854254932743"},
        IdCase{"NestedWinsOverFlat", R"({"id": "1", "/root/id": {"value": "2"}})", "1"},
        IdCase{"EmptyNestedFallsBackToFlat", R"({"id": "", "/root/id": {"value": "2"}})", "2"},
        IdCase{"Missing", R"({"email": "a@example.com"})", std::nullopt},
        IdCase{"Empty", R"({"id": ""})", std::nullopt},
        IdCase{"Null", R"({"id": null})", std::nullopt},
        IdCase{"Boolean", R"({"id": true})", std::nullopt},
        IdCase{"Float", R"({"id": 1.5})", std::nullopt},
        IdCase{"TooBigForExactInteger", R"({"id": 123456789012345678901234})", std::nullopt},
        IdCase{"Object", R"({"id": {"value": "1"}})", std::nullopt}),
    [](const ::testing::TestParamInfo<IdCase>& p) { return p.param.name; });

// ---- errors -------------------------------------------------------------------------------

TEST(BobRecordErrors, SingleEmployeeMalformedJson) {
  EXPECT_EQ(parse_one_error(R"({"id": "1", "email": tru})"),
            "malformed JSON: invalid value at byte 21");
  EXPECT_EQ(parse_one_error(R"({"id": "1", "email": nul})"),
            "malformed JSON: invalid value at byte 21");
  EXPECT_EQ(parse_one_error(R"({"id": "1", "x": 01})").rfind("malformed JSON: ", 0), 0U);
  EXPECT_EQ(parse_one_error(R"({"id": "1", "x": [1, 2}})").rfind("malformed JSON: ", 0), 0U);
  // A value off every path is checked all the same.
  EXPECT_EQ(parse_one_error(R"({"id": "1", "other": {"deep": [1, tru]}})"),
            "malformed JSON: invalid value at byte 34");
  EXPECT_EQ(parse_one_error(R"({"id": "1", "x": 1e999})").rfind("malformed JSON: ", 0), 0U);
  EXPECT_EQ(parse_one_error("{\"id\": \"1\", \"x\": \"\xff\"}").rfind("malformed JSON: ", 0), 0U);
  EXPECT_EQ(parse_one_error(R"({"id": "1", "x": "\ud800"})").rfind("malformed JSON: ", 0), 0U);
  std::string deep = R"({"id": "1", "x": )";
  for (int i = 0; i < 200; ++i) {
    deep += "[";
  }
  EXPECT_EQ(parse_one_error(deep + std::string(200, ']') + "}").rfind("malformed JSON: ", 0), 0U);
}

TEST(BobRecordErrors, SingleEmployeeNotAnObject) {
  EXPECT_NE(parse_one_error(R"(["x"])").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(parse_one_error("").find("malformed JSON"), std::string::npos);
  EXPECT_EQ(parse_one_error(R"("x")"), "expected a JSON object for the employee, got string");
  EXPECT_EQ(parse_one_error("null"), "expected a JSON object for the employee, got null");
  EXPECT_EQ(parse_one_error("42"), "expected a JSON object for the employee, got number");
  EXPECT_EQ(parse_one_error("true"), "expected a JSON object for the employee, got boolean");
  EXPECT_EQ(parse_one_error("[1, 2]"), "expected a JSON object for the employee, got array");
  // A syntax error wins over the wrong type: the text is not JSON at all.
  EXPECT_NE(parse_one_error("[1, 2").find("malformed JSON"), std::string::npos);
  EXPECT_NE(parse_one_error(R"({"id": "1"} x)").find("malformed JSON"), std::string::npos);
  EXPECT_EQ(parse_one_error(R"({"id": "1", "email": "a@example.com")"),
            "malformed JSON: truncated, or trailing characters after the employee at byte 36");
  // A NUL byte does not end the text (nlohmann, the earlier reader, stopped there).
  EXPECT_EQ(
      parse_one_error(std::string("{\"id\": \"1\"}\0{\"x\": 1}", 21)).rfind("malformed JSON", 0),
      0U);
}

TEST(BobRecordErrors, SearchMalformedJson) {
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"},]})"),
            "employees[1] is not an object at byte 27");
  // Outside the employee objects, the answer is checked as JSON too (byte
  // offsets are the answer's, though the objects were cut out).
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}], "a": tru})"), "invalid value at byte 34");
  EXPECT_NE(search_error(R"({"employees": [{"id": "1"}] "a": 1})").find(" at byte 28"),
            std::string::npos);
}

TEST(BobRecordErrors, SearchTruncatedBody) {
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}, {"id": "2", "em)"),
            "unexpected end of the response at byte 43");
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}, {"id": "2"})"),
            "unexpected end of the response at byte 39");
}

TEST(BobRecordErrors, SearchWithoutEmployeesArray) {
  EXPECT_EQ(search_error(R"({"people": []})"), "no \"employees\" array in the response");
  EXPECT_EQ(search_error(R"({"x": {"employees": []}})"), "no \"employees\" array in the response");
  EXPECT_EQ(search_error(R"({"employees": {"id": "1"}})"),
            "\"employees\" is not an array at byte 14");
  EXPECT_EQ(search_error(R"({"employees": null})"), "\"employees\" is not an array at byte 14");
  EXPECT_EQ(search_error(R"([{"id": "1"}])"), "expected a JSON object at byte 0");
  EXPECT_EQ(search_error(R"([[{"id": "1"}]])"), "expected a JSON object at byte 0");
  EXPECT_EQ(search_error(R"("employees")"), "expected a JSON object at byte 0");
  EXPECT_EQ(search_error(""), "empty response");
}

TEST(BobRecordErrors, AnAmbiguousEmployeesArrayIsRefused) {
  // Two arrays: which one is the list of people? Neither is guessed.
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}], "employees": [{"id": "2"}]})")
                .rfind("\"employees\" appears twice", 0),
            0U);
  EXPECT_EQ(search_error(R"({"employees": null, "employees": [{"id": "2"}]})")
                .rfind("\"employees\" is not an array", 0),
            0U);
  // A key written with escapes is the same key to a JSON reader.
  EXPECT_EQ(search_error(R"({"employ\u0065es": [{"id": "1"}]})"),
            "the \"employees\" array could not be cut out at byte 31");
}

TEST(BobRecordErrors, AnAnswerOfOtherContentIsRefusedNotHeld) {
  // Everything outside the employee objects is kept until the end: bounded.
  const std::string filler =
      R"({"employees": [{"id": "1"}], "padding": ")" + std::string((16 << 20) + 1, 'x') + R"("})";
  EXPECT_EQ(search_error(filler).rfind("more than 16 MB of the answer is not employee objects", 0),
            0U);
  // The same bytes inside employee objects are read as employees.
  std::string many = R"({"employees": [)";
  for (int i = 0; i < 20000; ++i) {
    many += (i == 0 ? "" : ",") + std::string(R"({"id": ")") + std::to_string(i + 1)
            + R"(", "x": ")" + std::string(1000, 'y') + R"("})";
  }
  many += "]}";
  std::string error;
  const auto employees = employees_from_search_text(many, {"root.email"}, error);
  ASSERT_TRUE(employees.has_value()) << error;
  EXPECT_EQ(employees->size(), 20000U);
}

TEST(BobRecordErrors, SearchElementNotAnObject) {
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}, {"id": "2"}, {"id": "3"}, 7]})"),
            "employees[3] is not an object at byte 54");
  EXPECT_EQ(search_error(R"({"employees": [[{"id": "1"}]]})"),
            "employees[0] is not an object at byte 15");
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}, null]})"),
            "employees[1] is not an object at byte 28");
}

TEST(BobRecordErrors, SearchElementWithoutIdNamesTheElement) {
  const auto error =
      search_error(R"({"employees": [{"id": "1"}, {"email": "no-id@example.com"}, {"id": "3"}]})");
  EXPECT_EQ(error.rfind("employees[1]: ", 0), 0U) << error;
  EXPECT_NE(error.find("'id'"), std::string::npos) << error;
}

TEST(BobRecordErrors, FirstProblemIsReported) {
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}, 2, {"x": 1}]})"),
            "employees[1] is not an object at byte 28");
  EXPECT_EQ(search_error(R"({"employees": [{"id": "1"}, {"x": 1}, {"id": tru}]})")
                .rfind("employees[1]: missing or invalid 'id'", 0),
            0U);
}

TEST(BobRecordErrors, HugeBodiesAreNotEchoed) {
  const std::string huge_string =
      R"({"employees": [{"id": "1", "x": ")" + std::string(1 << 20, 'a');
  const auto unterminated = search_error(huge_string);
  EXPECT_NE(unterminated.find("unexpected end"), std::string::npos);
  EXPECT_LT(unterminated.size(), 300U) << unterminated.size();

  const std::string huge_token = R"({"employees": [{"id": )" + std::string(1 << 20, '9') + "x";
  const auto bad_number = search_error(huge_token);
  EXPECT_LT(bad_number.size(), 300U) << bad_number.size();

  const auto single = parse_one_error(R"({"id": ")" + std::string(1 << 20, 'b'));
  EXPECT_NE(single.find("malformed JSON"), std::string::npos);
  EXPECT_LT(single.size(), 300U) << single.size();
}

// ---- search: other ----------------------------------------------------------------------

TEST(BobRecordSearch, EmptyEmployeesIsNotAnError) {
  std::string error;
  const auto employees = employees_from_search_text(R"({"employees": []})", {"root.email"}, error);
  ASSERT_TRUE(employees.has_value()) << error;
  EXPECT_TRUE(employees->empty());
}

TEST(BobRecordSearch, OtherTopLevelKeysAreIgnored) {
  std::string error;
  const auto employees = employees_from_search_text(
      R"({"meta": {"employees": [1, 2]}, "employees": [{"id": "7", "email": "a@example.com"}],
          "total": 1})",
      {"root.email"},
      error);
  ASSERT_TRUE(employees.has_value()) << error;
  ASSERT_EQ(employees->size(), 1U);
  EXPECT_EQ((*employees)[0].id, "7");
  EXPECT_EQ(field((*employees)[0], "root.email"), "a@example.com");
}

TEST(BobRecordSearch, ManyEmployeesKeepOrderAndIds) {
  std::string body = R"({"employees": [)";
  constexpr std::uint64_t k_base = 3332883804594373380ULL;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    body += (i == 0 ? "" : ",");
    body += R"({"id": )" + std::to_string(k_base + i) + R"(, "work": {"employeeIdInCompany": )"
            + std::to_string(i) + R"(}, "/root/email": {"value": "p)" + std::to_string(i)
            + R"(@example.com"}})";
  }
  body += "]}";
  std::string error;
  const auto employees =
      employees_from_search_text(body, {"root.email", "work.employeeIdInCompany"}, error);
  ASSERT_TRUE(employees.has_value()) << error;
  ASSERT_EQ(employees->size(), 2000U);
  for (std::uint64_t i = 0; i < 2000; i += 399) {
    const auto& e = (*employees)[i];
    EXPECT_EQ(e.id, std::to_string(k_base + i));
    EXPECT_EQ(field(e, "root.email"), "p" + std::to_string(i) + "@example.com");
    EXPECT_EQ(field(e, "work.employeeIdInCompany"), std::to_string(i));
  }
}

} // namespace
} // namespace bobsync::controller
