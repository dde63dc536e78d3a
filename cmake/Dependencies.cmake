# Every external dependency, in one place. All come from Debian 12 packages
# (tools/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(date REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(SQLiteCpp REQUIRED)
find_package(Boost REQUIRED COMPONENTS program_options)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
# Logging and metrics of `run`: spdlog 1.10 (with the fmt package), and only
# the core library of prometheus-cpp 1.0 (registry + text serializer; its
# pull server and push gateway are not used, so their CMake package is not
# loaded: it would demand civetweb, zlib and curl).
find_package(spdlog 1.10 REQUIRED)
pkg_check_modules(PROMETHEUS_CORE REQUIRED IMPORTED_TARGET prometheus-cpp-core>=1.0)
# RE2: the policy's regular expressions, matched in linear time.
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
# simdjson 3.0 (libsimdjson-dev): the bulk JSON reader of JumpCloud's pages.
# Its CMake package's target simdjson::simdjson carries
# SIMDJSON_THREADS_ENABLED=1, which the shared library was built with (the
# parser's layout depends on it: never include simdjson.h without it).
find_package(simdjson 3.0 REQUIRED)
if(BUILD_TESTING)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
