#include "controller/run/loop.hpp"

#include <algorithm>
#include <map>

namespace bobsync::controller::run {

std::string_view to_string(PassKind kind) {
  switch (kind) {
  case PassKind::full:
    return "full";
  case PassKind::targeted:
    return "targeted";
  }
  return "full";
}

namespace {

WorkQueueOptions queue_options(const LoopOptions& options, const PolicySource& policy) {
  WorkQueueOptions q;
  q.max_keys = options.max_queued_employees;
  if (auto current = policy.current()) {
    q.debounce = current->policy->schedule.webhook_debounce;
  }
  return q;
}

BackoffOptions backoff_options(const LoopOptions& options, const PolicySource& policy) {
  auto b = options.backoff;
  if (auto current = policy.current()) {
    b.cap = std::min(
        b.cap,
        std::chrono::duration_cast<std::chrono::milliseconds>(current->policy->schedule.interval));
  }
  return b;
}

} // namespace

Loop::Loop(Clock& clock,
           PolicySource& policy,
           PassRunner& runner,
           LoopObserver* observer,
           LoopOptions options)
    : m_clock(clock),
      m_policy(policy),
      m_runner(runner),
      m_observer(observer),
      m_options(options),
      m_queue(queue_options(options, policy)),
      m_backoff(backoff_options(options, policy),
                options.seed != 0 ? options.seed : std::random_device{}()) {
  m_status.policy = m_policy.current();
}

std::chrono::milliseconds Loop::interval() const {
  auto current = m_policy.current();
  return std::chrono::duration_cast<std::chrono::milliseconds>(current->policy->schedule.interval);
}

Enqueued Loop::enqueue(const std::string& employee_id) {
  const auto what = m_queue.add(employee_id, m_clock.now());
  if (m_observer != nullptr) {
    m_observer->enqueued(employee_id, what);
  }
  {
    const std::lock_guard lock(m_wake_mutex);
    m_poked = true;
  }
  m_wake.notify_one();
  return what;
}

void Loop::request_reload() {
  m_reload.store(true);
  {
    const std::lock_guard lock(m_wake_mutex);
    m_poked = true;
  }
  m_wake.notify_one();
}

void Loop::stop() {
  m_stop.store(true);
  {
    const std::lock_guard lock(m_wake_mutex);
    m_poked = true;
  }
  m_wake.notify_all();
}

void Loop::check_policy() {
  const auto before = m_policy.current();
  const auto check = m_policy.check();
  const auto current = m_policy.current();
  if (check.result == PolicyCheck::Result::reloaded && current != before) {
    const auto& schedule = current->policy->schedule;
    m_queue.set_debounce(schedule.webhook_debounce);
    m_backoff.set_cap(
        std::min(m_options.backoff.cap,
                 std::chrono::duration_cast<std::chrono::milliseconds>(schedule.interval)));
    // The new policy takes effect at the next pass: one now, so that a
    // GitOps merge shows at once (the safety limits hold a mass change).
    const auto now = m_clock.now();
    if (!m_queue.full_pending()) {
      m_full_reason = "policy reload";
    }
    m_queue.request_full(now);
    m_next_full = now + interval();
  }
  {
    const std::lock_guard lock(m_status_mutex);
    m_status.policy = current;
    m_status.policy_rejected = m_policy.rejected();
    m_status.policy_rejections = m_policy.rejections();
  }
  if (check.result != PolicyCheck::Result::unchanged && m_observer != nullptr && current) {
    m_observer->policy_checked(check, *current);
  }
}

bool Loop::step() {
  auto now = m_clock.now();
  if (!m_started) {
    m_started = true;
    m_next_policy_check = now + m_options.policy_check_every;
    m_next_full = now + interval();
    m_full_reason = "startup";
    m_queue.request_full(now);
  }
  if (m_reload.exchange(false) || now >= m_next_policy_check) {
    check_policy();
    m_next_policy_check = now + m_options.policy_check_every;
  }
  const auto wall = m_clock.wall_now();
  if (m_next_boundary && wall >= *m_next_boundary) {
    m_next_boundary.reset();
    if (!m_queue.full_pending()) {
      m_full_reason = "date boundary";
    }
    m_queue.request_full(now);
  }
  if (now >= m_next_full) {
    if (!m_queue.full_pending()) {
      m_full_reason = "interval";
    }
    m_queue.request_full(now);
    m_next_full = now + interval();
  }
  auto batch = m_queue.take(now);
  if (!batch) {
    const std::lock_guard lock(m_status_mutex);
    m_status.queue_depth = m_queue.depth();
    return false;
  }

  if (!batch->full && batch->targets.size() > m_options.max_targets_per_pass
      && (!m_last_full_start || now - *m_last_full_start >= m_options.min_full_pass_gap)) {
    batch->full = true;
    batch->full_attempts = 0;
    batch->targets.clear();
    m_full_reason = "webhook burst";
  }

  PassSpec spec;
  spec.policy = m_policy.current();
  spec.now = wall;
  int attempts = 0;
  if (batch->full) {
    spec.kind = PassKind::full;
    spec.reason = m_full_reason.empty() ? "queue overflow" : m_full_reason;
    m_full_reason.clear();
    attempts = batch->full_attempts;
  } else {
    spec.kind = PassKind::targeted;
    spec.reason = "webhook";
    for (const auto& t : batch->targets) {
      spec.employee_ids.push_back(t.employee_id);
      attempts = std::max(attempts, t.attempts);
    }
    if (attempts > 0) {
      spec.reason = "retry";
    }
  }
  spec.attempt = attempts;
  if (spec.kind == PassKind::full) {
    m_last_full_start = now;
  }
  {
    const std::lock_guard lock(m_status_mutex);
    m_status.queue_depth = m_queue.depth();
  }
  if (m_observer != nullptr) {
    m_observer->pass_started(spec);
  }

  const auto started = std::chrono::steady_clock::now();
  PassReport report;
  try {
    report = m_runner.run(spec);
  } catch (const std::exception& e) {
    report = PassReport{};
    report.failed = true;
    report.error = e.what();
  }
  if (report.failed && spec.kind == PassKind::targeted && report.failed_employees.empty()) {
    report.failed_employees = spec.employee_ids;
  }
  const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - started;

  now = m_clock.now();
  if (spec.kind == PassKind::full) {
    if (report.failed) {
      const int next = attempts + 1;
      m_full_reason = "retry";
      m_queue.request_full(now + m_backoff.delay(next), next);
    } else {
      m_next_full = now + interval();
      m_next_boundary = report.next_transition;
      // Changes that failed are retried for their employees, with backoff,
      // rather than waiting for the next interval.
      for (const auto& id : report.failed_employees) {
        m_queue.retry(id, 1, now + m_backoff.delay(1));
      }
    }
  } else {
    std::map<std::string, int> tries;
    for (const auto& t : batch->targets) {
      tries[t.employee_id] = t.attempts;
    }
    for (const auto& id : report.failed_employees) {
      const int next = tries[id] + 1;
      m_queue.retry(id, next, now + m_backoff.delay(next));
    }
    if (report.next_transition
        && (!m_next_boundary || *report.next_transition < *m_next_boundary)) {
      m_next_boundary = report.next_transition;
    }
  }

  {
    const std::lock_guard lock(m_status_mutex);
    ++m_status.passes;
    (spec.kind == PassKind::full ? m_status.full_passes : m_status.targeted_passes)++;
    const bool failed = report.failed || report.apply_failed > 0;
    if (failed) {
      ++m_status.failed_passes;
      ++m_status.consecutive_failures;
      m_status.last_error = report.failed ? report.error
                                          : std::to_string(report.apply_failed)
                                                + " change(s) failed; retried by the next pass";
    } else {
      m_status.consecutive_failures = 0;
      m_status.last_error.clear();
      m_status.last_success = m_clock.wall_now();
    }
    m_status.failing = m_status.consecutive_failures >= m_options.failing_after;
    m_status.last_blocked = report.blocked;
    m_status.next_boundary = m_next_boundary;
    m_status.queue_depth = m_queue.depth();
    m_status.queue_overflows = m_queue.overflows();
  }
  if (m_observer != nullptr) {
    m_observer->pass_finished(spec, report, seconds);
  }
  m_pass_done.notify_all();
  return true;
}

SteadyTime Loop::next_wake() {
  const auto now = m_clock.now();
  if (!m_started || m_reload.load()) {
    return now;
  }
  auto wake = std::min(m_next_full, m_next_policy_check);
  if (auto ready = m_queue.next_ready()) {
    wake = std::min(wake, *ready);
  }
  if (m_next_boundary) {
    const auto until = *m_next_boundary - m_clock.wall_now();
    wake = std::min(wake,
                    now
                        + std::max(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                                   std::chrono::milliseconds(0)));
  }
  return wake;
}

void Loop::run() {
  while (!m_stop.load()) {
    step();
    if (m_stop.load()) {
      break;
    }
    const auto wait = std::clamp(
        std::chrono::duration_cast<std::chrono::milliseconds>(next_wake() - m_clock.now()),
        std::chrono::milliseconds(0),
        m_options.max_wait);
    std::unique_lock lock(m_wake_mutex);
    m_wake.wait_for(lock, wait, [this] { return m_poked || m_stop.load(); });
    m_poked = false;
  }
}

LoopStatus Loop::status() const {
  const std::lock_guard lock(m_status_mutex);
  auto s = m_status;
  s.queue_depth = m_queue.depth();
  return s;
}

bool Loop::wait_for_passes(std::uint64_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(m_status_mutex);
  return m_pass_done.wait_for(lock, timeout, [&] { return m_status.passes >= count; });
}

} // namespace bobsync::controller::run
