#pragma once

// The synthetic employees of the controller and apply benchmarks, put in a
// FakeBob: all active, each with a unique email and employee number.

#include "sandbox/fake_bob.hpp"

#include <string>
#include <utility>

namespace bobsync::bench {

inline void add_employees(sandbox::FakeBob& bob, int n) {
  bob.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    sandbox::BobEmployee e;
    e.id = std::to_string(4000000000000000000LL + i);
    const auto number = std::to_string(100000 + i);
    e.set("root.firstName", sandbox::BobValue::string("First" + number));
    e.set("root.surname", sandbox::BobValue::string("Last"));
    e.set("root.displayName", sandbox::BobValue::string("First" + number + " Last"));
    e.set("root.email", sandbox::BobValue::string("p" + number + "@example.com"));
    e.set("work.title", sandbox::BobValue::string("Engineer"));
    e.set("work.department", sandbox::BobValue::string("R&D"));
    e.set("work.site", sandbox::BobValue::string("London"));
    e.set("work.startDate", sandbox::BobValue::string("2020-01-06"));
    e.set("work.employeeIdInCompany", sandbox::BobValue::number(number));
    e.set("work.workPhone", sandbox::BobValue::string("+44 20 7946 0000"));
    e.set("payroll.employment.type", sandbox::BobValue::string("Full-time"));
    e.set("internal.status", sandbox::BobValue::string("Active"));
    bob.put_employee(std::move(e));
  }
}

} // namespace bobsync::bench
