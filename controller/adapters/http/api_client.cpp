#include "controller/adapters/http/api_client.hpp"

#include "state/util/ascii.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>

namespace bobsync::controller::http {
namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(d.count() % 1000 == 0 ? 0 : 1);
  out << static_cast<double>(d.count()) / 1000.0 << " s";
  return out.str();
}

std::string status_text(int status) {
  std::string text = "HTTP " + std::to_string(status);
  const auto reason = reason_phrase(status);
  if (!reason.empty()) {
    text += ' ';
    text += reason;
  }
  return text;
}

// "https://host:port/path" of a URL (no query, no user info), for messages.
std::string url_up_to_path(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return std::string(url.substr(0, url.find_first_of("?#")));
  }
  auto rest = url.substr(scheme + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto at = rest.substr(0, authority_end).rfind('@');
  if (at != std::string_view::npos) {
    rest = rest.substr(at + 1);
  }
  return std::string(url.substr(0, scheme + 3))
         + std::string(rest.substr(0, rest.find_first_of("?#")));
}

std::string failure_text(const TransportError& failure,
                         std::chrono::milliseconds timeout,
                         const std::string& api,
                         const std::string& endpoint) {
  switch (failure.kind) {
  case FailureKind::bad_url:
    return "refused URL " + endpoint + ": " + failure.detail;
  case FailureKind::connect:
    return "cannot reach " + api + " at " + endpoint + ": " + failure.detail;
  case FailureKind::tls:
    return "TLS failure with " + endpoint
           + " (certificate or handshake; check the URL's scheme, host and port): "
           + failure.detail;
  case FailureKind::timeout:
    return "timed out after " + seconds_text(timeout) + " waiting for " + endpoint + " ("
           + failure.detail + ")";
  case FailureKind::stalled:
    return "no answer from " + endpoint + ": " + failure.detail;
  case FailureKind::connection_lost:
    return "connection lost before a complete response: " + failure.detail;
  case FailureKind::too_large:
    return "response too large: " + failure.detail;
  case FailureKind::aborted:
    return "transfer stopped: " + failure.detail;
  case FailureKind::other:
    return "transfer failed: " + failure.detail;
  }
  return failure.detail; // unreachable
}

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

// RFC 7231 IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) {
    return std::nullopt;
  }
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(t);
}

std::chrono::milliseconds until(std::chrono::system_clock::time_point when,
                                std::chrono::system_clock::time_point now) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::ceil<std::chrono::milliseconds>(when - now));
}

} // namespace

ErrorKind error_kind_for_status(int status, std::string_view message, Idempotency idempotency) {
  if (status == 401 || status == 403) {
    return ErrorKind::unauthorized;
  }
  if (status == 404) {
    return ErrorKind::not_found;
  }
  if (status == 409) {
    return ErrorKind::conflict;
  }
  if (status == 400 && idempotency == Idempotency::once
      && ascii_lower(message).find("already exist") != std::string::npos) {
    return ErrorKind::conflict;
  }
  if (status == 408 || status == 429) {
    return ErrorKind::transient;
  }
  if (status >= 500 && status <= 599) {
    return idempotency == Idempotency::once ? ErrorKind::unknown_outcome : ErrorKind::transient;
  }
  if (status >= 400 && status <= 499) {
    return ErrorKind::rejected;
  }
  return ErrorKind::protocol;
}

ErrorKind error_kind_for_failure(const TransportError& failure, Idempotency idempotency) {
  switch (failure.kind) {
  case FailureKind::bad_url:
    return ErrorKind::rejected;
  case FailureKind::tls:
  case FailureKind::too_large:
  case FailureKind::aborted:
    return ErrorKind::protocol;
  case FailureKind::connect:
  case FailureKind::timeout:
  case FailureKind::stalled:
  case FailureKind::connection_lost:
  case FailureKind::other:
    break;
  }
  if (!failure.request_sent || idempotency == Idempotency::read) {
    return ErrorKind::transient;
  }
  return ErrorKind::unknown_outcome;
}

std::string server_message(const Response& response) {
  const auto body = ascii_trim(response.body);
  if (body.empty()) {
    return {};
  }
  const auto type = media_type(response.header("content-type"));
  if (type == "text/html" || body.rfind("<!", 0) == 0
      || ascii_lower(body.substr(0, 5)) == "<html") {
    return "(HTML page)";
  }
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded()) {
    if (json.is_object()) {
      for (const char* key : {"message", "error", "error_description", "detail"}) {
        const auto it = json.find(key);
        if (it == json.end()) {
          continue;
        }
        if (it->is_string() && !it->get_ref<const std::string&>().empty()) {
          return it->get<std::string>();
        }
        if (it->is_object()) {
          const auto inner = it->find("message");
          if (inner != it->end() && inner->is_string()) {
            return inner->get<std::string>();
          }
        }
      }
    }
    return {};
  }
  constexpr std::size_t k_max = 200;
  return body.size() > k_max ? body.substr(0, k_max) + "..." : body;
}

std::string_view reason_phrase(int status) {
  switch (status) {
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 402:
    return "Payment Required";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 428:
    return "Precondition Required";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return {};
  }
}

std::optional<std::chrono::milliseconds> server_delay(const Response& response,
                                                      std::chrono::system_clock::time_point now) {
  const auto retry_after = ascii_trim(response.header("retry-after"));
  if (!retry_after.empty()) {
    if (const auto seconds = parse_integer(retry_after)) {
      return std::chrono::milliseconds(std::max(0LL, *seconds) * 1000);
    }
    if (const auto when = parse_http_date(retry_after)) {
      return until(*when, now);
    }
  }
  const auto reset = ascii_trim(response.header("x-ratelimit-reset"));
  if (!reset.empty()) {
    if (const auto value = parse_integer(reset)) {
      constexpr long long k_epoch_threshold = 1000000000LL;
      if (*value >= k_epoch_threshold) {
        return until(std::chrono::system_clock::time_point(std::chrono::seconds(*value)), now);
      }
      return std::chrono::milliseconds(std::max(0LL, *value) * 1000);
    }
  }
  return std::nullopt;
}

ApiClient::ApiClient(Transport& transport,
                     Clock& clock,
                     Redactor redactor,
                     ApiClientOptions options)
    : m_transport(transport),
      m_clock(clock),
      m_redactor(std::move(redactor)),
      m_options(std::move(options)),
      m_api_label(ascii_lower(m_options.api_name)),
      m_rng(m_options.retry.jitter_seed ? *m_options.retry.jitter_seed : std::random_device{}()) {}

ApiError ApiClient::error(ErrorKind kind,
                          std::string_view operation,
                          std::string_view detail,
                          int http_status) const {
  std::string message = m_options.api_name;
  message += ' ';
  message += operation;
  message += ": ";
  message += detail;
  return ApiError{kind, http_status, m_redactor.redact(message), std::nullopt};
}

void ApiClient::log(const std::string& line) const {
  if (m_options.log) {
    m_options.log(m_redactor.redact(line));
  }
}

std::chrono::milliseconds ApiClient::backoff(int attempt) {
  const auto& retry = m_options.retry;
  const int exponent = std::min(attempt - 1, 30);
  const auto ceiling =
      std::min<long long>(retry.max_delay.count(), retry.base_delay.count() * (1LL << exponent));
  const std::lock_guard lock(m_rng_mutex);
  std::uniform_int_distribution<long long> pick(0, std::max(0LL, ceiling));
  return std::chrono::milliseconds(pick(m_rng));
}

ApiResult<Response> ApiClient::send(std::string_view operation,
                                    const Request& request,
                                    Idempotency idempotency,
                                    RateLimiter* limiter) {
  return run(operation, request, idempotency, limiter, nullptr);
}

ApiResult<Response> ApiClient::send_streaming(std::string_view operation,
                                              const Request& request,
                                              Idempotency idempotency,
                                              BodyConsumer& consumer,
                                              RateLimiter* limiter) {
  return run(operation, request, idempotency, limiter, &consumer);
}

ApiResult<Response> ApiClient::run(std::string_view operation,
                                   const Request& original,
                                   Idempotency idempotency,
                                   RateLimiter* limiter,
                                   BodyConsumer* consumer) {
  const auto& policy = m_options.retry;
  const int max_attempts = std::max(1, policy.max_attempts);
  const std::string op(operation);
  const std::string endpoint =
      m_options.endpoint.empty() ? url_up_to_path(original.url) : m_options.endpoint;
  Request request = original;
  request.fresh_connection = request.fresh_connection || idempotency == Idempotency::once;
  std::string content_type_problem;
  bool received_body = false;
  if (consumer != nullptr) {
    request.on_body = [&](const Response& head, std::string_view chunk) {
      if (!received_body) {
        received_body = true;
        const auto type = head.header("content-type");
        if (!is_json_media_type(type)) {
          content_type_problem = type.empty() ? std::string("none") : media_type(type);
          return false;
        }
      }
      return consumer->feed(chunk);
    };
  }
  const auto started = m_clock.now();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.now() - started);
  };
  for (int attempt = 1;; ++attempt) {
    if (limiter != nullptr) {
      limiter->acquire();
    }
    if (consumer != nullptr) {
      consumer->begin();
      content_type_problem.clear();
      received_body = false;
    }
    if (attempt > 1) {
      // A retry may not run past the budget (the first attempt has its own
      // deadline): at least a second, so it can still answer.
      const auto left = std::max(std::chrono::milliseconds(1000), policy.budget - elapsed());
      request.timeout = std::min(original.timeout, left);
    }
    const auto attempt_started = m_clock.now();
    auto result = m_transport.send(request);
    if (m_options.on_attempt) {
      AttemptInfo info;
      info.api = m_api_label;
      info.operation = operation;
      info.method = request.method;
      info.status =
          result ? result->status : (result.error().kind == FailureKind::aborted ? 200 : 0);
      info.latency = m_clock.now() - attempt_started;
      info.is_retry = attempt > 1;
      m_options.on_attempt(info);
    }
    if (!result && result.error().kind == FailureKind::aborted) {
      if (m_options.on_response) {
        m_options.on_response(operation, 200);
      }
      const std::string detail =
          !content_type_problem.empty()
              ? "response is not JSON (content-type " + content_type_problem + ")"
              : consumer->error();
      auto err = error(ErrorKind::protocol, op, detail, 200);
      log(err.message);
      return Unexpected<ApiError>{std::move(err)};
    }
    if (result && consumer != nullptr && result->status >= 200 && result->status <= 299) {
      if (m_options.on_response) {
        m_options.on_response(operation, result->status);
      }
      std::string problem;
      if (!received_body) {
        problem = "response body is empty";
      } else if (!consumer->finish()) {
        problem = consumer->error();
      }
      if (!problem.empty()) {
        auto err = error(ErrorKind::protocol, op, problem, result->status);
        log(err.message);
        return Unexpected<ApiError>{std::move(err)};
      }
      return std::move(result).value();
    }
    std::string detail;
    ErrorKind kind = ErrorKind::protocol;
    int status = 0;
    std::optional<std::chrono::milliseconds> asked;
    if (!result) {
      const auto& failure = result.error();
      kind = error_kind_for_failure(failure, idempotency);
      detail = failure_text(failure, request.timeout, m_options.api_name, endpoint);
      if (kind == ErrorKind::unknown_outcome) {
        detail += "; the request was sent, so the change may or may not have been applied";
      }
      if (m_options.on_response) {
        m_options.on_response(operation, 0);
      }
    } else {
      status = result->status;
      if (m_options.on_response) {
        m_options.on_response(operation, status);
      }
      if (status >= 200 && status <= 299) {
        return std::move(result).value();
      }
      const auto message = server_message(*result);
      kind = error_kind_for_status(status, message, idempotency);
      detail = status_text(status);
      if (!message.empty()) {
        detail += ": " + message;
      }
      if (kind == ErrorKind::unknown_outcome) {
        detail += "; the change may or may not have been applied";
      }
      if (status == 429 || (status >= 500 && status <= 599)) {
        asked = server_delay(*result, m_clock.wall_now());
      }
    }

    const bool retry = kind == ErrorKind::transient && attempt < max_attempts;
    const auto left = policy.budget - elapsed();
    if (retry && asked && *asked > policy.max_server_delay) {
      auto err =
          error(kind, op, detail + " (server asked to wait " + seconds_text(*asked) + ")", status);
      err.retry_after = asked;
      log(err.message);
      return Unexpected<ApiError>{std::move(err)};
    }
    const auto delay = retry ? (asked ? *asked : backoff(attempt)) : std::chrono::milliseconds(0);
    const bool over_budget = retry && delay >= left;
    if (!retry || over_budget) {
      if (over_budget) {
        detail += " (gave up after " + std::to_string(attempt)
                  + (attempt == 1 ? " attempt: " : " attempts: ")
                  + (asked ? "the server asked to wait " + seconds_text(*asked) + ", beyond"
                           : std::string("the next wait would run past"))
                  + " the retry budget of " + seconds_text(policy.budget) + ")";
      } else if (attempt > 1) {
        detail += " (gave up after " + std::to_string(attempt) + " attempts)";
      }
      auto err = error(kind, op, detail, status);
      err.retry_after = asked;
      log(err.message);
      return Unexpected<ApiError>{std::move(err)};
    }
    log(m_options.api_name + " " + op + ": " + detail + " (attempt " + std::to_string(attempt)
        + " of " + std::to_string(max_attempts) + "); retrying in " + seconds_text(delay));
    m_clock.sleep_for(delay);
  }
}

ApiResult<Response> ApiClient::send_json(std::string_view operation,
                                         const Request& request,
                                         Idempotency idempotency,
                                         RateLimiter* limiter) {
  auto result = send(operation, request, idempotency, limiter);
  if (!result) {
    return result;
  }
  const auto content_type = result->header("content-type");
  if (!is_json_media_type(content_type)) {
    const std::string shown = content_type.empty() ? std::string("none") : media_type(content_type);
    return Unexpected<ApiError>{error(ErrorKind::protocol,
                                      operation,
                                      "response is not JSON (content-type " + shown + ")",
                                      result->status)};
  }
  if (ascii_trim(result->body).empty()) {
    return Unexpected<ApiError>{
        error(ErrorKind::protocol, operation, "response body is empty", result->status)};
  }
  return result;
}

} // namespace bobsync::controller::http
