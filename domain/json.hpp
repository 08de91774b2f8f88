// The project's only door to rapidjson: one RAPIDJSON_ASSERT for every translation unit,
// and compact JSON writers for every JSON shape the service writes: HTTP answers, the listing
// cache's pages. (Webhook bodies are built by the fan-out statement: queries/webhook_queries.hpp.)
#pragma once

#if defined(RAPIDJSON_RAPIDJSON_H_)
#error "include rapidjson only through domain/json.hpp, so every file shares one RAPIDJSON_ASSERT"
#endif

#include <stdexcept>

namespace eventhub::domain {
/// Thrown instead of aborting when rapidjson's internal checks fail (a bug, never bad input:
/// request decoding checks every type before reading it).
struct json_assertion : std::logic_error {
  using std::logic_error::logic_error;
};
} // namespace eventhub::domain

#define RAPIDJSON_ASSERT(x)                                                                        \
  do {                                                                                             \
    if (!(x))                                                                                      \
      throw ::eventhub::domain::json_assertion("rapidjson assertion: " #x);                        \
  } while (false)
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "domain/audit.hpp"
#include "domain/model.hpp"
#include "domain/tickets.hpp"
#include "domain/webhooks.hpp"

#include <string>

namespace eventhub::domain {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_json(json_writer& w, const participant& p);
void write_json(json_writer& w, const event& e);
void write_json(json_writer& w, const ticket_type_view& t);
void write_json(json_writer& w, const purchase& p);
void write_json(json_writer& w, const hold& h); // status as at now: EXPIRED from expiresAt on
void write_json(json_writer& w, const waitlist_entry& e); // status as at now, like holds'
void write_json(json_writer& w, const attendee& a);
void write_json(json_writer& w, const access_token& t); // the login answer
void write_json(json_writer& w, const health_report& r);
void write_json(json_writer& w, const ticket& t);
void write_json(json_writer& w, const std::vector<ticket>& tickets); // a JSON array
void write_json(json_writer& w, const checkin_key& k);
void write_json(json_writer& w, const checkin_stats& s);
void write_json(json_writer& w, const webhook_endpoint& e); // secret only when set
void write_json(json_writer& w, const delivery_attempt& a);
void write_json(json_writer& w, const audit_entry& e); // before/after as stored JSON
void write_time(json_writer& w, timestamp t);

/// A single check-in's answer: {ticket, checkedInAt, scanId}.
std::string checkin_json(const scan_outcome& o);
/// A batch's answer: {results: [{scanId, result, ticketId, checkedInAt}]} in request order.
std::string scan_results_json(const std::vector<scan_outcome>& outcomes);

/// `text` rewritten without insignificant whitespace (a webhook body as PostgreSQL's
/// json_build_object wrote it); the same input always gives the same bytes. Unparsable text is
/// returned as it is.
std::string compact_json(const std::string& text);

template <class T> void write_json(json_writer& w, const page<T>& p) {
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const auto& item : p.items)
    write_json(w, item);
  w.EndArray();
  w.Key("page");
  w.Int(p.number);
  w.Key("size");
  w.Int(p.size);
  w.Key("totalItems");
  w.Int64(p.total_items);
  w.Key("totalPages");
  w.Int64(p.total_pages());
  w.EndObject();
}

template <class T> std::string to_json(const T& value) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  write_json(w, value);
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace eventhub::domain
