#include "controller/observability/metrics.hpp"

#include "controller/server/webhook.hpp"

#include <array>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace bobsync::controller::observability {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// A pass: from a few milliseconds (targeted, cached) to minutes (a full
// refresh of 10,000 employees against rate limits).
const Histogram::BucketBoundaries k_pass_buckets = {
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
// One HTTP exchange.
const Histogram::BucketBoundaries k_api_buckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

constexpr std::array k_pass_kinds = {PassKind::full, PassKind::targeted};
constexpr std::array k_pass_results = {
    PassResult::ok, PassResult::partial, PassResult::blocked, PassResult::failed};
constexpr std::array k_webhook_results = {WebhookResult::accepted,
                                          WebhookResult::ping,
                                          WebhookResult::unknown_type,
                                          WebhookResult::unauthorized,
                                          WebhookResult::too_large,
                                          WebhookResult::malformed,
                                          WebhookResult::unavailable};

std::string label(std::string_view text) {
  return std::string(text);
}

} // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  Family<Counter>& passes = prometheus::BuildCounter()
                                .Name("bobsync_passes_total")
                                .Help("Reconcile passes by kind and result.")
                                .Register(*registry);
  Family<Histogram>& pass_duration = prometheus::BuildHistogram()
                                         .Name("bobsync_pass_duration_seconds")
                                         .Help("Duration of reconcile passes.")
                                         .Register(*registry);
  Family<Counter>& changes = prometheus::BuildCounter()
                                 .Name("bobsync_changes_total")
                                 .Help("Changes applied to JumpCloud by action and result.")
                                 .Register(*registry);
  Family<Counter>& api_requests =
      prometheus::BuildCounter()
          .Name("bobsync_api_requests_total")
          .Help("HTTP requests to Bob and JumpCloud by API, method and status (error: no "
                "response).")
          .Register(*registry);
  Family<Histogram>& api_duration = prometheus::BuildHistogram()
                                        .Name("bobsync_api_request_duration_seconds")
                                        .Help("Latency of HTTP requests to Bob and JumpCloud.")
                                        .Register(*registry);
  Family<Counter>& api_retries = prometheus::BuildCounter()
                                     .Name("bobsync_api_retries_total")
                                     .Help("Retried HTTP requests by API.")
                                     .Register(*registry);
  Gauge& open_conflicts = prometheus::BuildGauge()
                              .Name("bobsync_open_conflicts")
                              .Help("Conflicts in the last plan (users bobsync cannot match "
                                    "or create without a person deciding).")
                              .Register(*registry)
                              .Add({});
  Counter& blocked_plans = prometheus::BuildCounter()
                               .Name("bobsync_blocked_plans_total")
                               .Help("Plans held by a safety limit.")
                               .Register(*registry)
                               .Add({});
  Gauge& last_plan_blocked = prometheus::BuildGauge()
                                 .Name("bobsync_last_plan_blocked")
                                 .Help("1 when the last plan was held by a safety limit.")
                                 .Register(*registry)
                                 .Add({});
  Gauge& queue_depth = prometheus::BuildGauge()
                           .Name("bobsync_queue_depth")
                           .Help("Employees waiting in the work queue for a targeted pass.")
                           .Register(*registry)
                           .Add({});
  Family<Counter>& webhook_requests = prometheus::BuildCounter()
                                          .Name("bobsync_webhook_requests_total")
                                          .Help("Requests to POST /webhooks/bob by result.")
                                          .Register(*registry);
  Family<Counter>& webhook_events = prometheus::BuildCounter()
                                        .Name("bobsync_webhook_events_total")
                                        .Help("Signed Bob webhook events by type (other: a "
                                              "type bobsync does not know by name).")
                                        .Register(*registry);
  Gauge& last_success = prometheus::BuildGauge()
                            .Name("bobsync_last_successful_pass_timestamp_seconds")
                            .Help("Unix time of the end of the last pass that did not fail "
                                  "(0: none yet).")
                            .Register(*registry)
                            .Add({});
  Gauge& consecutive_failures = prometheus::BuildGauge()
                                    .Name("bobsync_consecutive_failed_passes")
                                    .Help("Passes failed in a row (0 after any pass that did "
                                          "not fail).")
                                    .Register(*registry)
                                    .Add({});
  Gauge& policy_generation = prometheus::BuildGauge()
                                 .Name("bobsync_policy_generation")
                                 .Help("Generation of the policy in use (1: the one loaded at "
                                       "start, +1 per accepted reload).")
                                 .Register(*registry)
                                 .Add({});
  Gauge& policy_valid = prometheus::BuildGauge()
                            .Name("bobsync_policy_valid")
                            .Help("1 when the policy file as last read is valid; 0 when it "
                                  "was rejected (the last good policy keeps running).")
                            .Register(*registry)
                            .Add({});
  Counter& policy_reload_failures = prometheus::BuildCounter()
                                        .Name("bobsync_policy_reload_failures_total")
                                        .Help("Policy reloads rejected as invalid.")
                                        .Register(*registry)
                                        .Add({});
  Family<Gauge>& build_info = prometheus::BuildGauge()
                                  .Name("bobsync_build_info")
                                  .Help("Always 1; the version is a label.")
                                  .Register(*registry);

  Impl() {
    // Series that exist from the start, so that rate() and alerts see zeros
    // rather than missing data.
    for (const auto kind : k_pass_kinds) {
      for (const auto result : k_pass_results) {
        passes.Add({{"kind", label(to_string(kind))}, {"result", label(to_string(result))}});
      }
      pass_duration.Add({{"kind", label(to_string(kind))}}, k_pass_buckets);
    }
    for (const auto result : k_webhook_results) {
      webhook_requests.Add({{"result", label(to_string(result))}});
    }
  }
};

Metrics::Metrics(std::string_view version)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->build_info.Add({{"version", version.empty() ? "unknown" : std::string(version)}}).Set(1);
}

Metrics::~Metrics() = default;

void Metrics::pass_finished(PassKind kind,
                            PassResult result,
                            std::chrono::duration<double> duration,
                            std::chrono::system_clock::time_point finished_at) {
  m_impl->passes.Add({{"kind", label(to_string(kind))}, {"result", label(to_string(result))}})
      .Increment();
  m_impl->pass_duration.Add({{"kind", label(to_string(kind))}}, k_pass_buckets)
      .Observe(duration.count());
  switch (result) {
  case PassResult::failed:
    m_impl->consecutive_failures.Increment();
    return;
  case PassResult::ok:
  case PassResult::partial:
  case PassResult::blocked:
    m_impl->consecutive_failures.Set(0);
    m_impl->last_success.Set(std::chrono::duration<double>(finished_at.time_since_epoch()).count());
    return;
  }
}

void Metrics::change_applied(std::string_view action,
                             std::string_view result,
                             std::uint64_t count) {
  m_impl->changes.Add({{"action", label(action)}, {"result", label(result)}})
      .Increment(static_cast<double>(count));
}

void Metrics::api_request(std::string_view api,
                          std::string_view method,
                          int status,
                          std::chrono::duration<double> latency) {
  const std::string status_label = status > 0 ? std::to_string(status) : "error";
  m_impl->api_requests
      .Add({{"api", label(api)}, {"method", label(method)}, {"status", status_label}})
      .Increment();
  m_impl->api_duration.Add({{"api", label(api)}, {"method", label(method)}}, k_api_buckets)
      .Observe(latency.count());
}

void Metrics::api_retry(std::string_view api) {
  m_impl->api_retries.Add({{"api", label(api)}}).Increment();
}

void Metrics::set_open_conflicts(std::uint64_t count) {
  m_impl->open_conflicts.Set(static_cast<double>(count));
}

void Metrics::plan_blocked(bool blocked) {
  if (blocked) {
    m_impl->blocked_plans.Increment();
  }
  m_impl->last_plan_blocked.Set(blocked ? 1 : 0);
}

void Metrics::set_queue_depth(std::uint64_t depth) {
  m_impl->queue_depth.Set(static_cast<double>(depth));
}

void Metrics::webhook_request(WebhookResult result) {
  m_impl->webhook_requests.Add({{"result", label(to_string(result))}}).Increment();
}

void Metrics::webhook_event(std::string_view type) {
  const std::string name = server::is_known_bob_event_type(type) ? std::string(type) : "other";
  m_impl->webhook_events.Add({{"type", name}}).Increment();
}

void Metrics::set_policy(std::uint64_t generation, bool valid) {
  m_impl->policy_generation.Set(static_cast<double>(generation));
  m_impl->policy_valid.Set(valid ? 1 : 0);
}

void Metrics::policy_reload_failed() {
  m_impl->policy_reload_failures.Increment();
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(m_impl->registry->Collect());
}

std::string_view to_string(PassKind kind) {
  switch (kind) {
  case PassKind::full:
    return "full";
  case PassKind::targeted:
    return "targeted";
  }
  return "full";
}

std::string_view to_string(PassResult result) {
  switch (result) {
  case PassResult::ok:
    return "ok";
  case PassResult::partial:
    return "partial";
  case PassResult::blocked:
    return "blocked";
  case PassResult::failed:
    return "failed";
  }
  return "failed";
}

std::string_view to_string(WebhookResult result) {
  switch (result) {
  case WebhookResult::accepted:
    return "accepted";
  case WebhookResult::ping:
    return "ping";
  case WebhookResult::unknown_type:
    return "unknown_type";
  case WebhookResult::unauthorized:
    return "unauthorized";
  case WebhookResult::too_large:
    return "too_large";
  case WebhookResult::malformed:
    return "malformed";
  case WebhookResult::unavailable:
    return "unavailable";
  }
  return "malformed";
}

} // namespace bobsync::controller::observability
