// libFuzzer target: every pure decoder of the HTTP layer (bodies, check-in scans, query strings,
// headers, times, addresses). The first byte picks the decoder; properties that must hold trap when
// broken.
#include "domain/json.hpp"
#include "domain/time.hpp"
#include "http/client_address.hpp"
#include "http/decoders.hpp"
#include "http/problem.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace eventhub;

namespace {

void check(bool property) {
  if (!property)
    __builtin_trap();
}

/// Every error the decoders produce must render as a JSON problem document.
void renders(const domain::error& e) {
  auto r = http::problem(e, "/fuzz");
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  check(!d.HasParseError() && d.IsObject() && r.status == 400);
}

void body(std::string_view text) {
  for (int pass = 0; pass < 5; ++pass) {
    auto parsed = http::validator::parse(text);
    if (auto* e = std::get_if<domain::error>(&parsed)) {
      renders(*e);
      return;
    }
    auto& v = std::get<http::validator>(parsed);
    if (pass == 0) {
      auto p = http::read_new_participant(v, true);
      check(p.has_value() == v.ok());
      if (p)
        check(p->email == http::lower_case(p->email) && p->password.size() >= 8);
    } else if (pass == 1) {
      const auto kind = text.size() % 2 ? http::write_kind::replace : http::write_kind::create;
      auto d = http::read_event_draft(v, kind, "EUR");
      check(d.has_value() == v.ok());
      if (d) {
        check(d->capacity >= 1 && d->capacity <= 1000000 &&
              (!d->ends_at || *d->ends_at > d->starts_at));
        if (d->ticket_types) {
          check(!d->ticket_types->empty() && d->ticket_types->size() <= 20);
          for (const auto& t : *d->ticket_types)
            check(t.quota >= 1 && t.quota <= 1000000 && t.currency.size() == 3);
        }
      }
    } else if (pass == 2) {
      auto q = v.integer("quantity", http::presence::required, 1, 10);
      check(!q || (*q >= 1 && *q <= 10));
    } else if (pass == 3) {
      auto scan = http::read_scan(v);
      check(scan.has_value() == v.ok());
      if (scan)
        check(!scan->code.empty() && (!scan->scan_id || scan->scan_id->size() <= 64));
    } else {
      auto scans = http::read_scan_batch(v);
      check(scans.has_value() == v.ok());
      if (scans) {
        check(!scans->empty() && scans->size() <= http::max_batch_scans);
        for (const auto& s : *scans)
          check(s.scan_id && !s.scan_id->empty() && s.scan_id->size() <= 64 && s.scanned_at);
      }
    }
    if (!v.ok())
      renders(v.error());
  }
}

void query(std::string_view text) {
  auto q = http::decode_event_query(text);
  if (auto* e = std::get_if<domain::error>(&q))
    return renders(*e);
  const auto& ok = std::get<domain::event_query>(q);
  check(ok.paging.page >= 0 && ok.paging.size >= 1 && ok.paging.size <= 100);
  check(!ok.text || ok.text->find('\0') == std::string::npos);
}

void headers(std::string_view text) {
  auto key = http::decode_idempotency_key(text);
  if (auto* k = std::get_if<std::optional<std::string>>(&key))
    check(*k && !(*k)->empty() && (*k)->size() <= 64);
  else
    renders(std::get<domain::error>(key));
  auto token = http::bearer_token(text);
  check(!token || !token->empty());
  http::etag_matches(text, "\"abc\"");
  static const std::vector<config::network> trusted{*config::network::parse("10.0.0.0/8"),
                                                    *config::network::parse("fd00::/8")};
  auto client = http::client_address("10.1.2.3", text, trusted);
  check(!client.empty());
}

void times(std::string_view text) {
  auto t = domain::parse_iso8601(text);
  if (t)
    check(domain::parse_iso8601(domain::format_iso8601(*t)) == t); // formatting round-trips
}

void percent(std::string_view text) {
  auto decoded = http::percent_decode(text, true);
  if (decoded)
    check(http::is_valid_utf8(*decoded) && decoded->find('\0') == std::string::npos);
  http::parse_id(text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
  case 0:
    body(input);
    break;
  case 1:
    query(input);
    break;
  case 2:
    headers(input);
    break;
  case 3:
    times(input);
    break;
  default:
    percent(input);
    break;
  }
  return 0;
}
