#include "sandbox/fake_bob_fields.hpp"

#include <nlohmann/json.hpp>

namespace bobsync::sandbox {

std::vector<BobFieldMeta> default_field_catalogue() {
  // id, UI label, category, type, list id, historical
  return {
      {"root.id", "ID", "root", "employee-reference", "", false},
      {"root.companyId", "Company id", "root", "number", "", false},
      {"root.email", "Email", "root", "text", "", false},
      {"root.firstName", "First name", "root", "text", "", false},
      {"root.surname", "Last name", "root", "text", "", false},
      {"root.secondName", "Middle name", "root", "text", "", false},
      {"root.displayName", "Display name", "root", "text", "", false},
      {"root.fullName", "Full name", "root", "text", "", false},
      {"root.creationDateTime", "Creation timestamp", "root", "time", "", false},
      {"root.avatarUrl", "Avatar URL", "root", "avatar", "", false},
      {"root.state", "State", "userData", "list", "state", false},
      {"work.employeeIdInCompany", "Employee ID", "work", "number", "", false},
      {"work.title", "Title", "work", "list", "title", true},
      {"work.department", "Department", "work", "list", "department", true},
      {"work.site", "Site", "work", "text", "", false},
      {"work.siteId", "Site", "work", "list_id", "site", true},
      {"work.startDate", "Start date", "work", "date", "", false},
      {"work.originalStartDate", "Original start date", "work", "date", "", false},
      {"work.reportsTo", "Reports to", "work", "employee", "", true},
      {"work.reportsTo.email", "Manager's email", "work", "text", "", false},
      {"work.manager", "Manager", "work", "employee-reference", "", true},
      {"work.reportsToIdInCompany", "Manager's ID", "work", "number", "", false},
      {"work.secondLevelManager", "Second level manager", "work", "employee-reference", "", false},
      {"work.isManager", "Is a manager", "work", "boolean", "", false},
      {"work.tenureDuration", "Tenure", "work", "text", "", false},
      {"work.workPhone", "Work phone", "workContact", "text", "", false},
      {"work.workMobile", "Work mobile", "workContact", "text", "", false},
      {"home.mobilePhone", "Personal mobile", "personalContact", "text", "", false},
      {"home.privateEmail", "Personal email", "personalContact", "text", "", false},
      {"home.privatePhone", "Personal phone", "personalContact", "text", "", false},
      {"personal.communication.slackUsername", "Slack username", "workContact", "text", "", false},
      {"personal.pronouns", "Pronouns", "personal", "list", "pronouns", false},
      {"personal.birthday", "Birthday", "personal", "date", "", false},
      {"personal.nationality", "Nationality", "personal", "multi-list", "nationalities", false},
      {"payroll.employment.type",
       "Employment type",
       "employment",
       "list",
       "payrollEmploymentType",
       true},
      {"payroll.employment.contract",
       "Employment contract",
       "employment",
       "list",
       "employmentstatus",
       true},
      {"payroll.employment.weeklyHours", "Weekly hours", "employment", "number", "", true},
      {"internal.status", "Status", "lifecycle", "list", "status", true},
      {"internal.lifecycleStatus",
       "Lifecycle status",
       "lifecycle",
       "list",
       "lifecycleStatus",
       true},
      {"internal.terminationDate", "Termination date", "lifecycle", "date", "", false},
      {"internal.terminationReason",
       "Reason for termination",
       "lifecycle",
       "list",
       "terminationreason",
       false},
      {"internal.terminationType",
       "Leave and termination type",
       "lifecycle",
       "list",
       "lifecycleReasonType",
       false},
      {"internal.currentActiveStatusStartDate",
       "current active lifecycle start date",
       "lifecycle",
       "date",
       "",
       false},
      {"internal.probationEndDate", "Probation end date", "lifecycle", "date", "", false},
      {"employee.lastDayOfWork", "Last day of work", "lifecycle", "date", "", false},
      {"employee.firstDayOfWork", "First day of work", "lifecycle", "date", "", false},
      {"employee.recentLeaveStartDate", "Recent leave start date", "lifecycle", "date", "", false},
      {"employee.recentLeaveEndDate", "Recent leave end date", "lifecycle", "date", "", false},
      {"employee.orgLevel", "Org level", "work", "list", "orgLevels", false},
      {"address.line1", "Address line 1", "address", "text", "", true},
      {"address.line2", "Address line 2", "address", "text", "", true},
      {"address.city", "City", "address", "text", "", true},
      {"address.postCode", "Postal code", "address", "text", "", true},
      {"address.country", "Country", "address", "list", "countries", true},
      {"about.about", "About", "about", "text-area", "", false},
      {"about.hobbies", "Hobbies", "about", "multi-list", "hobbies", false},
      {"about.socialData.linkedin", "LinkedIn", "about", "text", "", false},
      {"work.custom.field_1644932887286", "Cost center", "work", "list", "costCenter", false},
      {"work.custom.field_1651148213507", "Laptop tag", "work", "text", "", false},
      {"root.custom.field_1662537290731", "Preferred name", "root", "text", "", false},
      {"work.customColumns.column_1655996461265", "Entity", "work", "list", "entity", true},
  };
}

std::string field_catalogue_json(const std::vector<BobFieldMeta>& fields) {
  auto doc = nlohmann::ordered_json::array();
  for (const auto& f : fields) {
    nlohmann::ordered_json j;
    j["id"] = f.id;
    j["name"] = f.name;
    j["category"] = f.category;
    j["type"] = f.type;
    j["jsonPath"] = f.id.rfind("root.", 0) == 0 ? f.id.substr(5) : f.id;
    j["historical"] = f.historical;
    j["description"] = "";
    if (!f.list_id.empty()) {
      j["typeData"] = {{"listId", f.list_id}};
    }
    doc.push_back(std::move(j));
  }
  return doc.dump();
}

} // namespace bobsync::sandbox
