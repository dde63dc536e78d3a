#include "controller/adapters/bob/bob_hr_source.hpp"

#include "controller/adapters/bob/bob_payload.hpp"
#include "controller/adapters/bob/bob_record.hpp"
#include "controller/adapters/http/curl_transport.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

namespace bobsync::controller {
namespace {

constexpr std::string_view k_search = "people search";
constexpr std::string_view k_read_one = "read employee";

std::string strip_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

std::vector<std::string> with_id(const std::vector<std::string>& fields) {
  std::vector<std::string> out = fields;
  if (std::find(out.begin(), out.end(), "root.id") == out.end()) {
    out.insert(out.begin(), "root.id");
  }
  return out;
}

http::ApiClientOptions client_options(const BobSettings& settings) {
  http::ApiClientOptions options;
  options.api_name = "Bob";
  options.endpoint = settings.url_origin.empty()
                         ? settings.base_url
                         : settings.base_url + " (" + settings.url_origin + ")";
  options.retry = settings.retry;
  options.log = settings.log;
  options.on_response = settings.on_response;
  options.on_attempt = settings.on_attempt;
  return options;
}

http::Redactor redactor_for(const BobSettings& settings, const std::string& authorization) {
  std::vector<std::string> secrets = settings.extra_secrets;
  secrets.push_back(settings.service_user_token);
  // The Base64 credential (and its token-bearing tail) would reveal the token.
  secrets.push_back(authorization.substr(std::string_view("Basic ").size()));
  return http::Redactor(std::move(secrets));
}

// Receives a streamed people-search answer: splits it into employee objects
// and parses them in batches, on worker threads when there are several.
class SearchConsumer final : public http::BodyConsumer {
public:
  SearchConsumer(const std::vector<std::string>& fields,
                 int threads,
                 std::function<void(std::size_t)> on_progress)
      : m_reader(fields),
        m_threads(std::max(1, threads)),
        m_on_progress(std::move(on_progress)),
        m_splitter([this](std::string&& employee) { return take(std::move(employee)); }) {}

  ~SearchConsumer() override { stop_workers(); }
  SearchConsumer(const SearchConsumer&) = delete;
  SearchConsumer& operator=(const SearchConsumer&) = delete;

  void begin() override {
    drain();
    const std::lock_guard lock(m_mutex);
    m_results.clear();
    m_error.clear();
    m_batch.clear();
    m_batch_bytes = 0;
    m_next_batch = 0;
    m_splitter.reset();
  }

  bool feed(std::string_view chunk) override {
    if (failed()) {
      return false;
    }
    if (!m_splitter.feed(chunk)) {
      set_error("response is not a valid people list: " + m_splitter.error());
      return false;
    }
    return !failed();
  }

  bool finish() override {
    if (!m_splitter.finish()) {
      set_error("response is not a valid people list: " + m_splitter.error());
      return false;
    }
    submit();
    drain();
    return !failed();
  }

  std::string error() const override {
    const std::lock_guard lock(m_mutex);
    return m_error;
  }

  std::vector<state::Employee> take_employees() {
    const std::lock_guard lock(m_mutex);
    std::size_t total = 0;
    for (const auto& [index, batch] : m_results) {
      total += batch.size();
    }
    std::vector<state::Employee> out;
    out.reserve(total);
    for (auto& [index, batch] : m_results) {
      for (auto& e : batch) {
        out.push_back(std::move(e));
      }
    }
    m_results.clear();
    return out;
  }

private:
  struct Batch {
    std::size_t index = 0;
    std::size_t first = 0; // position of the batch's first employee in the answer
    std::vector<std::string> texts;
  };

  static constexpr std::size_t k_batch_bytes = 256 * 1024;

  bool take(std::string&& employee) {
    m_batch_bytes += employee.size();
    m_batch.push_back(std::move(employee));
    if (m_on_progress) {
      m_on_progress(m_splitter.count());
    }
    if (m_batch_bytes >= k_batch_bytes) {
      submit();
    }
    return !failed();
  }

  void submit() {
    if (m_batch.empty()) {
      return;
    }
    Batch batch{m_next_batch++, m_splitter.count() - m_batch.size(), std::move(m_batch)};
    m_batch.clear();
    m_batch_bytes = 0;
    if (m_threads == 1) {
      parse(std::move(batch));
      return;
    }
    start_workers();
    std::unique_lock lock(m_mutex);
    // Back-pressure: a slow parse slows the transfer instead of piling up text.
    m_space.wait(lock, [this] { return m_queue.size() < static_cast<std::size_t>(2 * m_threads); });
    m_queue.push_back(std::move(batch));
    ++m_pending;
    m_work.notify_one();
  }

  void parse(Batch batch) {
    std::vector<state::Employee> parsed;
    parsed.reserve(batch.texts.size());
    std::string error;
    for (std::size_t i = 0; i < batch.texts.size(); ++i) {
      if (failed()) {
        return;
      }
      auto employee = m_reader.read(batch.texts[i], error);
      if (!employee) {
        set_error("employee " + std::to_string(batch.first + i + 1) + ": " + error);
        return;
      }
      parsed.push_back(std::move(*employee));
      batch.texts[i] = std::string(); // free the text as we go
    }
    const std::lock_guard lock(m_mutex);
    m_results.emplace(batch.index, std::move(parsed));
  }

  void start_workers() {
    if (!m_workers.empty()) {
      return;
    }
    for (int i = 0; i < m_threads; ++i) {
      m_workers.emplace_back([this] { work(); });
    }
  }

  void work() {
    while (true) {
      Batch batch;
      {
        std::unique_lock lock(m_mutex);
        m_work.wait(lock, [this] { return m_quit || !m_queue.empty(); });
        if (m_queue.empty()) {
          return; // quitting
        }
        batch = std::move(m_queue.front());
        m_queue.pop_front();
      }
      m_space.notify_one();
      try {
        parse(std::move(batch));
      } catch (const std::exception& e) {
        set_error(std::string("cannot parse employees: ") + e.what());
      } catch (...) { // a thread's entry point: nothing may escape it
        set_error("cannot parse employees: unknown error");
      }
      {
        const std::lock_guard lock(m_mutex);
        --m_pending;
      }
      m_idle.notify_all();
    }
  }

  // Waits until every submitted batch is parsed.
  void drain() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return m_pending == 0; });
  }

  void stop_workers() {
    {
      const std::lock_guard lock(m_mutex);
      m_quit = true;
    }
    m_work.notify_all();
    for (auto& t : m_workers) {
      t.join();
    }
    m_workers.clear();
  }

  bool failed() const {
    const std::lock_guard lock(m_mutex);
    return !m_error.empty();
  }

  void set_error(std::string message) {
    const std::lock_guard lock(m_mutex);
    if (m_error.empty()) {
      m_error = std::move(message);
    }
  }

  const EmployeeReader m_reader; // read() is safe from several threads
  int m_threads;
  std::function<void(std::size_t)> m_on_progress;
  SearchSplitter m_splitter;
  std::vector<std::string> m_batch;
  std::size_t m_batch_bytes = 0;
  std::size_t m_next_batch = 0;

  mutable std::mutex m_mutex;
  std::condition_variable m_work;
  std::condition_variable m_space;
  std::condition_variable m_idle;
  std::deque<Batch> m_queue;
  std::size_t m_pending = 0;
  bool m_quit = false;
  std::map<std::size_t, std::vector<state::Employee>> m_results;
  std::string m_error;
  std::vector<std::thread> m_workers;
};

int parse_threads(int configured) {
  if (configured > 0) {
    return configured;
  }
  const auto cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores, 1, 8);
}

} // namespace

BobHrSource::BobHrSource(http::Transport& transport, Clock& clock, BobSettings settings)
    : m_settings(std::move(settings)),
      m_authorization(
          basic_authorization(m_settings.service_user_id, m_settings.service_user_token)),
      m_client(
          transport, clock, redactor_for(m_settings, m_authorization), client_options(m_settings)),
      m_search_limiter(
          clock, m_settings.search_requests_per_minute, std::chrono::milliseconds(60000)) {
  m_settings.base_url = strip_trailing_slash(m_settings.base_url);
}

http::Request BobHrSource::request(const std::string& path,
                                   std::string body,
                                   std::chrono::milliseconds timeout) const {
  http::Request request;
  request.method = "POST";
  request.url = m_settings.base_url + path;
  request.headers = {{"Authorization", m_authorization},
                     {"Accept", "application/json"},
                     {"Content-Type", "application/json"}};
  request.body = std::move(body);
  request.timeout = timeout;
  request.stall_timeout = m_settings.stall_timeout;
  return request;
}

ApiResult<std::vector<state::Employee>>
BobHrSource::list_employees(const std::vector<std::string>& fields) {
  const nlohmann::json body = {
      {"fields", with_id(fields)}, {"showInactive", true}, {"humanReadable", "APPEND"}};
  SearchConsumer consumer(
      fields, parse_threads(m_settings.parse_threads), m_settings.on_search_progress);
  auto response =
      m_client.send_streaming(k_search,
                              request("/people/search", body.dump(), m_settings.search_timeout),
                              http::Idempotency::read,
                              consumer,
                              &m_search_limiter);
  if (!response) {
    return Unexpected<ApiError>{response.error()};
  }
  auto employees = consumer.take_employees();
  auto absent = fields_absent_for_all(employees, fields);
  const std::lock_guard lock(m_mutex);
  m_last_absent = std::move(absent);
  return employees;
}

ApiResult<std::optional<state::Employee>>
BobHrSource::get_employee(const state::EmployeeId& id, const std::vector<std::string>& fields) {
  const nlohmann::json body = {{"fields", with_id(fields)}, {"humanReadable", "APPEND"}};
  auto response = m_client.send_json(
      k_read_one,
      request("/people/" + http::url_encode(id), body.dump(), m_settings.read_timeout),
      http::Idempotency::read);
  if (!response) {
    if (response.error().kind == ErrorKind::not_found) {
      return std::optional<state::Employee>();
    }
    return Unexpected<ApiError>{response.error()};
  }
  std::string error;
  auto employee = employee_from_json_text(response->body, fields, error);
  if (!employee) {
    return Unexpected<ApiError>{
        m_client.error(ErrorKind::protocol, k_read_one, "employee " + id + ": " + error, 200)};
  }
  return std::optional<state::Employee>(std::move(*employee));
}

std::vector<std::string> BobHrSource::last_absent_fields() const {
  const std::lock_guard lock(m_mutex);
  return m_last_absent;
}

std::vector<std::string> fields_absent_for_all(const std::vector<state::Employee>& employees,
                                               const std::vector<std::string>& requested) {
  std::vector<std::string> absent;
  if (employees.empty()) {
    return absent;
  }
  for (const auto& field : requested) {
    if (field == "root.id" || std::find(absent.begin(), absent.end(), field) != absent.end()) {
      continue;
    }
    const bool seen = std::any_of(employees.begin(), employees.end(), [&](const auto& e) {
      return e.fields.contains(field);
    });
    if (!seen) {
      absent.push_back(field);
    }
  }
  return absent;
}

} // namespace bobsync::controller
