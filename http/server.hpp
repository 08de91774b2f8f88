// The HTTP/1.1 server (Boost.Beast + Asio). Beast stays inside server.cpp and session.cpp:
// this header is all the rest of the program sees.
#pragma once

#include "http/message.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace eventhub::http {

struct server_options {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080; // 0: any free port
  int threads = 1;
  int max_connections = 10000;
  std::chrono::milliseconds read_timeout{10000};    // headers + body of a request, and a write
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds request_timeout{10000}; // wait for the handler's answer → 503
  std::size_t max_header_bytes = 16384;             // request line + headers → 431
  std::size_t max_body_bytes = 64 * 1024;           // → 413
  std::size_t max_batch_body_bytes = 1024 * 1024;   // POST …/checkins/batch only → 413
};

/// Whether `target` (path and query) is a route that takes bodies up to max_batch_body_bytes:
/// offline scans uploaded in one batch (POST /api/events/{id}/checkins/batch).
bool takes_batch_body(std::string_view target);

/// Called on an I/O thread for each complete request; must not block. `respond` answers it,
/// `post` runs a later step of it on this same I/O thread.
using request_handler = std::function<void(request, respond_fn respond, post_fn post)>;

class server {
 public:
  server(server_options options, request_handler handler);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds, listens and starts the I/O threads; returns the bound port. Throws on failure.
  std::uint16_t start();

  /// Stops accepting, lets requests in flight finish (up to `grace`), then closes every
  /// connection and joins the I/O threads. Idempotent.
  void stop(std::chrono::milliseconds grace);

  /// Ends a stop()'s wait for requests in flight now (any thread; e.g. on a second stop signal).
  void stop_waiting();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace eventhub::http
