// libcurl easy handle reused across attempts (keep-alive to the receiver).
#include "actors/webhook.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <mutex>

namespace eventhub::actors {
namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

/// Keeps the Retry-After header of the answer (the last one, after any interim answers).
size_t keep_retry_after(char* data, size_t size, size_t n, void* user) {
  const std::string line(data, size * n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    std::string head = line.substr(0, name.size());
    std::transform(head.begin(), head.end(), head.begin(), ::tolower);
    if (head == name) {
      auto value = line.substr(name.size());
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r\n") + 1);
      *static_cast<std::string*>(user) = value;
    }
  }
  return size * n;
}

std::string pinned(const webhook_request& r) {
  std::string out = r.host + ":" + std::to_string(r.port) + ":";
  for (std::size_t i = 0; i < r.addresses.size(); ++i) {
    const auto& a = r.addresses[i];
    out += (i ? "," : "") + (a.find(':') != std::string::npos ? "[" + a + "]" : a);
  }
  return out;
}

} // namespace

struct webhook_client::impl {
  CURL* curl = nullptr;
  long timeout_ms = 15000;
};

webhook_client::webhook_client(std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
  impl_->timeout_ms = static_cast<long>(timeout.count());
}

webhook_client::~webhook_client() {
  if (impl_->curl)
    curl_easy_cleanup(impl_->curl);
}

webhook_answer webhook_client::post(const webhook_request& r) {
  webhook_answer answer;
  CURL* c = impl_->curl;
  if (!c) {
    answer.error = "curl unavailable";
    return answer;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& h : r.headers)
    headers = curl_slist_append(headers, h.c_str());
  curl_slist* resolve = curl_slist_append(nullptr, pinned(r).c_str());
  std::string retry_after;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); // a redirect is an answer, not a delivery
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, keep_retry_after);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &retry_after);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(c);
  answer.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  if (rc != CURLE_OK) {
    answer.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    answer.error = curl_easy_strerror(rc);
    return answer;
  }
  answer.status = static_cast<int>(status);
  if (status < 200 || status >= 300)
    answer.error = "HTTP " + std::to_string(status);
  if (!retry_after.empty())
    answer.retry_after = parse_retry_after(retry_after, std::time(nullptr));
  return answer;
}

std::optional<std::chrono::seconds> parse_retry_after(const std::string& value, std::time_t now) {
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc{} && end == value.data() + value.size())
    return seconds >= 0 ? std::optional(std::chrono::seconds{seconds}) : std::nullopt;
  const std::time_t at = curl_getdate(value.c_str(), nullptr);
  if (at < 0)
    return std::nullopt;
  return std::chrono::seconds{std::max<std::time_t>(0, at - now)};
}

} // namespace eventhub::actors
