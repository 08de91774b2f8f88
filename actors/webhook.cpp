// libcurl easy handle reused across posts (keep-alive to the webhook receiver).
#include "actors/webhook.hpp"

#include <curl/curl.h>

#include <mutex>

namespace eventhub::actors {
namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

} // namespace

struct webhook_client::impl {
  CURL* curl = nullptr;
  std::string url;
  long timeout_ms = 5000;
};

webhook_client::webhook_client(std::string url, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
  impl_->url = std::move(url);
  impl_->timeout_ms = static_cast<long>(timeout.count());
}

webhook_client::~webhook_client() {
  if (impl_->curl)
    curl_easy_cleanup(impl_->curl);
}

bool webhook_client::post(const std::string& json, const std::string& idempotency_key,
                          std::string& error) {
  CURL* c = impl_->curl;
  if (!c) {
    error = "curl unavailable";
    return false;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("Idempotency-Key: " + idempotency_key).c_str());
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, impl_->url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    error = curl_easy_strerror(rc);
    return false;
  }
  if (status < 200 || status >= 300) {
    error = "HTTP " + std::to_string(status);
    return false;
  }
  return true;
}

} // namespace eventhub::actors
