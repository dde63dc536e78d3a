#pragma once

// The controller's Prometheus metrics. prometheus-cpp (core registry and text
// serializer only) stays in the .cpp; the listener serves serialize() on
// GET /metrics. Every method is thread-safe and cheap enough to call from a
// request handler. Label values come from the enums below or from short,
// bounded sets the caller passes (API names, HTTP methods, plan actions);
// never pass ids, emails or free text as a label.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bobsync::controller::observability {

enum class PassKind {
  full,     // everything: Bob, JumpCloud refresh or cache, plan, apply
  targeted, // the employees of the work queue only
};

enum class PassResult {
  ok,      // converged (nothing to do, or every change applied)
  partial, // ran to the end, some changes failed (they are retried)
  blocked, // the plan was held by a safety limit, nothing applied
  failed,  // the pass stopped: Bob or JumpCloud unreachable, store error, ...
};

enum class WebhookResult {
  accepted,     // 202: an employee or table event, employee id enqueued
  ping,         // 200: Bob's "Ping test"
  unknown_type, // 200: a valid, signed event the controller does not act on
  unauthorized, // 401: missing or wrong Bob-Signature (or no secret configured)
  too_large,    // 413: body over 1 MiB
  malformed,    // 400: not a usable v2 event
  unavailable,  // 503: no work queue to hand the event to (shutting down)
};

std::string_view to_string(PassKind kind);
std::string_view to_string(PassResult result);
std::string_view to_string(WebhookResult result);

// Metric names (all prefixed bobsync_):
//   passes_total{kind,result}                      counter
//   pass_duration_seconds{kind}                    histogram
//   changes_total{action,result}                   counter
//   api_requests_total{api,method,status}          counter (status "error": no response)
//   api_request_duration_seconds{api,method}       histogram
//   api_retries_total{api}                         counter
//   open_conflicts                                 gauge (conflicts in the last plan)
//   blocked_plans_total                            counter
//   last_plan_blocked                              gauge 0/1
//   queue_depth                                    gauge
//   webhook_requests_total{result}                 counter
//   webhook_events_total{type}                     counter (known types, else "other")
//   last_successful_pass_timestamp_seconds         gauge (unix time; 0: none yet)
//   consecutive_failed_passes                      gauge
//   policy_generation                              gauge (1 for the first policy loaded)
//   policy_valid                                   gauge 0/1
//   policy_reload_failures_total                   counter
//   build_info{version}                            gauge, always 1
class Metrics {
public:
  explicit Metrics(std::string_view version = "");
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished pass. Counts it, observes its duration and keeps the
  // failure streak: `failed` adds one to consecutive_failed_passes; any other
  // result resets it to 0 and sets last_successful_pass_timestamp_seconds to
  // `finished_at` (a blocked or partial pass did read and plan the world).
  void pass_finished(PassKind kind,
                     PassResult result,
                     std::chrono::duration<double> duration,
                     std::chrono::system_clock::time_point finished_at);

  // `action`: create|update|suspend|activate|...; `result`: ok|failed|skipped.
  void change_applied(std::string_view action, std::string_view result, std::uint64_t count = 1);

  // One HTTP exchange with an API (`api`: bob|jumpcloud). `status` 0 means no
  // response (timeout, connection error) and is labelled "error".
  void api_request(std::string_view api,
                   std::string_view method,
                   int status,
                   std::chrono::duration<double> latency);
  void api_retry(std::string_view api);

  void set_open_conflicts(std::uint64_t count);
  // Called once per planned pass: counts a blocked plan and sets the gauge.
  void plan_blocked(bool blocked);
  void set_queue_depth(std::uint64_t depth);

  void webhook_request(WebhookResult result);
  // The `type` of a signed event; unknown types are counted as "other".
  void webhook_event(std::string_view type);

  // After each load attempt: the generation of the policy now running (it
  // does not change on a rejected reload) and whether the last attempt was
  // valid.
  void set_policy(std::uint64_t generation, bool valid);
  void policy_reload_failed();

  // Everything in the Prometheus text exposition format (version 0.0.4).
  std::string serialize() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Content-Type of serialize()'s output.
inline constexpr const char* k_metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

} // namespace bobsync::controller::observability
