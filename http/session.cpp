// HTTP/1.1 session: keep-alive, Connection: close, Expect: 100-continue, limits, timeouts and
// one request at a time (pipelined requests wait in the buffer and are answered in order).
#include "http/session.hpp"

#include "http/problem.hpp"
#include "observability/log.hpp"
#include "security/random.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace eventhub::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

/// A request id for a request that brings none: 128 random bits.
std::string generated_request_id() {
  return security::random_hex(16);
}

/// X-Request-Id's value in the raw bytes of a header block the parser refused (over the limit,
/// malformed): only a complete line counts, a value cut off by the limit is not the client's.
std::optional<beast::string_view> raw_request_id(beast::string_view raw) {
  const auto end_of_header = raw.find("\r\n\r\n");
  if (end_of_header != beast::string_view::npos)
    raw = raw.substr(0, end_of_header + 2); // not a pipelined request's header
  constexpr beast::string_view name = "\nx-request-id:";
  auto at = std::search(raw.begin(), raw.end(), name.begin(), name.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  if (at == raw.end())
    return std::nullopt;
  auto value = raw.substr(static_cast<std::size_t>(at - raw.begin()) + name.size());
  const auto eol = value.find('\r');
  if (eol == beast::string_view::npos)
    return std::nullopt;
  value = value.substr(0, eol);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return value;
}

/// The client's X-Request-Id, from the parsed fields or else from `raw` (the bytes of a refused
/// header), if it has 1..128 printable characters; else a new one.
std::string request_id_of(const bhttp::request<bhttp::string_body>& req, beast::string_view raw) {
  auto it = req.find("X-Request-Id");
  auto v = it != req.end() ? std::optional<beast::string_view>(it->value()) : raw_request_id(raw);
  if (v && !v->empty() && v->size() <= 128 &&
      std::all_of(v->begin(), v->end(), [](char c) { return c >= 0x20 && c <= 0x7e; }))
    return std::string(*v);
  return generated_request_id();
}

std::string lower(beast::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

request to_request(bhttp::request<bhttp::string_body>&& in, std::string remote, std::string id) {
  request out;
  out.method = std::string(in.method_string());
  auto target = in.target();
  auto q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != beast::string_view::npos)
    out.query = std::string(target.substr(q + 1));
  for (const auto& field : in)
    out.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
  out.body = std::move(in.body());
  out.remote_address = std::move(remote);
  out.request_id = std::move(id);
  return out;
}

} // namespace

session::session(net::ip::tcp::socket socket, std::shared_ptr<server_state> state)
    : stream_(std::move(socket)), state_(std::move(state)), request_timer_(stream_.get_executor()) {
  beast::error_code ec;
  auto endpoint = stream_.socket().remote_endpoint(ec);
  if (!ec)
    remote_address_ = endpoint.address().to_string();
  ++state_->connections;
}

session::~session() {
  --state_->connections;
  if (!answered_)
    --state_->in_flight;
}

void session::start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void session::read_header() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(state_->options.max_header_bytes));
  // The largest limit any route has: a declared length is checked against the route's own once
  // the target is known (on_header).
  parser_->body_limit(state_->options.max_batch_body_bytes);
  stream_.expires_after(first_request_ ? state_->options.read_timeout
                                       : state_->options.idle_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void session::on_header(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) // a declared length beyond every route's limit
    return reject_too_large();
  if (ec == bhttp::error::header_limit)
    return reject(431, "header-too-large", "The request line and headers are too large.");
  if (ec)
    return ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
                   ec == net::error::eof || ec == net::error::connection_reset ||
                   ec == net::error::operation_aborted
               ? close()
               : reject(400, "bad-request", "The request is not valid HTTP/1.1.");
  request_id_ = request_id_of(parser_->get(), {});
  if (!takes_batch_body(parser_->get().target())) {
    const auto limit = state_->options.max_body_bytes;
    const auto declared = parser_->content_length();
    if (declared && *declared > limit)
      return reject_too_large();
    parser_->body_limit(limit); // a chunked body: counted as it arrives
  }
  stream_.expires_after(state_->options.read_timeout);
  auto expect = parser_->get().find(bhttp::field::expect);
  if (expect != parser_->get().end() && beast::iequals(expect->value(), "100-continue")) {
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                     parser_->get().version());
    return bhttp::async_write(stream_, *cont,
                              [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
                                if (ec)
                                  return self->close();
                                self->read_body();
                              });
  }
  read_body();
}

void session::reject_too_large() {
  reject(413, "payload-too-large",
         takes_batch_body(parser_->get().target()) ? "The request body exceeds 1 MiB."
                                                   : "The request body exceeds 64 KiB.");
}

void session::read_body() {
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void session::on_body(beast::error_code ec) {
  if (ec == bhttp::error::body_limit)
    return reject_too_large();
  if (ec)
    return ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
                   ec == net::error::connection_reset || ec == net::error::eof
               ? close()
               : reject(400, "bad-request", "The request is not valid HTTP/1.1.");
  stream_.expires_never();
  auto in = parser_->release();
  keep_alive_ = in.keep_alive() && !state_->stopping;
  auto req = to_request(std::move(in), remote_address_, request_id_);
  path_ = req.path;
  handle(std::move(req));
}

template <class Step> void session::run(std::uint64_t seq, const Step& step) {
  try {
    step();
  } catch (const std::exception& e) {
    log::error("http.handler_failed", {{"error", e.what()}, {"request_id", request_id_}});
    answer(seq, problem(domain::make_error(domain::error_code::internal, ""), path_));
  }
}

void session::handle(request req) {
  const std::uint64_t seq = ++seq_;
  answered_ = false;
  ++state_->in_flight;
  // dispatch: inline when already on this session's executor (every answer is made there, see
  // router.hpp), queued onto it otherwise.
  respond_fn respond = [self = shared_from_this(), seq](response res) {
    net::dispatch(self->stream_.get_executor(), [self, seq, res = std::move(res)]() mutable {
      self->answer(seq, std::move(res));
    });
  };
  // A step of this request (a core reply brought back by on_io): dropped once the request is
  // answered, so a late reply after the timeout's 503 does nothing, not even start new work.
  post_fn post = [self = shared_from_this(), seq](std::function<void()> step) {
    net::dispatch(self->stream_.get_executor(), [self, seq, step = std::move(step)] {
      if (seq == self->seq_ && !self->answered_)
        self->run(seq, step);
    });
  };
  run(seq, [&] { state_->handler(std::move(req), std::move(respond), std::move(post)); });
  if (answered_)
    return; // answered inline: no timer needed
  // Replies from other threads are posted to this executor, so none can run before the timer
  // is armed.
  timer_armed_ = true;
  request_timer_.expires_after(state_->options.request_timeout);
  request_timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
    if (ec)
      return; // cancelled: answered in time
    auto e = domain::unavailable("The request took too long; try again.");
    self->answer(seq, problem(e, self->path_));
  });
}

void session::answer(std::uint64_t seq, response res) {
  if (seq != seq_ || answered_)
    return; // a reply after the timeout's 503, or a duplicate: never written anywhere
  answered_ = true;
  --state_->in_flight;
  if (timer_armed_) {
    timer_armed_ = false;
    request_timer_.cancel();
  }
  write(std::move(res), !keep_alive_ || state_->stopping);
}

namespace {

/// The status line and header block of a response, terminated by the empty line. Written here
/// rather than by Beast's generic serializer, which was ~8 % of the server's CPU on the read
/// path: our responses have a fixed shape (a known body length, no chunking, no trailers).
/// Header values come from our own code, and the echoed X-Request-Id is printable ASCII only.
void append_head(std::string& head, const response& r, const std::string& request_id,
                 std::size_t body_size, bool close_after) {
  head += "HTTP/1.1 ";
  head += std::to_string(r.status);
  head += ' ';
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  head.append(reason.data(), reason.size());
  head += "\r\nServer: eventhub\r\nX-Request-Id: ";
  head += request_id;
  head += "\r\n";
  for (const auto& [name, value] : r.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (!r.content_type.empty()) {
    head += "Content-Type: ";
    head += r.content_type;
    head += "\r\n";
  }
  // 1xx, 204 and 304 answers have no body and no Content-Length (RFC 9110, 8.6).
  if (r.status >= 200 && r.status != 204 && r.status != 304) {
    head += "Content-Length: ";
    head += std::to_string(body_size);
    head += "\r\n";
  }
  if (close_after)
    head += "Connection: close\r\n";
  head += "\r\n";
}

} // namespace

void session::write(response r, bool close_after) {
  shared_body_.reset();
  body_.clear();
  const char* body = nullptr;
  std::size_t body_size = 0;
  if (!r.content_type.empty()) {
    if (r.shared_body) {
      shared_body_ = std::move(r.shared_body);
      body = shared_body_->data();
      body_size = shared_body_->size();
    } else {
      body_ = std::move(r.body);
      body = body_.data();
      body_size = body_.size();
    }
  }
  head_.clear();
  append_head(head_, r, request_id_, body_size, close_after);
  const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body, body_size)};
  stream_.expires_after(state_->options.read_timeout);
  net::async_write(stream_, buffers,
                   [self = shared_from_this(), close_after](beast::error_code ec, std::size_t) {
                     self->on_write(ec, close_after);
                   });
}

void session::on_write(beast::error_code ec, bool close_after) {
  if (ec || close_after)
    return close();
  first_request_ = false;
  read_header();
}

void session::reject(int status, const std::string& slug, const std::string& detail) {
  // The connection is in an unknown state (unread body, broken framing): answer, then close.
  // Refused or not, the answer carries the client's X-Request-Id: from the fields parsed so far,
  // else from the raw bytes of a header the parser refused (never from body bytes).
  request_id_ = request_id_of(parser_->get(),
                              parser_->is_header_done() ? beast::string_view() : unparsed_header());
  const auto target = parser_->get().target(); // parser_ is set from read_header on
  const std::string instance(target.substr(0, target.find('?')));
  write(problem(status, slug, detail, instance.empty() ? "/" : instance), true);
}

beast::string_view session::unparsed_header() const {
  const auto bytes = buffer_.data();
  return {static_cast<const char*>(bytes.data()),
          std::min(bytes.size(), state_->options.max_header_bytes)};
}

void session::close() {
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  stream_.socket().close(ec);
}

} // namespace eventhub::http
