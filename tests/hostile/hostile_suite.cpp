// Hostile input and secrets (issue 10 §4): Bob data that tries to rewrite a
// terminal, break a parser, exhaust memory or hijack an account; policies
// that try to hang or exhaust the parser; TLS that cannot be switched off; and,
// after every case, a scan of everything produced for the secret values.
// Each case runs against a fresh sandbox (the fakes over loopback), through
// `cli::run` in-process or the real `bobsync` binary (BOBSYNC_BINARY, whose
// time and peak memory are measured), and checks what JumpCloud ends up
// holding. Ends with one line `N passed, M failed` (docs/testing.md).
//
//   hostile_suite [--employees N] [--string-mb M] [--case NAME]
//
// The first case, "self-test of the checks", plants a defect for each check
// and fails if a check does not notice it.

#include "controller/adapters/http/curl_transport.hpp"
#include "controller/cli/cli.hpp"
#include "controller/ports/clock.hpp"
#include "sandbox/sandbox.hpp"
#include "tests/e2e/e2e_support.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace bobsync::hostile {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string k_bob_user = "svc-HOSTILE-user-3318";
const std::string k_bob_token = "bob-token-S3CR3T-hostile-6642";
const std::string k_jc_key = "jc-key-S3CR3T-hostile-2291";
const std::string k_webhook_secret = "webhook-S3CR3T-hostile-8807";
const std::string k_now = "2026-11-27";
constexpr double k_max_seconds = 30.0; // per command, in a Debug build too
constexpr long k_max_rss_mb = 1024;    // peak resident memory of one bobsync process
constexpr std::size_t k_jumpcloud_max_chars = 1024;

struct Options {
  int employees = 10000; // sharing one email
  int string_mb = 1;     // the long Bob strings
  std::string only;      // --case NAME
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

std::string base64(std::string_view in) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16U)
                       | (static_cast<unsigned char>(in[i + 1]) << 8U)
                       | static_cast<unsigned char>(in[i + 2]);
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += k_alphabet[(n >> 6U) & 63U];
    out += k_alphabet[n & 63U];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16U;
    if (i + 1 < in.size()) {
      n |= static_cast<unsigned char>(in[i + 1]) << 8U;
    }
    out += k_alphabet[(n >> 18U) & 63U];
    out += k_alphabet[(n >> 12U) & 63U];
    out += i + 1 < in.size() ? k_alphabet[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

// Collects what went wrong in one case.
struct Findings {
  std::vector<std::string> items;
  std::vector<std::string> notes; // figures and outcomes, printed either way
  void add(std::string what) { items.push_back(std::move(what)); }
  void note(std::string what) { notes.push_back(std::move(what)); }
  bool ok() const { return items.empty(); }
};

// ---------------------------------------------------------------------------
// The checks (each one is exercised by the self-test on a planted defect)

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1FU;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0FU;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07U;
    } else {
      return false;
    }
    if (i + n >= s.size()) {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0U) != 0x80U) {
        return false;
      }
      cp = (cp << 6U) | (b & 0x3FU);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Raw bytes that let displayed data rewrite a terminal line or reorder what
// a reader sees: C0 controls (but newline and tab), DEL, C1 controls
// (U+0080..U+009F), bidirectional overrides, embeddings and isolates,
// zero-width characters, line/paragraph separators, the BOM and the Arabic
// letter mark. Returns a description of the first few, empty when clean.
std::vector<std::string> unsafe_for_display(std::string_view text) {
  std::vector<std::string> found;
  const auto hit = [&](std::size_t at, const char* what) {
    if (found.size() < 3) {
      const auto from = at > 24 ? at - 24 : 0;
      std::string context;
      for (auto ch : text.substr(from, 48)) {
        const auto c = static_cast<unsigned char>(ch);
        context += c < 0x20 || c >= 0x7F ? '.' : ch;
      }
      found.push_back(std::string(what) + " at byte " + std::to_string(at) + " near \"" + context
                      + "\"");
    }
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto b1 = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0U;
    const auto b2 = i + 2 < text.size() ? static_cast<unsigned char>(text[i + 2]) : 0U;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
      hit(i, "raw control character");
    } else if (c == 0xC2 && b1 >= 0x80 && b1 <= 0x9F) {
      hit(i, "raw C1 control character");
    } else if (c == 0xE2 && b1 == 0x80
               && ((b2 >= 0x8B && b2 <= 0x8F) || (b2 >= 0xA8 && b2 <= 0xAE))) {
      hit(i, "raw bidi/zero-width/separator character");
    } else if (c == 0xE2 && b1 == 0x81 && b2 >= 0xA0 && b2 <= 0xAF) {
      hit(i, "raw bidi isolate/invisible operator");
    } else if (c == 0xEF && b1 == 0xBB && b2 == 0xBF) {
      hit(i, "raw BOM");
    } else if (c == 0xD8 && b1 == 0x9C) {
      hit(i, "raw Arabic letter mark");
    }
  }
  return found;
}

void check_display(const std::string& what, std::string_view text, Findings& f) {
  for (const auto& problem : unsafe_for_display(text)) {
    f.add(what + ": " + problem);
  }
}

// What JumpCloud holds: no two users share an email (case-insensitively), a
// username or an employeeIdentifier; every string is valid UTF-8 and within
// JumpCloud's declared 1024 characters.
void check_jumpcloud_users(const std::vector<json>& users, Findings& f) {
  std::map<std::string, std::set<std::string>> seen;
  std::function<void(const json&, const std::string&)> strings = [&](const json& v,
                                                                     const std::string& where) {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (!valid_utf8(s)) {
        f.add("JumpCloud holds invalid UTF-8 in " + where);
      }
      if (s.size() > 4 * k_jumpcloud_max_chars) { // bytes; at most 4 per character
        f.add("JumpCloud holds " + std::to_string(s.size()) + " bytes in " + where);
      }
    } else if (v.is_structured()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        strings(*it, where + (v.is_object() ? "." + it.key() : "[]"));
      }
    }
  };
  for (const auto& u : users) {
    for (const auto* key : {"email", "username", "employeeIdentifier"}) {
      const auto value = lower(u.value(key, ""));
      if (!value.empty() && !seen[key].insert(value).second) {
        f.add("JumpCloud holds two users with " + std::string(key) + " " + value.substr(0, 60));
      }
    }
    strings(u, u.value("username", "?"));
  }
}

struct Secrets {
  std::vector<std::pair<std::string, std::string>> values; // name, value
};

Secrets secrets() {
  return {{{"Bob token", k_bob_token},
           {"Bob service user id", k_bob_user},
           {"JumpCloud key", k_jc_key},
           {"webhook secret", k_webhook_secret},
           {"Bob Basic credentials", base64(k_bob_user + ":" + k_bob_token)}}};
}

// Every file under `dir` and the transcript, scanned for every secret;
// databases and plans must be 0600.
void check_secrets_and_modes(const std::string& dir, const std::string& transcript, Findings& f) {
  std::vector<std::pair<std::string, std::string>> sources{{"stdout/stderr", transcript}};
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    const auto name = entry.path().filename().string();
    sources.emplace_back(name, read_all(entry.path().string()));
    const bool sensitive = name.find(".db") != std::string::npos || name.find("plan") == 0;
    if (sensitive) {
      const auto perms = entry.status().permissions();
      if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
        f.add(name + " is readable by group or others");
      }
    }
  }
  for (const auto& [where, text] : sources) {
    for (const auto& [what, value] : secrets().values) {
      if (text.find(value) != std::string::npos) {
        f.add("the " + what + " appears in " + where);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// One case's world: a fresh sandbox, a temporary directory, the database.

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
  double seconds = 0;
  long rss_mb = 0; // the real binary only
  std::string text() const { return out + err; }
};

class World {
public:
  explicit World(bool seed = true) {
    std::string pattern = "/tmp/bobsync-hostile-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    m_dir = pattern;
    m_db = m_dir + "/state.db";
    m_policy = write_policy("policy.yaml", {});
    sandbox::SandboxConfig config;
    if (seed) {
      config.seed_dir = std::string(BOBSYNC_SOURCE_DIR) + "/examples/sandbox";
    }
    config.bob_user = k_bob_user;
    config.bob_token = k_bob_token;
    config.jumpcloud_key = k_jc_key;
    config.webhook_secret = k_webhook_secret;
    const auto fixed = std::chrono::sys_days{std::chrono::November / 27 / 2026};
    config.clock = [fixed] { return std::chrono::system_clock::time_point(fixed); };
    m_sandbox = std::make_unique<sandbox::Sandbox>(config);
    setenv("BOB_API_URL", m_sandbox->bob().base_url().c_str(), 1);
    setenv("JUMPCLOUD_API_URL", m_sandbox->jumpcloud().base_url().c_str(), 1);
    setenv("BOB_SERVICE_USER_ID", k_bob_user.c_str(), 1);
    setenv("BOB_SERVICE_USER_TOKEN", k_bob_token.c_str(), 1);
    setenv("JUMPCLOUD_API_KEY", k_jc_key.c_str(), 1);
    setenv("BOB_WEBHOOK_SECRET", k_webhook_secret.c_str(), 1);
    for (const auto* name : {"BOBSYNC_NOW", "BOBSYNC_DB", "BOBSYNC_CRASH_AT", "NO_COLOR"}) {
      unsetenv(name);
    }
  }
  ~World() {
    m_sandbox.reset();
    if (std::getenv("BOBSYNC_HOSTILE_KEEP") == nullptr) {
      fs::remove_all(m_dir);
    }
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // The example policy with some text replaced.
  std::string write_policy(const std::string& name,
                           const std::vector<std::pair<std::string, std::string>>& replacements) {
    std::string text = read_all(std::string(BOBSYNC_SOURCE_DIR) + "/examples/desired-state.yaml");
    for (const auto& [from, to] : replacements) {
      const auto at = text.find(from);
      if (at == std::string::npos) {
        throw std::runtime_error("policy has no '" + from + "'");
      }
      text.replace(at, from.size(), to);
    }
    const auto path = m_dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::vector<std::string> with_defaults(std::vector<std::string> args) const {
    const std::string command = args.front();
    if (command == "plan" || command == "apply" || command == "explain" || command == "run") {
      if (std::find(args.begin(), args.end(), "-f") == args.end()) {
        args.insert(args.end(), {"-f", m_policy});
      }
      args.insert(args.end(), {"--now", k_now});
    }
    if (command != "validate" && std::find(args.begin(), args.end(), "--db") == args.end()) {
      args.insert(args.end(), {"--db", m_db});
    }
    return args;
  }

  // The CLI in-process, with a manual clock: retries never really sleep.
  Outcome cli(std::vector<std::string> args) {
    args = with_defaults(std::move(args));
    cli::Hooks hooks;
    hooks.clock = std::make_shared<controller::ManualClock>();
    std::ostringstream out;
    std::ostringstream err;
    const auto start = Clock::now();
    Outcome o;
    o.code = cli::run(args, out, err, hooks);
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    o.out = out.str();
    o.err = err.str();
    m_transcript += o.out + o.err;
    return o;
  }

  // The real binary; its stdout and stderr are files in the case's
  // directory (scanned for secrets with the rest), its peak RSS measured.
  Outcome binary(std::vector<std::string> args, const std::vector<std::string>& extra_env = {}) {
    args = with_defaults(std::move(args));
    const auto n = std::to_string(++m_runs);
    const auto out_file = m_dir + "/run" + n + ".out";
    const auto err_file = m_dir + "/run" + n + ".err";
    // Through this program's small launcher (see main): the binary's peak
    // RSS as measured by wait4 would otherwise start at this process's own
    // (a spawned child's maxrss inherits its parent's at exec).
    const std::string binary = fs::read_symlink("/proc/self/exe").string();
    const std::string rss_file = m_dir + "/run" + n + ".rss";
    std::vector<std::string> argv{binary, "--exec-measured", rss_file, BOBSYNC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto start = Clock::now();
    const pid_t pid = e2e::spawn_program(binary, std::move(argv), extra_env, out_file, err_file);
    if (pid < 0) {
      throw std::runtime_error("cannot start " + binary);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Outcome o;
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    o.rss_mb = std::atol(read_all(rss_file).c_str()) / 1024;
    fs::remove(rss_file);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = read_all(out_file);
    o.err = read_all(err_file);
    return o;
  }

  std::vector<json> users() const {
    std::vector<json> out;
    for (const auto& text : m_sandbox->jumpcloud().users_json()) {
      out.push_back(json::parse(text));
    }
    return out;
  }

  std::optional<json> user_with_email(const std::string& email) const {
    for (auto& u : users()) {
      if (u.value("email", "") == email) {
        return u;
      }
    }
    return std::nullopt;
  }

  sandbox::FakeBob& bob() { return m_sandbox->bob(); }
  sandbox::FakeJumpCloud& jumpcloud() { return m_sandbox->jumpcloud(); }
  const std::string& dir() const { return m_dir; }
  const std::string& db() const { return m_db; }
  const std::string& policy() const { return m_policy; }
  std::string& transcript() { return m_transcript; }

private:
  std::string m_dir;
  std::string m_db;
  std::string m_policy;
  std::string m_transcript;
  int m_runs = 0;
  std::unique_ptr<sandbox::Sandbox> m_sandbox;
};

// A command's bounds: time, memory (real binary), no crash.
void check_bounds(const std::string& what, const Outcome& o, Findings& f) {
  if (o.seconds > k_max_seconds) {
    f.add(what + " took " + std::to_string(o.seconds) + " s (bound " + std::to_string(k_max_seconds)
          + " s)");
  }
  if (o.rss_mb > k_max_rss_mb) {
    f.add(what + " peaked at " + std::to_string(o.rss_mb) + " MB (bound "
          + std::to_string(k_max_rss_mb) + " MB)");
  }
  if (o.code > 3) {
    f.add(what + " ended with " + std::to_string(o.code)
          + " (a crash or signal): " + o.err.substr(0, 300));
  }
}

void check_exit(const std::string& what, const Outcome& o, std::set<int> expected, Findings& f) {
  check_bounds(what, o, f);
  if (expected.count(o.code) == 0) {
    f.add(what + " exited " + std::to_string(o.code) + ": " + o.text().substr(0, 400));
  }
}

std::string figures(const Outcome& o) {
  std::ostringstream s;
  s.precision(2);
  s << std::fixed << o.seconds << " s";
  if (o.rss_mb > 0) {
    s << ", " << o.rss_mb << " MB";
  }
  return s.str();
}

sandbox::BobEmployee
employee(const std::string& first, const std::string& last, const std::string& email, int eid) {
  sandbox::BobEmployee e;
  e.set("root.firstName", sandbox::BobValue::string(first));
  e.set("root.surname", sandbox::BobValue::string(last));
  e.set("root.displayName", sandbox::BobValue::string(first + " " + last));
  e.set("root.email", sandbox::BobValue::string(email));
  e.set("work.startDate", sandbox::BobValue::string("2024-01-08"));
  e.set("work.site", sandbox::BobValue::string("London"));
  e.set("work.title", sandbox::BobValue::string("253271805"));
  e.set("work.department", sandbox::BobValue::string("100"));
  e.set("work.employeeIdInCompany", sandbox::BobValue::number(std::to_string(eid)));
  e.set("payroll.employment.type", sandbox::BobValue::string("4501"));
  e.set("internal.status", sandbox::BobValue::string("Active"));
  e.set("internal.lifecycleStatus", sandbox::BobValue::string("employed"));
  return e;
}

std::optional<json> parse_json(const std::string& text) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return std::nullopt;
  }
  return doc;
}

// The changes of a `plan --json` output for one Bob id, "action:reason".
std::vector<std::string> plan_entries(const json& plan, const std::string& bob_id) {
  std::vector<std::string> out;
  for (const auto& c : plan.value("changes", json::array())) {
    if (c.value("bobId", "") == bob_id) {
      out.push_back(c.value("action", "") + ": " + c.value("reason", ""));
    }
  }
  return out;
}

int count_action(const json& plan, const std::string& action) {
  int n = 0;
  for (const auto& c : plan.value("changes", json::array())) {
    n += c.value("action", "") == action ? 1 : 0;
  }
  return n;
}

// ---------------------------------------------------------------------------
// The cases

// Every check, on a planted defect: each must notice.
void case_self_test(World& w, const Options& /*options*/, Findings& f) {
  const auto expect = [&f](bool noticed, const std::string& what) {
    if (!noticed) {
      f.add("the check did not notice " + what);
    }
  };
  for (const std::string& planted : {std::string("a\x1b[2Jb"),
                                     std::string("a\rb"),
                                     std::string("a\x7f"),
                                     std::string("a\xc2\x9b"
                                                 "31m"),
                                     std::string("abc\xe2\x80\xae"
                                                 "txt.exe"),
                                     std::string("a\xe2\x81\xa6"
                                                 "b"),
                                     std::string("a\xe2\x80\x8b"
                                                 "b"),
                                     std::string("\xef\xbb\xbf"
                                                 "a")}) {
    expect(!unsafe_for_display(planted).empty(), "an unsafe character in " + json(planted).dump());
  }
  expect(unsafe_for_display("José Núñez \\u202E\n\t").empty(), "(false alarm on safe text)");
  expect(!valid_utf8("a\xff"), "invalid UTF-8 (0xFF)");
  expect(!valid_utf8("\xc0\xaf"), "an overlong encoding");
  expect(!valid_utf8("\xed\xa0\x80"), "a UTF-16 surrogate");
  expect(!valid_utf8("\xe2\x80"), "a truncated sequence");
  expect(valid_utf8("Jos\xc3\xa9 \xf0\x9f\x98\x80"), "(false alarm on valid UTF-8)");
  {
    Findings planted;
    check_jumpcloud_users({json{{"email", "A@example.com"}, {"username", "a"}},
                           json{{"email", "a@example.com"}, {"username", "b"}}},
                          planted);
    expect(!planted.ok(), "two JumpCloud users whose emails differ by case");
  }
  {
    Findings planted;
    check_jumpcloud_users(
        {json{{"email", "a@example.com"}, {"displayname", std::string(5000, 'x')}}}, planted);
    expect(!planted.ok(), "a 5000-byte JumpCloud value");
  }
  {
    Findings planted;
    Outcome slow;
    slow.seconds = k_max_seconds + 1;
    slow.rss_mb = k_max_rss_mb + 1;
    slow.code = 139;
    check_bounds("planted", slow, planted);
    expect(planted.items.size() == 3, "a slow, big, crashed command");
  }
  // Secrets: one in the transcript, one encoded in a file, a world-readable
  // database and plan.
  for (const auto& [what, value] : secrets().values) {
    Findings planted;
    check_secrets_and_modes(w.dir(), "log line " + value + " end", planted);
    expect(!planted.ok(), "the " + what + " in stdout");
  }
  std::ofstream(w.dir() + "/logs.txt")
      << "Authorization: Basic " << base64(k_bob_user + ":" + k_bob_token) << "\n";
  {
    Findings planted;
    check_secrets_and_modes(w.dir(), "", planted);
    expect(!planted.ok(), "Basic credentials in a log file");
  }
  fs::remove(w.dir() + "/logs.txt");
  for (const auto* name : {"state.db", "state.db-wal", "plan.json"}) {
    std::ofstream(w.dir() + "/" + name) << "{}";
    fs::permissions(w.dir() + "/" + name,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read
                        | fs::perms::others_read);
    Findings planted;
    check_secrets_and_modes(w.dir(), "", planted);
    expect(!planted.ok(), std::string(name) + " with mode 0644");
    fs::remove(w.dir() + "/" + name);
  }
  // A real run produces the data the scan looks at (not vacuous).
  const auto o = w.cli({"plan"});
  expect(o.text().find("amelia.clarke") != std::string::npos, "(plan output without employees)");
  f.note("every check noticed its planted defect");
}

// Control characters and bidi overrides in every field Bob sends, shown by
// every command that prints Bob data.
void case_control_and_bidi(World& w, const Options& /*options*/, Findings& f) {
  const std::string esc = "\x1b[2J\x1b]0;pwned\x07";
  const std::string rlo = "\xe2\x80\xae"; // U+202E RIGHT-TO-LEFT OVERRIDE
  const std::string lri = "\xe2\x81\xa6"; // U+2066 LEFT-TO-RIGHT ISOLATE
  const std::string csi = "\xc2\x9b";     // U+009B (8-bit CSI)
  const std::string zw = "\xe2\x80\x8b";  // U+200B ZERO WIDTH SPACE
  auto e =
      employee("Mal" + esc + "lory", "Ev" + rlo + "lif" + lri, "mallory.evil@example.com", 7001);
  e.set("root.displayName",
        sandbox::BobValue::string("Mallory\r\x08\x08" + rlo + "nimda" + csi + "31m"));
  e.set("root.secondName", sandbox::BobValue::string("\xef\xbb\xbf" + zw + "\x7f"));
  e.set("work.title", sandbox::BobValue::string("Chief" + esc));
  e.set("work.department", sandbox::BobValue::string("Dept" + rlo + "gnp.exe"));
  e.set("work.workPhone", sandbox::BobValue::string("+44" + csi + "20\n7946"));
  e.set("work.site", sandbox::BobValue::string("London"));
  const auto id = w.bob().hire(e);
  // A second one whose email itself carries a bidi override.
  auto e2 = employee("Rtl", "Mail", "rtl" + rlo + "moc.liam@example.com", 7002);
  const auto id2 = w.bob().hire(e2);

  const auto text = w.cli({"plan"});
  check_exit("plan", text, {2}, f);
  check_display("plan (text)", text.text(), f);
  const auto md = w.cli({"plan", "--format", "markdown"});
  check_exit("plan --format markdown", md, {2}, f);
  check_display("plan --format markdown", md.text(), f);
  const auto js = w.cli({"plan", "--json", "--out", w.dir() + "/plan.json"});
  check_exit("plan --json --out", js, {2}, f);
  check_display("plan --json", js.text(), f);
  check_display("the saved plan", read_all(w.dir() + "/plan.json"), f);
  const auto plan = parse_json(js.out);
  if (!plan) {
    f.add("plan --json is not JSON");
    return;
  }
  f.note("plan: " + std::to_string(plan_entries(*plan, id).size())
         + " change(s) for the hostile "
           "employee; the bidi email: "
         + (plan_entries(*plan, id2).empty() ? std::string("none") : plan_entries(*plan, id2)[0]));
  // The saved plan read back has the same bytes of Bob data (the escaping is
  // only a rendering).
  const auto applied = w.cli({"apply", "--plan", w.dir() + "/plan.json"});
  check_exit("apply --plan", applied, {0}, f);
  check_display("apply", applied.text(), f);
  const auto user = w.user_with_email("mallory.evil@example.com");
  if (!user) {
    f.add("the hostile employee has no JumpCloud user");
  } else {
    const auto username = user->value("username", "");
    const bool clean = !username.empty() && std::islower(static_cast<unsigned char>(username[0]))
                       && std::all_of(username.begin(), username.end(), [](char c) {
                            return std::islower(static_cast<unsigned char>(c)) != 0
                                   || std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.'
                                   || c == '_' || c == '-';
                          });
    if (!clean) {
      f.add("username is not sanitized: " + json(username).dump());
    }
    if (user->value("displayname", "") != "Mallory\r\x08\x08" + rlo + "nimda" + csi + "31m") {
      f.add("displayname not written as Bob has it: " + user->value("displayname", ""));
    }
    f.note("JumpCloud: username " + username);
  }
  // Change it again in Bob: the update's old -> new values are shown too.
  w.bob().change(id, {{"work.title", sandbox::BobValue::string("Tit" + rlo + "le" + esc)}});
  const auto update = w.cli({"plan"});
  check_display("plan (update)", update.text(), f);
  const auto md_update = w.cli({"plan", "--format", "markdown"});
  check_display("plan --format markdown (update)", md_update.text(), f);
  // The controller's logs, text and JSON (real binary).
  const auto log_text =
      w.binary({"run", "--once", "--log-level", "debug", "--log-format", "text", "--no-webhooks"});
  check_exit("run --once (text logs)", log_text, {0}, f);
  check_display("run --once --log-format text", log_text.text(), f);
  w.bob().change(id, {{"work.title", sandbox::BobValue::string("T" + lri + esc)}});
  const auto log_json =
      w.binary({"run", "--once", "--log-level", "debug", "--log-format", "json", "--no-webhooks"});
  check_exit("run --once (json logs)", log_json, {0}, f);
  check_display("run --once --log-format json", log_json.text(), f);
  for (const auto& [what, o] : std::vector<std::pair<std::string, Outcome>>{
           {"history", w.cli({"history"})},
           {"history --employee", w.cli({"history", "--employee", id})},
           {"explain", w.cli({"explain", id})},
           {"explain (bidi email)", w.cli({"explain", id2})},
           {"status", w.cli({"status"})}}) {
    check_exit(what, o, {0}, f);
    check_display(what, o.text(), f);
  }
  const auto again = w.cli({"apply"});
  check_exit("apply (converged)", again, {0}, f);
  check_jumpcloud_users(w.users(), f);
}

// Invalid UTF-8 in one employee's fields of Bob's answer.
void case_invalid_utf8(World& w, const Options& /*options*/, Findings& f) {
  auto e = employee("Bad\xff\xfe", "Bytes\xc0\xaf", "bad.bytes@example.com", 7101);
  e.set("root.displayName", sandbox::BobValue::string("Bad \xed\xa0\x80 Bytes\xe2\x80"));
  e.set("work.title", sandbox::BobValue::string("\xf8\x88\x80\x80\x80"));
  const auto id = w.bob().hire(e);
  const auto js = w.cli({"plan", "--json"});
  check_bounds("plan --json", js, f);
  check_display("plan --json", js.text(), f);
  const auto text = w.cli({"plan"});
  check_bounds("plan", text, f);
  check_display("plan", text.text(), f);
  const auto applied = w.cli({"apply"});
  check_bounds("apply", applied, f);
  check_display("apply", applied.text(), f);
  const auto plan = parse_json(js.out);
  if (js.code == 1 || js.code == 3) {
    // Refused as a whole: the message must say what and where.
    const bool named = js.err.find("UTF-8") != std::string::npos
                       || js.err.find("utf-8") != std::string::npos
                       || js.err.find(id) != std::string::npos;
    if (!named) {
      f.add("plan refused Bob's answer without naming the bad bytes: " + js.err.substr(0, 300));
    }
    f.note("refused: " + js.err.substr(0, 160));
  } else if (!plan) {
    f.add("plan --json exited " + std::to_string(js.code)
          + " and is not JSON: " + js.text().substr(0, 200));
  } else {
    const auto entries = plan_entries(*plan, id);
    f.note("plan: " + (entries.empty() ? std::string("nothing") : entries[0]));
    // The others are not held hostage by one bad employee.
    if (!w.user_with_email("amelia.clarke@example.com")) {
      f.add("the other employees were not provisioned");
    }
  }
  check_jumpcloud_users(w.users(), f);
}

// Strings of M MB in several fields of one employee (real binary: time and
// memory are measured).
void case_huge_strings(World& w, const Options& options, Findings& f) {
  const std::size_t size = static_cast<std::size_t>(options.string_mb) << 20U;
  std::string big;
  big.reserve(size);
  while (big.size() + 8 <= size) {
    big += "Ann\xc3\xa9"
           "e ";
  }
  auto e = employee(big, big, "huge.strings@example.com", 7201);
  e.set("root.displayName", sandbox::BobValue::string(big));
  e.set("work.department", sandbox::BobValue::string(big));
  const auto id = w.bob().hire(e);
  const auto md = w.binary({"plan", "--format", "markdown"});
  check_exit("plan --format markdown", md, {2}, f);
  if (md.out.size() > 65536) {
    f.add("plan --format markdown is " + std::to_string(md.out.size())
          + " bytes, over GitHub's comment limit");
  }
  const auto js = w.binary({"plan", "--json"});
  check_exit("plan --json", js, {2}, f);
  const auto applied = w.binary({"apply"});
  check_exit("apply", applied, {0, 1}, f);
  const auto explain = w.binary({"explain", id});
  check_exit("explain", explain, {0}, f);
  const auto history = w.binary({"history"});
  check_exit("history", history, {0}, f);
  f.note("plan --json " + figures(js) + "; apply " + figures(applied) + " (exit "
         + std::to_string(applied.code) + ")");
  const auto plan = parse_json(js.out);
  const auto entries = plan ? plan_entries(*plan, id) : std::vector<std::string>{};
  const auto user = w.user_with_email("huge.strings@example.com");
  if (!user) {
    // Not created: the plan must say why, for that employee.
    if (entries.empty() || entries[0].rfind("conflict", 0) != 0) {
      f.add("the employee with huge strings was not created and the plan does not say why: "
            + (entries.empty() ? std::string("no change") : entries[0]));
    } else {
      f.note("plan: " + entries[0].substr(0, 160));
    }
  } else {
    f.note("JumpCloud: displayname of " + std::to_string(user->value("displayname", "").size())
           + " bytes");
  }
  if (!w.user_with_email("amelia.clarke@example.com")) {
    f.add("the other employees were not provisioned");
  }
  check_jumpcloud_users(w.users(), f);
}

// Emails that differ only by case: one person twice in Bob is a conflict;
// an employee whose email differs by case from an existing JumpCloud user is
// matched to it (case-insensitive), not duplicated.
void case_email_case(World& w, const Options& /*options*/, Findings& f) {
  const auto a = w.bob().hire(employee("Casey", "Upper", "Casey.Twice@example.com", 7301));
  const auto b = w.bob().hire(employee("Casey", "Lower", "casey.twice@example.com", 7302));
  const auto js = w.cli({"plan", "--json"});
  check_exit("plan --json", js, {2}, f);
  const auto plan = parse_json(js.out);
  if (!plan) {
    f.add("plan --json is not JSON");
    return;
  }
  for (const auto& bob_id : {a, b}) {
    const auto entries = plan_entries(*plan, bob_id);
    if (entries.empty() || entries[0].rfind("conflict", 0) != 0) {
      f.add("employee " + bob_id + " sharing an email up to case is not a conflict: "
            + (entries.empty() ? std::string("no change") : entries[0]));
    } else {
      f.note(entries[0]);
    }
  }
  const auto applied = w.cli({"apply"});
  check_exit("apply", applied, {0}, f);
  for (const auto& u : w.users()) {
    if (lower(u.value("email", "")) == "casey.twice@example.com") {
      f.add("a JumpCloud user was created for a conflicting email: " + u.value("email", ""));
    }
  }
  // The seed's Priya.Sharma@Example.com (JumpCloud) vs Bob's lower case:
  // one user, matched.
  int priya = 0;
  for (const auto& u : w.users()) {
    priya += lower(u.value("email", "")) == "priya.sharma@example.com" ? 1 : 0;
  }
  if (priya != 1) {
    f.add(std::to_string(priya) + " JumpCloud users for priya.sharma@example.com (case)");
  }
  check_jumpcloud_users(w.users(), f);
}

// Look-alike emails: Cyrillic letters and characters whose Unicode case
// folding gives ASCII (U+017F long s -> s, U+212A Kelvin sign -> k) must never
// match (adopt) the JumpCloud user with the ASCII address, whose owner is
// someone else; each is a new user or a named conflict, and the plan warns
// of those that read like an existing address.
void case_lookalike_email(World& w, const Options& /*options*/, Findings& f) {
  const auto before = w.users();
  const auto admin_before = w.user_with_email("it-admin@example.com");
  const auto backup_before = w.user_with_email("svc-backup@example.com");
  const auto kwame_before = w.user_with_email("kwame.mensah@example.com");
  // і (U+0456) and а (U+0430)
  const auto cyrillic = w.bob().hire(employee("It",
                                              "Admin",
                                              "\xd1\x96t-\xd0\xb0"
                                              "dmin@example.com",
                                              7401));
  // ſ (U+017F): case-folds to 's'
  const auto long_s =
      w.bob().hire(employee("Svc", "Backup", "\xc5\xbfvc-backup@example.com", 7402));
  // K (U+212A KELVIN SIGN): case-folds to 'k'
  const auto kelvin = w.bob().hire(employee("Kwame",
                                            "Twin",
                                            "\xe2\x84\xaa"
                                            "wame.mensah@example.com",
                                            7403));
  const auto js = w.cli({"plan", "--json"});
  check_exit("plan --json", js, {2}, f);
  const auto plan = parse_json(js.out);
  if (!plan) {
    f.add("plan --json is not JSON");
    return;
  }
  for (const auto& [name, bob_id] : std::vector<std::pair<std::string, std::string>>{
           {"Cyrillic", cyrillic}, {"long s", long_s}, {"Kelvin sign", kelvin}}) {
    for (const auto& c : plan->value("changes", json::array())) {
      if (c.value("bobId", "") != bob_id) {
        continue;
      }
      const auto matched = c["jumpcloudId"].is_string() ? c["jumpcloudId"].get<std::string>() : "";
      if (!matched.empty()) {
        f.add(name + " look-alike matched JumpCloud user " + matched + " (" + c.value("action", "")
              + ")");
      }
      f.note(name + ": " + c.value("action", "") + " " + c.value("reason", ""));
    }
  }
  // The plan warns of an address that reads like an existing one (Unicode
  // TS #39 skeletons: ſ reads as "f", so the long s is not one of them).
  for (const std::string ascii : {"it-admin@example.com", "kwame.mensah@example.com"}) {
    bool warned = false;
    for (const auto& warning : plan->value("warnings", json::array())) {
      warned = warned
               || (warning.is_string()
                   && warning.get<std::string>().find("looks like '" + ascii + "'")
                          != std::string::npos);
    }
    if (!warned) {
      f.add("the plan does not warn that a new address looks like " + ascii);
    }
  }
  const auto applied = w.cli({"apply"});
  check_exit("apply", applied, {0}, f);
  for (const auto& [email, was] : std::vector<std::pair<std::string, std::optional<json>>>{
           {"it-admin@example.com", admin_before},
           {"svc-backup@example.com", backup_before},
           {"kwame.mensah@example.com", kwame_before}}) {
    const auto now = w.user_with_email(email);
    if (!was || !now) {
      f.add(email + " missing from JumpCloud");
    } else if (*was != *now && email != "kwame.mensah@example.com") {
      // (kwame is linked to his own employee and may be updated by the plan)
      f.add(email + " was changed by a look-alike: " + now->dump().substr(0, 300));
    }
  }
  for (const auto& u : w.users()) {
    for (const auto& a : u.value("attributes", json::array())) {
      const auto value = a.value("value", "");
      if (a.value("name", "") == "bobEmployeeId"
          && (value == cyrillic || value == long_s || value == kelvin)) {
        const auto email = u.value("email", "");
        if (email.find('@') != std::string::npos && valid_utf8(email)
            && std::all_of(email.begin(), email.end(), [](char c) {
                 return static_cast<unsigned char>(c) < 0x80;
               })) {
          f.add("look-alike employee " + value + " linked to ASCII address " + email);
        }
      }
    }
  }
  check_jumpcloud_users(w.users(), f);
  (void)before;
}

// N employees sharing one email (real binary): every one a conflict, none
// created, in bounded time and memory.
void case_shared_email(World& w, const Options& options, Findings& f) {
  w.bob().reserve(static_cast<std::size_t>(options.employees) + 64);
  for (int i = 0; i < options.employees; ++i) {
    auto e = employee("Same" + std::to_string(i), "Person", "same.person@example.com", 100000 + i);
    e.id = std::to_string(4000000000000000000LL + i);
    w.bob().put_employee(std::move(e));
  }
  const auto js = w.binary({"plan", "--json"});
  check_exit("plan --json", js, {2, 3}, f);
  const auto plan = parse_json(js.out);
  if (!plan) {
    f.add("plan --json is not JSON: " + js.text().substr(0, 300));
    return;
  }
  const int conflicts = count_action(*plan, "conflict");
  if (conflicts < options.employees) {
    f.add(std::to_string(conflicts) + " conflicts for " + std::to_string(options.employees)
          + " employees sharing one email");
  }
  const auto text = w.binary({"plan"});
  check_exit("plan", text, {2, 3}, f);
  const auto md = w.binary({"plan", "--format", "markdown"});
  check_exit("plan --format markdown", md, {2, 3}, f);
  if (md.out.size() > 65536) {
    f.add("plan --format markdown is " + std::to_string(md.out.size()) + " bytes");
  }
  const auto applied = w.binary({"apply"});
  check_exit("apply", applied, {0}, f);
  for (const auto& u : w.users()) {
    if (lower(u.value("email", "")) == "same.person@example.com") {
      f.add("a JumpCloud user was created for the shared email");
      break;
    }
  }
  if (!w.user_with_email("amelia.clarke@example.com")) {
    f.add("the other employees were not provisioned");
  }
  f.note(std::to_string(conflicts) + " conflicts; plan --json " + figures(js) + " ("
         + std::to_string(js.out.size() >> 20U) + " MB), plan " + figures(text) + ", markdown "
         + figures(md) + ", apply " + figures(applied));
  check_jumpcloud_users(w.users(), f);
}

// --------------------------------------------------------------------------- policy

std::string policy_with_replace(World& w, const std::string& name, const std::string& pattern) {
  return w.write_policy(name,
                        {{"  - target: displayname\n    source: root.displayName\n    transforms: "
                          "[trim]",
                          "  - target: displayname\n    source: root.displayName\n    transforms: "
                          "[trim, {replace: {pattern: "
                              + json(pattern).dump() + ", with: \"x\"}}]"}});
}

// Patterns that backtrack catastrophically in a backtracking engine, run on
// long names: bounded. Patterns RE2 cannot run in linear time or memory:
// refused at their position.
void case_regex(World& w, const Options& options, Findings& f) {
  const std::size_t size = static_cast<std::size_t>(options.string_mb) << 20U;
  auto e = employee("Regex", "Victim", "regex.victim@example.com", 7501);
  e.set("root.displayName", sandbox::BobValue::string(std::string(size, 'a') + "!"));
  w.bob().hire(e);
  for (const std::string& pattern : std::vector<std::string>{"(a+)+$",
                                                             "(a|aa)+$",
                                                             "(a*)*b",
                                                             "^(([a-z])+.)+[A-Z]([a-z])+$",
                                                             "(.*a){20}",
                                                             "(?:a?){30}a{30}",
                                                             "[a-q][^u-z]{13}x"}) {
    const auto path = policy_with_replace(w, "regex.yaml", pattern);
    const auto valid = w.binary({"validate", "-f", path});
    const auto plan = w.binary({"plan", "--json", "-f", path});
    const auto what = "plan with replace " + json(pattern).dump();
    check_bounds("validate " + pattern, valid, f);
    check_bounds(what, plan, f);
    if (valid.code == 0 && plan.code != 2) {
      f.add(what + " exited " + std::to_string(plan.code) + ": " + plan.err.substr(0, 300));
    }
    if (valid.code != 0 && valid.text().find("regex.yaml:") == std::string::npos) {
      f.add("validate refused " + pattern + " without a position: " + valid.text().substr(0, 200));
    }
    f.note(json(pattern).dump() + ": " + (valid.code == 0 ? "accepted, plan " : "refused, ")
           + figures(plan));
  }
  for (const std::string& pattern : std::vector<std::string>{"(a)\\1",
                                                             "a(?=b)",
                                                             "(?<!a)b",
                                                             "((a{1000}){1000}){1000}",
                                                             "(?:(?:(?:x{100}){100}){100})"}) {
    const auto path = policy_with_replace(w, "refused.yaml", pattern);
    const auto valid = w.binary({"validate", "-f", path});
    check_bounds("validate " + pattern, valid, f);
    if (valid.code != 1 || valid.text().find("refused.yaml:") == std::string::npos) {
      f.add("validate " + json(pattern).dump() + " exited " + std::to_string(valid.code)
            + " without an error at its position: " + valid.text().substr(0, 200));
    } else if (valid.seconds > 2) {
      f.add("validate " + pattern + " took " + figures(valid));
    }
  }
}

// Oversized files and expansion bombs are refused quickly, with a clear error.
void case_policy_bombs(World& w, const Options& /*options*/, Findings& f) {
  const auto check_refused =
      [&](const std::string& what, const std::string& path, const std::vector<std::string>& words) {
        for (const auto& command : {std::string("validate"), std::string("plan")}) {
          const auto o = w.binary({command, "-f", path});
          check_bounds(command + " " + what, o, f);
          bool said = false;
          for (const auto& word : words) {
            said = said || o.text().find(word) != std::string::npos;
          }
          if (o.code != 1 || !said) {
            f.add(command + " " + what + " exited " + std::to_string(o.code)
                  + " without saying why: " + o.text().substr(0, 300));
          } else if (o.seconds > 2) {
            f.add(command + " " + what + " took " + figures(o));
          }
          if (command == "plan") {
            f.note(what + ": " + o.err.substr(0, o.err.find('\n')) + " (" + figures(o) + ")");
          }
        }
      };
  // 50 MB: a valid policy followed by comments.
  {
    const auto path = w.dir() + "/big.yaml";
    std::ofstream out(path, std::ios::binary);
    out << read_all(w.policy());
    const std::string line = "# " + std::string(1021, 'x') + "\n";
    for (int i = 0; i < 50 * 1024; ++i) {
      out << line;
    }
    out.close();
    check_refused("(50 MB file)", path, {"larger than"});
  }
  // Billion laughs: ten levels, each a list of ten aliases of the one below,
  // over a sequence of scalars and over a mapping.
  const auto alias_bomb = [&](const std::string& name,
                              const std::string& base,
                              const std::string& file,
                              const std::string& label) {
    std::string text = "version: 1\n" + name + "0: &" + name + "0 " + base + "\n";
    for (int i = 1; i <= 9; ++i) {
      text += name + std::to_string(i) + ": &" + name + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) {
        text += std::string(k ? ", " : "") + "*" + name + std::to_string(i - 1);
      }
      text += "]\n";
    }
    const auto path = w.dir() + "/" + file;
    std::ofstream(path) << text;
    check_refused(label, path, {"alias", "values"});
  };
  alias_bomb("a", "[x, x, x, x, x, x, x, x, x, x]", "laughs.yaml", "(alias bomb)");
  alias_bomb("m",
             "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}",
             "maps.yaml",
             "(alias bomb of mappings)");
  // Deep nesting: 100,000 flow sequences (a recursive parser's stack).
  {
    const auto path = w.dir() + "/deep.yaml";
    std::ofstream(path) << "version: 1\nscope: " << std::string(100000, '[')
                        << std::string(100000, ']') << "\n";
    check_refused("(100,000 nested sequences)", path, {"nested more than"});
  }
  {
    const auto path = w.dir() + "/deep-maps.yaml";
    std::string text = "version: 1\nscope: ";
    for (int i = 0; i < 100000; ++i) {
      text += "{a: ";
    }
    text += "1" + std::string(100000, '}') + "\n";
    std::ofstream(path) << text;
    check_refused("(100,000 nested mappings)", path, {"nested more than"});
  }
}

// --------------------------------------------------------------------------- TLS

// A TLS server on loopback with a self-signed certificate for
// jumpcloud.localhost (curl resolves *.localhost to loopback without DNS,
// while bobsync treats the name as a remote host: http:// to it is refused).
class TlsServer {
public:
  explicit TlsServer(const std::string& dir) {
    m_cert = dir + "/cert.pem";
    m_key = dir + "/key.pem";
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=jumpcloud.localhost -addext subjectAltName=DNS:jumpcloud.localhost -keyout '"
        + m_key + "' -out '" + m_cert + "' >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) { // NOLINT(cert-env33-c): a fixed command
      throw std::runtime_error("openssl req failed (is openssl installed?)");
    }
    m_server = std::make_unique<httplib::SSLServer>(m_cert.c_str(), m_key.c_str());
    m_server->Get(".*", [this](const httplib::Request&, httplib::Response& response) {
      ++m_requests;
      response.set_content("{\"results\":[],\"totalCount\":0}", "application/json");
    });
    m_port = m_server->bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
    while (!m_server->is_running()) {
      std::this_thread::yield();
    }
  }
  ~TlsServer() {
    m_server->stop();
    m_thread.join();
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  int port() const { return m_port; }
  int requests() const { return m_requests.load(); }
  const std::string& cert() const { return m_cert; }

private:
  std::string m_cert;
  std::string m_key;
  std::unique_ptr<httplib::SSLServer> m_server;
  std::thread m_thread;
  std::atomic<int> m_requests{0};
  int m_port = 0;
};

void case_tls(World& w, const Options& /*options*/, Findings& f) {
  using controller::http::CurlOptions;
  using controller::http::CurlTransport;
  using controller::http::FailureKind;
  TlsServer server(w.dir());
  const auto url = "https://jumpcloud.localhost:" + std::to_string(server.port()) + "/api/x";
  controller::http::Request request;
  request.url = url;
  request.timeout = std::chrono::seconds(10);
  // Control: trusting the certificate, the request goes through (so the
  // failures below are the verification's, not the server's).
  {
    CurlOptions trusting;
    trusting.ca_file = server.cert();
    CurlTransport transport(trusting);
    const auto r = transport.send(request);
    if (!r || r->status != 200) {
      f.add("control: a trusted certificate did not work: "
            + (r ? std::to_string(r->status) : r.error().detail));
    }
  }
  const int served_before = server.requests();
  // The default transport (the system's store): an unknown issuer is refused.
  {
    CurlTransport transport;
    const auto r = transport.send(request);
    if (r || r.error().kind != FailureKind::tls) {
      f.add("a self-signed certificate was not refused as a TLS failure: "
            + (r ? std::to_string(r->status) : r.error().detail));
    }
  }
  // The right issuer but the wrong name: the host is verified.
  {
    CurlOptions trusting;
    trusting.ca_file = server.cert();
    CurlTransport transport(trusting);
    auto wrong_name = request;
    wrong_name.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/api/x";
    const auto r = transport.send(wrong_name);
    if (r || r.error().kind != FailureKind::tls) {
      f.add("a certificate for another name was not refused: "
            + (r ? std::to_string(r->status) : r.error().detail));
    }
  }
  // Plain http:// to a name that is not loopback: refused before connecting.
  {
    CurlTransport transport;
    auto plain = request;
    plain.url = "http://jumpcloud.localhost:" + std::to_string(server.port()) + "/api/x";
    const auto r = transport.send(plain);
    if (r || r.error().kind != FailureKind::bad_url) {
      f.add("plain http:// to a non-loopback name was not refused");
    }
  }
  // The real binary, JumpCloud's URL pointed at the self-signed server, with
  // every environment variable that could loosen TLS in curl or OpenSSL tools.
  const std::vector<std::string> loosen{"CURL_CA_BUNDLE=" + server.cert(),
                                        "CURLOPT_SSL_VERIFYPEER=0",
                                        "CURL_INSECURE=1",
                                        "GIT_SSL_NO_VERIFY=1",
                                        "NODE_TLS_REJECT_UNAUTHORIZED=0",
                                        "PYTHONHTTPSVERIFY=0",
                                        "BOBSYNC_INSECURE=1",
                                        "BOBSYNC_TLS_VERIFY=0",
                                        "JUMPCLOUD_API_URL=" + url.substr(0, url.size() - 2)};
  const auto plan = w.binary({"plan"}, loosen);
  check_bounds("plan against a self-signed JumpCloud", plan, f);
  if (plan.code != 1 || plan.err.find("certificate") == std::string::npos) {
    f.add("plan against a self-signed JumpCloud exited " + std::to_string(plan.code)
          + " without naming the certificate: " + plan.err.substr(0, 300));
  }
  if (server.requests() != served_before) {
    f.add("a request reached the server behind an unverified certificate");
  }
  f.note("self-signed: " + plan.err.substr(0, plan.err.find('\n')));
  // A policy URL with plain http:// to a remote host is refused by every
  // command that talks to JumpCloud.
  const auto http = w.binary({"plan"}, {"JUMPCLOUD_API_URL=http://console.jumpcloud.com/api"});
  if (http.code != 1 || http.err.find("https://") == std::string::npos) {
    f.add("plan with http:// to JumpCloud exited " + std::to_string(http.code) + ": "
          + http.err.substr(0, 300));
  }
  // A URL carrying the key as its password: refused, and the key never shown.
  const auto creds = w.binary(
      {"plan"}, {"JUMPCLOUD_API_URL=https://admin:" + k_jc_key + "@console.jumpcloud.com/api"});
  if (creds.code != 1) {
    f.add("a URL with credentials was accepted");
  }
}

// --------------------------------------------------------------------------- secrets

// Bob and JumpCloud refusing the credentials, secrets from _FILE variables:
// the error messages name the problem, never the values.
void case_secrets_in_errors(World& w, const Options& /*options*/, Findings& f) {
  const auto dir = w.dir() + "/secrets";
  fs::create_directories(dir);
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"BOB_SERVICE_USER_TOKEN", k_bob_token}, {"JUMPCLOUD_API_KEY", k_jc_key}}) {
    std::ofstream(dir + "/" + name) << value << "\n";
  }
  // Wrong values (the real ones with a suffix: a partial leak is a leak).
  const auto bad_bob = w.binary({"plan"}, {"BOB_SERVICE_USER_TOKEN=" + k_bob_token + "x"});
  check_exit("plan with a wrong Bob token", bad_bob, {1}, f);
  const auto bad_jc = w.binary({"apply"}, {"JUMPCLOUD_API_KEY=" + k_jc_key + "x"});
  check_exit("apply with a wrong JumpCloud key", bad_jc, {1}, f);
  f.note("wrong Bob token: " + bad_bob.err.substr(0, bad_bob.err.find('\n')));
  // From files.
  unsetenv("BOB_SERVICE_USER_TOKEN");
  unsetenv("JUMPCLOUD_API_KEY");
  const auto from_files =
      w.binary({"apply"},
               {"BOB_SERVICE_USER_TOKEN_FILE=" + dir + "/BOB_SERVICE_USER_TOKEN",
                "JUMPCLOUD_API_KEY_FILE=" + dir + "/JUMPCLOUD_API_KEY"});
  setenv("BOB_SERVICE_USER_TOKEN", k_bob_token.c_str(), 1);
  setenv("JUMPCLOUD_API_KEY", k_jc_key.c_str(), 1);
  check_exit("apply with secrets from files", from_files, {0}, f);
  fs::remove_all(dir); // the only files that may hold them
  // Controller logs at debug level with JumpCloud failing and Bob rate limiting.
  w.jumpcloud().faults().fail_next("/api/systemusers", 500, 3);
  w.bob().faults().fail_next("/v1/people/search", 429, 1, "1");
  const auto run =
      w.binary({"run", "--once", "--log-level", "debug", "--log-format", "json", "--no-webhooks"},
               {"BOB_SERVICE_USER_TOKEN=" + k_bob_token + "x"});
  check_bounds("run --once (debug logs, refused token)", run, f);
  const auto run_ok =
      w.binary({"run", "--once", "--log-level", "debug", "--log-format", "text", "--no-webhooks"});
  check_bounds("run --once (debug logs)", run_ok, f);
  const auto plan = w.cli({"plan", "--out", w.dir() + "/plan-final.json"});
  check_bounds("plan --out", plan, f);
}

// --------------------------------------------------------------------------- driver

struct Case {
  std::string name;
  bool seed;
  std::function<void(World&, const Options&, Findings&)> run;
};

int run_suite(const Options& options) {
  const std::vector<Case> cases{
      {"self-test of the checks", true, case_self_test},
      {"control characters and bidi overrides", true, case_control_and_bidi},
      {"invalid UTF-8 from Bob", true, case_invalid_utf8},
      {std::to_string(options.string_mb) + " MB strings from Bob", true, case_huge_strings},
      {"emails that differ by case", true, case_email_case},
      {"look-alike emails", true, case_lookalike_email},
      {std::to_string(options.employees) + " employees sharing one email", true, case_shared_email},
      {"catastrophic regular expressions", true, case_regex},
      {"policy bombs (50 MB, aliases, nesting)", true, case_policy_bombs},
      {"TLS verification", true, case_tls},
      {"secrets in errors and logs", true, case_secrets_in_errors},
  };
  int passed = 0;
  int failed = 0;
  const auto start = Clock::now();
  for (const auto& c : cases) {
    if (!options.only.empty() && c.name.find(options.only) == std::string::npos) {
      continue;
    }
    Findings f;
    const auto case_start = Clock::now();
    try {
      World w(c.seed);
      c.run(w, options, f);
      // After every case: everything it produced, scanned.
      check_secrets_and_modes(w.dir(), w.transcript(), f);
    } catch (const std::exception& e) {
      f.add(std::string("exception: ") + e.what());
    }
    const auto seconds = std::chrono::duration<double>(Clock::now() - case_start).count();
    std::cout << (f.ok() ? "PASS " : "FAIL ") << c.name << " ("
              << static_cast<int>(seconds * 10) / 10.0 << " s)\n";
    for (const auto& n : f.notes) {
      std::cout << "    " << n << "\n";
    }
    for (const auto& item : f.items) {
      std::cout << "    FAILED: " << item << "\n";
    }
    std::cout.flush();
    (f.ok() ? passed : failed)++;
  }
  const auto total = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "hostile: " << static_cast<int>(total) << " s\n";
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

// `hostile_suite --exec-measured RSS_FILE BINARY ARGS...`: runs BINARY as a
// child of this small process, writes its peak RSS in KiB to RSS_FILE and
// exits with its status (128 + signal when killed).
int exec_measured(char** argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) {
    return 127;
  }
  std::ofstream(argv[0]) << usage.ru_maxrss << "\n";
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int usage() {
  std::cerr << "usage: hostile_suite [--employees N] [--string-mb M] [--case NAME]\n";
  return 2;
}

} // namespace
} // namespace bobsync::hostile

int main(int argc, char** argv) {
  using namespace bobsync::hostile;
  if (argc >= 4 && std::string(argv[1]) == "--exec-measured") {
    return exec_measured(argv + 2);
  }
  Options options;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      return usage();
    }
    const std::string value = argv[i + 1];
    if (flag == "--employees") {
      options.employees = std::max(2, std::atoi(value.c_str()));
    } else if (flag == "--string-mb") {
      options.string_mb = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--case") {
      options.only = value;
    } else {
      return usage();
    }
  }
  return run_suite(options);
}
