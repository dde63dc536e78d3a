// Chaos and random-crash suites (issue 10 §2 and §3): `apply` and the
// controller's pass (`run --once`) against the sandbox's fakes injecting
// seeded faults (odd seeds drive `run`), and the real binary — `apply`, or
// `run` (odd trials) — SIGKILLed at random moments and at every journal
// step, then restarted. Each suite ends
// with one line `N passed, M failed`; every seed/trial is printed and
// reproducible (docs/testing.md).
//
//   chaos_suite faults [--seeds N] [--first S]   BOBSYNC_CHAOS_SEED=S: that seed only
//   chaos_suite crash  [--trials N] [--first S]  BOBSYNC_CRASH_TRIAL=S: that trial only

#include "controller/cli/cli.hpp"
#include "sandbox/sandbox.hpp"
#include "tests/e2e/e2e_support.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bobsync::chaos {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string k_bob_user = "svc-CHAOS-user-5521";
const std::string k_bob_token = "bob-token-S3CR3T-chaos-7731";
const std::string k_jc_key = "jc-key-S3CR3T-chaos-9920";
const std::string k_webhook_secret = "webhook-S3CR3T-chaos-4410";
const std::string k_now = "2026-11-27";
constexpr int k_max_passes = 8; // apply passes under faults before "did not converge"

using e2e::lower;
using e2e::read_all;
using e2e::spawn_binary;

// One trial's world: a fresh sandbox, a temporary directory, the database.
class World {
public:
  explicit World(const std::string& tag) {
    m_dir = e2e::make_temp_dir("bobsync-" + tag);
    if (m_dir.empty()) {
      throw std::runtime_error("mkdtemp failed");
    }
    m_db = m_dir + "/state.db";
    m_policy = e2e::source_path("examples/desired-state.yaml");
    const e2e::Secrets secrets{k_bob_user, k_bob_token, k_jc_key, k_webhook_secret};
    const auto fixed = std::chrono::sys_days{std::chrono::November / 27 / 2026};
    m_sandbox = e2e::start_sandbox(
        secrets,
        [fixed] { return std::chrono::system_clock::time_point(fixed); },
        e2e::source_path("examples/sandbox"));
    e2e::export_environment(*m_sandbox, secrets, {"BOBSYNC_CRASH_AT"});
  }
  ~World() {
    m_sandbox.reset();
    if (std::getenv("BOBSYNC_CHAOS_KEEP") == nullptr) {
      fs::remove_all(m_dir);
    }
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // The CLI in-process, with a manual clock: retries never really sleep.
  int cli(std::vector<std::string> args, std::string* out_text = nullptr) {
    const auto& command = args.front();
    if (command == "plan" || command == "apply" || command == "run") {
      args.insert(args.end(), {"-f", m_policy, "--now", k_now});
    }
    if (std::find(args.begin(), args.end(), "--db") == args.end()) {
      args.insert(args.end(), {"--db", m_db});
    }
    const auto r = e2e::run_cli(args);
    m_transcript += r.out + r.err;
    if (out_text != nullptr) {
      *out_text = r.out + r.err;
    }
    return r.code;
  }

  // The final plan with no faults: every change left that is not a conflict
  // or a deferral (empty = JumpCloud equals the desired state).
  std::vector<std::string> outstanding() {
    std::string text;
    const int code = cli({"plan", "--json", "--refresh"}, &text);
    if (code != 0 && code != 2) {
      return {"plan --refresh exited " + std::to_string(code) + ": " + text.substr(0, 400)};
    }
    std::vector<std::string> left;
    const auto plan = json::parse(text.substr(0, text.rfind('}') + 1), nullptr, false);
    if (plan.is_discarded()) {
      return {"plan --json is not JSON"};
    }
    for (const auto& c : plan.value("changes", json::array())) {
      const auto action = c.value("action", "");
      if (action != "conflict" && action != "defer") {
        left.push_back(action + " " + c.value("bobId", "") + " " + c.value("email", ""));
      }
    }
    return left;
  }

  std::vector<json> users() const {
    std::vector<json> out;
    for (const auto& text : m_sandbox->jumpcloud().users_json()) {
      out.push_back(json::parse(text));
    }
    return out;
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
  std::unique_ptr<sandbox::Sandbox> m_sandbox;
};

// Collects what went wrong in one seed/trial.
struct Findings {
  std::vector<std::string> items;
  void add(std::string what) { items.push_back(std::move(what)); }
  bool ok() const { return items.empty(); }
};

// No two users share an email, a username or an employeeIdentifier.
void check_no_duplicates(const std::vector<json>& users, Findings& f, const std::string& when) {
  std::map<std::string, std::set<std::string>> seen;
  for (const auto& u : users) {
    for (const auto* key : {"email", "username", "employeeIdentifier"}) {
      const auto value = lower(u.value(key, ""));
      if (!value.empty() && !seen[key].insert(value).second) {
        f.add(when + ": duplicate " + key + " " + value);
      }
    }
  }
}

// Every user bobsync wrote to (new, or its JSON changed since `before`) has
// an audit row for its _id with an id above `audit_floor`.
void check_audited(World& w,
                   const std::map<std::string, std::string>& before,
                   long long audit_floor,
                   Findings& f) {
  std::set<std::string> audited;
  SQLite::Database db(w.db(), SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT user_id FROM audit WHERE id > ?");
  q.bind(1, static_cast<std::int64_t>(audit_floor));
  while (q.executeStep()) {
    audited.insert(q.getColumn(0).getString());
  }
  for (const auto& u : w.users()) {
    const std::string id = u.value("_id", "");
    const auto it = before.find(id);
    if (it != before.end() && json::parse(it->second) == u) {
      continue;
    }
    if (audited.count(id) == 0) {
      // What the audit log says instead: its employee's last row.
      std::string last = "none";
      SQLite::Statement why(db,
                            "SELECT action || ' ' || outcome || ': ' || message FROM audit "
                            "WHERE employee_id = (SELECT employee_id FROM links WHERE user_id = ?) "
                            "ORDER BY id DESC LIMIT 1");
      why.bind(1, id);
      if (why.executeStep()) {
        last = why.getColumn(0).getString();
      }
      f.add("write to " + id + " (" + u.value("email", "")
            + ") has no audit row; its employee's last: " + last);
    }
  }
}

long long max_audit_id(const std::string& db_path) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT coalesce(max(id), 0) FROM audit").getInt64();
}

std::map<std::string, std::string> snapshot(World& w) {
  std::map<std::string, std::string> out;
  for (const auto& u : w.users()) {
    out[u.value("_id", "")] = u.dump();
  }
  return out;
}

void check_database(const std::string& db_path, Findings& f) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  const auto integrity = db.execAndGet("PRAGMA integrity_check").getString();
  if (integrity != "ok") {
    f.add("integrity_check: " + integrity);
  }
  const auto pending =
      db.execAndGet("SELECT count(*) FROM journal WHERE state = 'pending'").getInt();
  if (pending != 0) {
    f.add(std::to_string(pending) + " pending journal entries left");
  }
}

// No POST creating a user is sent twice without a lookup of that user in
// between (a GET on /systemusers whose filter names its email or username,
// or an unfiltered listing).
void check_no_blind_repeat(World& w, Findings& f) {
  std::map<std::string, bool> needs_lookup; // email -> a POST since the last lookup
  std::map<std::string, std::string> username_of;
  for (const auto& r : w.jumpcloud().stats().log()) {
    if (r.path != "/api/systemusers") {
      continue;
    }
    if (r.method == "POST") {
      const auto body = json::parse(r.body, nullptr, false);
      if (body.is_discarded()) {
        continue;
      }
      const auto email = lower(body.value("email", ""));
      username_of[email] = lower(body.value("username", ""));
      if (needs_lookup[email]) {
        f.add("POST /api/systemusers for " + email + " repeated without a lookup in between");
      }
      needs_lookup[email] = true;
    } else if (r.method == "GET") {
      const auto query = lower(r.query);
      const bool filtered = query.find("filter") != std::string::npos;
      for (auto& [email, pending] : needs_lookup) {
        if (!filtered || query.find(email) != std::string::npos
            || (!username_of[email].empty()
                && query.find(username_of[email]) != std::string::npos)) {
          pending = false;
        }
      }
    }
  }
}

// Secrets in what the trial produced, and modes of the database and plans.
void check_secrets_and_modes(World& w, Findings& f) {
  std::string everything = w.transcript();
  for (const auto& entry : fs::directory_iterator(w.dir())) {
    everything += read_all(entry.path().string());
    const auto name = entry.path().filename().string();
    const bool sensitive = name.find(".db") != std::string::npos || name.rfind("plan", 0) == 0;
    if (sensitive && entry.is_regular_file()) {
      const auto perms = entry.status().permissions();
      if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
        f.add(name + " is readable by group or others");
      }
    }
  }
  for (const auto& secret : {k_bob_token, k_bob_user, k_jc_key, k_webhook_secret}) {
    if (everything.find(secret) != std::string::npos) {
      f.add("a secret appears in the output or files: " + secret.substr(0, 8) + "...");
    }
  }
  if (everything.find("amelia") == std::string::npos) {
    f.add("secret scan is vacuous (no employee data seen)");
  }
}

// ---------------------------------------------------------------------------
// §2 chaos

struct ChaosFigures {
  int passes = 0;     // apply passes under faults
  int run_passes = 0; // run --once passes under faults
  int faults = 0;     // requests hit by an injected fault (both fakes)
  int posts = 0;      // POSTs JumpCloud received (creates, retries included)
};

// The seeded faults of one pass set; combined rate up to 30% per fake.
void inject(World& w, std::mt19937_64& rng, double rate) {
  w.jumpcloud().faults().clear();
  w.bob().faults().clear();
  w.jumpcloud().faults().seed(rng());
  w.bob().faults().seed(rng());
  const auto add = [](sandbox::FaultPlan& plan, sandbox::Fault fault, double p) {
    fault.times = 1000000;
    fault.probability = p;
    plan.add(std::move(fault));
  };
  // Each kind gets a share of the rate; earlier faults are tried first, so
  // the shares are conditional: p_i = share / (1 - sum of previous shares).
  const auto plan_kinds = [&](sandbox::FaultPlan& plan, std::vector<sandbox::Fault> kinds) {
    double taken = 0.0;
    const double share = rate / static_cast<double>(kinds.size());
    for (auto& k : kinds) {
      add(plan, k, share / (1.0 - taken));
      taken += share;
    }
  };
  const auto status = [](int code, std::optional<std::string> retry_after = std::nullopt) {
    sandbox::Fault f;
    f.kind = sandbox::FaultKind::status;
    f.status = code;
    f.retry_after = std::move(retry_after);
    return f;
  };
  const auto kind = [](sandbox::FaultKind k, std::string method = {}) {
    sandbox::Fault f;
    f.kind = k;
    f.method = std::move(method);
    f.delay = std::chrono::milliseconds(40);
    return f;
  };
  plan_kinds(w.jumpcloud().faults(),
             {status(500),
              status(503),
              status(429, "2"),
              status(429),
              kind(sandbox::FaultKind::delay),
              kind(sandbox::FaultKind::lost_response, "POST"),
              kind(sandbox::FaultKind::lost_response, "PUT"),
              kind(sandbox::FaultKind::applied_then_reset),
              kind(sandbox::FaultKind::reset),
              kind(sandbox::FaultKind::truncated_json)});
  plan_kinds(w.bob().faults(),
             {status(503),
              status(429, "1"),
              status(429),
              kind(sandbox::FaultKind::delay),
              kind(sandbox::FaultKind::reset),
              kind(sandbox::FaultKind::lost_response),
              kind(sandbox::FaultKind::truncated_json)});
}

// Suspended users that the converged state does not suspend: a wrongful
// suspension (e.g. from a Bob that was down or answered partially).
void check_suspensions(const std::vector<json>& users,
                       const std::set<std::string>& allowed,
                       Findings& f,
                       const std::string& when) {
  for (const auto& u : users) {
    if (u.value("state", "") == "SUSPENDED" && allowed.count(u.value("_id", "")) == 0) {
      f.add(when + ": " + u.value("email", "") + " suspended though it should not be");
    }
  }
}

// The command one pass runs: `apply`, or the controller's pass (`run
// --once`: cached JumpCloud state with a write-through cache, the same
// exit codes).
std::vector<std::string> pass_command(bool controller) {
  return controller ? std::vector<std::string>{"run", "--once"} : std::vector<std::string>{"apply"};
}

// Passes under faults until one exits 0 (at most k_max_passes), checking
// duplicates and suspensions after every pass.
bool converge(World& w,
              bool controller,
              std::mt19937_64& rng,
              const std::set<std::string>& allowed_suspended,
              Findings& f,
              ChaosFigures& figures,
              const std::string& phase) {
  const double rate = std::uniform_real_distribution<double>(0.1, 0.3)(rng);
  for (int pass = 1; pass <= k_max_passes; ++pass) {
    inject(w, rng, rate);
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      // Bob down for a while: the next 5..60 requests all fail.
      sandbox::Fault down;
      down.kind = sandbox::FaultKind::status;
      down.status = 503;
      down.times = std::uniform_int_distribution<int>(5, 60)(rng);
      w.bob().faults().clear();
      w.bob().faults().add(down);
    }
    const int code = w.cli(pass_command(controller));
    ++(controller ? figures.run_passes : figures.passes);
    const auto users = w.users();
    const auto when = phase + " pass " + std::to_string(pass);
    check_no_duplicates(users, f, when);
    check_suspensions(users, allowed_suspended, f, when);
    if (code == 0) {
      w.jumpcloud().faults().clear();
      w.bob().faults().clear();
      return true;
    }
  }
  w.jumpcloud().faults().clear();
  w.bob().faults().clear();
  f.add(phase + ": " + pass_command(controller).front() + " did not exit 0 within "
        + std::to_string(k_max_passes) + " passes");
  return false;
}

// The converged state for the same scenario without faults: which users end
// up suspended (by email, as ids differ between worlds).
struct Scenario {
  std::set<std::string> suspended_a; // emails suspended after phase A
  std::set<std::string> suspended_b; // after phase B
};

// Phase B's changes in Bob: a hire, a leaver, a rename.
void change_bob(World& w) {
  w.bob().hire(e2e::new_employee("Nia", "Okafor", "2026-11-02"));
  w.bob().terminate("3332883854254931000", "2026-11-20"); // Amelia leaves
  w.bob().change("3332883854254931000",
                 {{"root.surname", sandbox::BobValue::string("Clarke-Hughes")}});
}

std::set<std::string> suspended_emails(World& w) {
  std::set<std::string> out;
  for (const auto& u : w.users()) {
    if (u.value("state", "") == "SUSPENDED") {
      out.insert(lower(u.value("email", "")));
    }
  }
  return out;
}

std::set<std::string> ids_with_email_in(World& w, const std::set<std::string>& emails) {
  std::set<std::string> out;
  for (const auto& u : w.users()) {
    if (emails.count(lower(u.value("email", ""))) != 0) {
      out.insert(u.value("_id", ""));
    }
  }
  return out;
}

Scenario reference_scenario() {
  World w("chaos-ref");
  Scenario s;
  w.cli({"apply"});
  s.suspended_a = suspended_emails(w);
  change_bob(w);
  w.cli({"apply"});
  s.suspended_b = suspended_emails(w);
  return s;
}

Findings chaos_seed(std::uint64_t seed, const Scenario& reference, ChaosFigures& figures) {
  Findings f;
  std::mt19937_64 rng(seed);
  const bool controller = seed % 2 == 1;
  World w("chaos");
  // Phase A: greenfield (every create) under faults.
  const auto before_a = snapshot(w);
  const auto allowed_a = ids_with_email_in(w, reference.suspended_a);
  auto seeded_suspended = suspended_emails(w);
  std::set<std::string> allowed = allowed_a;
  for (const auto& id : ids_with_email_in(w, seeded_suspended)) {
    allowed.insert(id);
  }
  converge(w, controller, rng, allowed, f, figures, "greenfield");
  for (const auto& left : w.outstanding()) {
    f.add("greenfield not converged: " + left);
  }
  check_audited(w, before_a, 0, f);
  // Phase B: Bob changes, under faults again.
  const auto before_b = snapshot(w);
  const auto floor_b = max_audit_id(w.db());
  change_bob(w);
  allowed = ids_with_email_in(w, reference.suspended_b);
  for (const auto& id : ids_with_email_in(w, reference.suspended_a)) {
    allowed.insert(id);
  }
  converge(w, controller, rng, allowed, f, figures, "changes");
  for (const auto& left : w.outstanding()) {
    f.add("changes not converged: " + left);
  }
  check_audited(w, before_b, floor_b, f);
  check_suspensions(w.users(), ids_with_email_in(w, reference.suspended_b), f, "final");
  check_no_blind_repeat(w, f);
  figures.faults +=
      static_cast<int>(w.jumpcloud().faults().injected() + w.bob().faults().injected());
  for (const auto& r : w.jumpcloud().stats().log()) {
    figures.posts += r.method == "POST" ? 1 : 0;
  }
  w.cli({"plan", "--out", w.dir() + "/plan.json"});
  check_database(w.db(), f);
  check_secrets_and_modes(w, f);
  return f;
}

// ---------------------------------------------------------------------------
// §3 random crashes

struct CrashFigures {
  int killed = 0;      // SIGKILLed or crashed by the hook
  int finished = 0;    // ran to completion before the kill
  int copies_open = 0; // mid-write copies that opened and were usable
  int copies_refused = 0;
  int unmigrated = 0; // killed before the schema was committed (no file or user_version 0)
};

// A copy of the .db file alone (no -wal), taken while apply runs: it must
// open and be usable, or be refused clearly; never silently wrong.
void check_copy(World& w, const std::string& copy, Findings& f, CrashFigures& figures) {
  std::string integrity = "unreadable";
  try {
    SQLite::Database db(copy, SQLite::OPEN_READONLY);
    integrity = db.execAndGet("PRAGMA integrity_check").getString();
  } catch (const std::exception& e) {
    integrity = e.what();
  }
  std::string text;
  const int code = w.cli({"status", "--db", copy}, &text);
  if (code == 0) {
    ++figures.copies_open;
    if (integrity != "ok") {
      f.add("copied database fails integrity_check (" + integrity + ") but status accepted it");
    }
    // Usable: apply from the copy converges against the same JumpCloud
    // without duplicating anyone.
    const int applied = w.cli({"apply", "--db", copy}, &text);
    if (applied != 0) {
      f.add("apply from the copied database exited " + std::to_string(applied) + ": "
            + text.substr(0, 300));
    }
    check_no_duplicates(w.users(), f, "after apply from the copy");
  } else {
    ++figures.copies_refused;
    std::cout << "    copy refused: " << text.substr(0, text.find('\n')) << "\n";
    // Whatever `apply` makes of it (a copy without its -wal can look like a
    // fresh database at schema version 0), it must not duplicate anyone.
    std::string applied_text;
    w.cli({"apply", "--db", copy}, &applied_text);
    check_no_duplicates(w.users(), f, "after apply from the refused copy");
    if (text.find(copy) == std::string::npos && text.find("database") == std::string::npos) {
      f.add("copied database refused without naming it: " + text.substr(0, 300));
    }
  }
}

// One trial of `apply`, or of `run` when `controller`: `crash_at` (a
// journal step, "point:n": `run --once` for the controller) or a kill after
// `delay` (the controller runs on, serving on an ephemeral port, until
// killed). The restart is the same command's pass.
Findings crash_trial(bool controller,
                     const std::string& crash_at,
                     std::chrono::milliseconds delay,
                     std::chrono::milliseconds latency,
                     bool copy_mid_write,
                     CrashFigures& figures) {
  Findings f;
  World w("crash");
  const auto before = snapshot(w);
  w.jumpcloud().faults().set_latency(latency);
  std::vector<std::string> env;
  if (!crash_at.empty()) {
    env.push_back("BOBSYNC_CRASH_AT=" + crash_at);
  }
  const auto out_file = w.dir() + "/crashed.out";
  const auto err_file = w.dir() + "/crashed.err";
  std::vector<std::string> args = {"apply", "-f", w.policy(), "--db", w.db(), "--now", k_now};
  if (controller) {
    args.front() = "run";
    if (crash_at.empty()) {
      args.insert(args.end(), {"--listen", "127.0.0.1:0", "--no-webhooks"});
    } else {
      args.emplace_back("--once");
    }
  }
  const pid_t pid = spawn_binary(args, env, out_file, err_file);
  if (pid < 0) {
    f.add("could not start " BOBSYNC_BINARY);
    return f;
  }
  int status = 0;
  if (crash_at.empty()) {
    const auto until = Clock::now() + delay;
    while (Clock::now() < until && waitpid(pid, &status, WNOHANG) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (waitpid(pid, &status, WNOHANG) == 0) {
      if (copy_mid_write && fs::exists(w.db())) {
        std::error_code ec;
        fs::copy_file(w.db(), w.dir() + "/copy.db", fs::copy_options::overwrite_existing, ec);
      }
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ++figures.killed;
    } else if (controller) {
      // The controller runs until it is stopped: ending by itself is a defect.
      f.add("run ended by itself (status " + std::to_string(status)
            + "): " + read_all(err_file).substr(0, 300));
    } else {
      ++figures.finished;
    }
  } else {
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 137) {
      ++figures.killed;
    } else {
      ++figures.finished;
    }
  }
  w.jumpcloud().faults().set_latency(std::chrono::milliseconds(0));
  try {
    if (!fs::exists(w.db())) {
      ++figures.unmigrated;
    } else {
      SQLite::Database db(w.db(), SQLite::OPEN_READONLY);
      figures.unmigrated += db.execAndGet("PRAGMA user_version").getInt() < 1 ? 1 : 0;
    }
  } catch (const std::exception&) {
    ++figures.unmigrated;
  }
  std::string text;
  const auto restart = pass_command(controller);
  const int resumed = w.cli(restart, &text);
  if (resumed != 0) {
    f.add(restart.front() + " after the crash exited " + std::to_string(resumed) + ": "
          + text.substr(0, 300));
  }
  check_no_duplicates(w.users(), f, "after restart");
  for (const auto& left : w.outstanding()) {
    f.add("not converged: " + left);
  }
  check_audited(w, before, 0, f);
  check_database(w.db(), f);
  if (fs::exists(w.dir() + "/copy.db")) {
    check_copy(w, w.dir() + "/copy.db", f, figures);
  }
  w.transcript() += read_all(out_file) + read_all(err_file);
  w.cli({"plan", "--out", w.dir() + "/plan.json"});
  check_secrets_and_modes(w, f);
  return f;
}

int count_creates() {
  World w("crash-count");
  std::string text;
  w.cli({"plan", "--json"}, &text);
  const auto plan = json::parse(text.substr(0, text.rfind('}') + 1), nullptr, false);
  int n = 0;
  for (const auto& c : plan.value("changes", json::array())) {
    n += c.value("action", "") == "conflict" || c.value("action", "") == "defer" ? 0 : 1;
  }
  return n;
}

// Each check fails on a planted defect (a check that cannot fail is a
// defect): run before every suite, counted as one trial.
Findings self_test() {
  Findings result;
  World w("chaos-self");
  w.cli({"apply"});
  const auto expect_flag = [&](const std::string& name, const Findings& f) {
    if (f.ok()) {
      result.add("self-test: the " + name + " check did not fire on a planted defect");
    }
  };
  {
    Findings f;
    auto users = w.users();
    users.push_back(users.front());
    check_no_duplicates(users, f, "self-test");
    expect_flag("duplicate", f);
  }
  {
    Findings f;
    check_suspensions(w.users(), {}, f, "self-test");
    expect_flag("suspension", f); // the seed holds suspended users
  }
  {
    Findings f;
    const auto before = snapshot(w);
    w.jumpcloud().add_user(R"({"username":"planted","email":"planted@example.com"})");
    check_audited(w, before, 0, f);
    expect_flag("audit", f);
  }
  {
    Findings f;
    sandbox::LoggedRequest post;
    post.method = "POST";
    post.path = "/api/systemusers";
    post.body = R"({"email":"twice@example.com","username":"twice"})";
    w.jumpcloud().stats().record(post);
    w.jumpcloud().stats().record(post);
    check_no_blind_repeat(w, f);
    expect_flag("repeated POST", f);
  }
  {
    Findings f;
    w.transcript() += k_jc_key;
    check_secrets_and_modes(w, f);
    expect_flag("secret scan", f);
  }
  {
    Findings f;
    fs::permissions(w.db(), fs::perms::others_read, fs::perm_options::add);
    w.transcript().clear();
    check_secrets_and_modes(w, f);
    expect_flag("file mode", f);
  }
  return result;
}

int report(int passed, int failed) {
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}

void print_findings(const std::string& what, const Findings& f) {
  std::cout << what << (f.ok() ? ": ok" : ": FAILED") << "\n";
  for (const auto& item : f.items) {
    std::cout << "    " << item << "\n";
  }
  std::cout.flush();
}

int run_faults(std::uint64_t first, int seeds) {
  if (const char* one = std::getenv("BOBSYNC_CHAOS_SEED")) {
    first = std::strtoull(one, nullptr, 10);
    seeds = 1;
  }
  const auto start = Clock::now();
  const auto reference = reference_scenario();
  int passed = 0;
  int failed = 0;
  const auto self = self_test();
  print_findings("self-test of the checks", self);
  (self.ok() ? passed : failed)++;
  ChaosFigures figures;
  for (int i = 0; i < seeds; ++i) {
    const auto seed = first + static_cast<std::uint64_t>(i);
    ChaosFigures one;
    Findings f;
    try {
      f = chaos_seed(seed, reference, one);
    } catch (const std::exception& e) {
      f.add(std::string("exception: ") + e.what());
    }
    figures.passes += one.passes;
    figures.run_passes += one.run_passes;
    figures.faults += one.faults;
    figures.posts += one.posts;
    print_findings("seed " + std::to_string(seed) + " ("
                       + (seed % 2 == 1 ? std::to_string(one.run_passes) + " run --once"
                                        : std::to_string(one.passes) + " apply")
                       + " passes, " + std::to_string(one.faults)
                       + " faults; rerun: BOBSYNC_CHAOS_SEED=" + std::to_string(seed) + ")",
                   f);
    (f.ok() ? passed : failed)++;
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
  std::cout << "chaos: " << seeds << " seeds from " << first << ", " << figures.passes
            << " apply and " << figures.run_passes << " run --once passes under faults, "
            << figures.faults << " faults injected, " << figures.posts << " POSTs to JumpCloud, "
            << seconds << " s\n";
  return report(passed, failed);
}

int run_crash(std::uint64_t first, int trials) {
  std::optional<std::uint64_t> only;
  if (const char* one = std::getenv("BOBSYNC_CRASH_TRIAL")) {
    only = std::strtoull(one, nullptr, 10);
  }
  const auto start = Clock::now();
  // Every journal step: each point at each of the greenfield's changes.
  const int changes = count_creates();
  std::vector<std::string> steps;
  for (const auto* point : {"after_intent", "after_call", "after_settle"}) {
    for (int n = 1; n <= changes; ++n) {
      steps.push_back(std::string(point) + ":" + std::to_string(n));
    }
  }
  int passed = 0;
  int failed = 0;
  const auto self = self_test();
  print_findings("self-test of the checks", self);
  (self.ok() ? passed : failed)++;
  CrashFigures figures;
  const auto total = static_cast<std::uint64_t>(trials) + steps.size();
  for (std::uint64_t t = 0; t < total; ++t) {
    const auto trial = first + t;
    if (only && *only != trial) {
      continue;
    }
    std::mt19937_64 rng(trial);
    std::string crash_at;
    std::chrono::milliseconds delay{0};
    std::chrono::milliseconds latency{0};
    bool copy = false;
    std::string what;
    // Odd trials crash the controller (`run`), even ones `apply`.
    const bool controller = trial % 2 == 1;
    if (t < steps.size()) {
      crash_at = steps[t];
      what = "BOBSYNC_CRASH_AT=" + crash_at;
    } else {
      // Random moments over a slow fake; one in eight is killed within its
      // first 40 ms (opening and migrating a fresh database), one in four
      // has its .db copied without the -wal just before the kill.
      latency = std::chrono::milliseconds(std::uniform_int_distribution<int>(2, 15)(rng));
      const bool early = std::uniform_int_distribution<int>(0, 7)(rng) == 0;
      delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(
          0, early ? 40 : 60 * static_cast<int>(latency.count()) + 200)(rng));
      copy = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
      what = "kill after " + std::to_string(delay.count()) + " ms, latency "
             + std::to_string(latency.count()) + " ms" + (copy ? ", copy mid-write" : "");
    }
    what = (controller ? "run, " : "apply, ") + what;
    Findings f;
    try {
      f = crash_trial(controller, crash_at, delay, latency, copy, figures);
    } catch (const std::exception& e) {
      f.add(std::string("exception: ") + e.what());
    }
    print_findings("trial " + std::to_string(trial) + " (" + what
                       + "; rerun: BOBSYNC_CRASH_TRIAL=" + std::to_string(trial) + ")",
                   f);
    (f.ok() ? passed : failed)++;
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
  std::cout << "crash: " << passed + failed - 1 << " trials (" << steps.size()
            << " journal steps, the rest random kills): " << figures.killed << " killed, "
            << figures.finished << " finished first, " << figures.unmigrated
            << " killed before the schema was committed; mid-write copies: " << figures.copies_open
            << " opened, " << figures.copies_refused << " refused; " << seconds << " s\n";
  return report(passed, failed);
}

int usage() {
  std::cerr << "usage: chaos_suite faults [--seeds N] [--first S]\n"
               "       chaos_suite crash [--trials N] [--first S]\n";
  return 2;
}

} // namespace
} // namespace bobsync::chaos

int main(int argc, char** argv) {
  using namespace bobsync::chaos;
  if (argc < 2) {
    return usage();
  }
  const std::string suite = argv[1];
  int count = suite == "faults" ? 20 : 60;
  std::uint64_t first = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--seeds" || flag == "--trials") {
      count = std::atoi(argv[i + 1]);
    } else if (flag == "--first") {
      first = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      return usage();
    }
  }
  if (suite == "faults") {
    return run_faults(first, count);
  }
  if (suite == "crash") {
    return run_crash(first, count);
  }
  return usage();
}
