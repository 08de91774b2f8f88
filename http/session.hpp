// One HTTP connection (private to http/). Includes Beast: keep it out of other headers.
#pragma once

#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <memory>
#include <optional>

namespace eventhub::http {

/// State shared by the listener and all sessions.
struct server_state {
  server_options options;
  request_handler handler;
  std::atomic<int> connections{0};
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
};

/// Owns its socket from accept to close: read → handle → write → read. A reply carries the
/// sequence number of its request and is dropped unless that request is still unanswered on
/// this very connection, so a late or stray reply can never reach another client.
class session : public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket socket, std::shared_ptr<server_state> state);
  ~session();

  void start();

 private:
  using parser_type = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void read_header();
  void on_header(boost::beast::error_code ec);
  void read_body();
  void on_body(boost::beast::error_code ec);
  void handle(request req);
  /// Runs a step of request `seq` on this executor; one that throws is answered 500.
  template <class Step> void run(std::uint64_t seq, const Step& step);
  void answer(std::uint64_t seq, response res);
  void write(response res, bool close);
  void on_write(boost::beast::error_code ec, bool close);
  void reject(int status, const std::string& slug, const std::string& detail);
  /// 413 naming the limit of the request's route (takes_batch_body).
  void reject_too_large();
  void close();
  /// The bytes read of a header the parser refused (at most http.max-header-bytes).
  boost::beast::string_view unparsed_header() const;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<parser_type> parser_;
  std::shared_ptr<server_state> state_;
  boost::asio::steady_timer request_timer_;
  std::string remote_address_;
  std::string request_id_;
  std::string path_;
  std::uint64_t seq_ = 0;
  bool answered_ = true;
  bool timer_armed_ = false;
  bool keep_alive_ = false;
  bool first_request_ = true;
  // The response being written: its head, and its body in body_ or shared_body_.
  std::string head_;
  std::string body_;
  std::shared_ptr<const std::string> shared_body_;
};

} // namespace eventhub::http
