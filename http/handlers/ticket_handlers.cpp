// Tickets and check-in: GET /api/purchases/{id}/tickets and GET /api/tickets/{id}/qr.svg (owner or
// ADMIN), GET /api/me/tickets (USER), and for STAFF or ADMIN GET /api/events/{id}/checkin-key,
// POST /api/events/{id}/checkins[/batch] and GET /api/events/{id}/checkins/stats.
#include "http/decoders.hpp"
#include "http/handlers/handlers.hpp"
#include "http/handlers/support.hpp"
#include "http/qr_svg.hpp"

namespace eventhub::http::handlers {
namespace {

/// The ?eventId filter of GET /api/me/tickets, with the paging; answers 400 itself.
struct ticket_query {
  domain::page_request paging;
  std::optional<std::int64_t> event_id;
};

std::optional<ticket_query> read_ticket_query(const call& c) {
  const auto query = parse_query(c.req->query);
  std::vector<domain::field_error> errors;
  ticket_query out;
  out.paging = read_paging(query, errors);
  if (const auto* raw = query.get("eventId")) {
    out.event_id = parse_id(*raw);
    if (!out.event_id)
      errors.push_back({"eventId", "must be a positive integer"});
  }
  if (!errors.empty()) {
    c.fail(invalid_parameters(std::move(errors)));
    return std::nullopt;
  }
  return out;
}

/// A single check-in's answer: 201, 200 for a remembered scanId, else the scan's problem.
void answer_check_in(const call& c, const domain::scan_outcome& o) {
  using domain::scan_result;
  switch (o.result) {
  case scan_result::checked_in:
    return c.respond(json_response(201, domain::checkin_json(o)));
  case scan_result::replayed:
    return c.respond(json_response(200, domain::checkin_json(o)));
  case scan_result::already_checked_in: {
    auto e = domain::make_error(domain::error_code::already_checked_in,
                                "This ticket was checked in before.");
    if (o.checked_in_at)
      e.checked_in_at = domain::format_iso8601(*o.checked_in_at);
    return c.fail(e);
  }
  case scan_result::ticket_cancelled:
    return c.fail(
        domain::make_error(domain::error_code::ticket_cancelled, "This ticket was cancelled."));
  case scan_result::unknown_ticket:
    break;
  }
  c.fail(domain::make_error(domain::error_code::unknown_ticket,
                            "This code is not a genuine ticket of this event."));
}

/// The event of the path and the scans `read` takes from the JSON body; answers 400 itself.
struct event_scans {
  std::int64_t event_id;
  std::vector<domain::scan> scans;
};

template <class Read> std::optional<event_scans> read_event_scans(const call& c, Read read) {
  auto id = path_id(c, 0, "id");
  if (!id)
    return std::nullopt;
  auto v = json_body(c);
  if (!v)
    return std::nullopt;
  auto scans = read(*v);
  if (!scans) {
    c.fail(v->error());
    return std::nullopt;
  }
  return event_scans{*id, std::move(*scans)};
}

} // namespace

handler_fn purchase_tickets(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.tickets.purchase_tickets(*id, *c.caller,
                                          answer_json<std::vector<domain::ticket>>(c));
  };
}

handler_fn my_tickets(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto q = read_ticket_query(c);
    if (!q)
      return;
    ctx.services.tickets.list_tickets(c.caller->id, q->event_id, q->paging,
                                      answer_json<domain::page<domain::ticket>>(c));
  };
}

handler_fn ticket_qr(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.tickets.find_ticket(
        *id, *c.caller, on_io<domain::ticket>(c, [c](domain::result<domain::ticket> r) {
          if (!r.ok())
            return c.fail(r.err());
          auto svg = qr_svg(r->code);
          if (!svg)
            return c.fail(domain::make_error(domain::error_code::internal, "No QR code."));
          response out;
          out.content_type = "image/svg+xml";
          out.body = std::move(*svg);
          c.respond(std::move(out));
        }));
  };
}

handler_fn checkin_key(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.tickets.checkin_key(*id, answer_json<domain::checkin_key>(c));
  };
}

handler_fn check_in(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto in = read_event_scans(c, [](validator& v) {
      auto scan = read_scan(v);
      return scan ? std::optional<std::vector<domain::scan>>(std::vector{std::move(*scan)})
                  : std::nullopt;
    });
    if (!in)
      return;
    ctx.services.tickets.check_in(in->event_id, std::move(in->scans), origin_of(c),
                                  on_io<std::vector<domain::scan_outcome>>(
                                      c, [c](domain::result<std::vector<domain::scan_outcome>> r) {
                                        if (!r.ok())
                                          return c.fail(r.err());
                                        answer_check_in(c, r->front());
                                      }));
  };
}

handler_fn check_in_batch(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto in = read_event_scans(c, [](validator& v) { return read_scan_batch(v); });
    if (!in)
      return;
    ctx.services.tickets.check_in(
        in->event_id, std::move(in->scans), origin_of(c),
        answer<std::vector<domain::scan_outcome>>(c, [](const auto& outcomes) {
          return json_response(200, domain::scan_results_json(outcomes));
        }));
  };
}

handler_fn checkin_stats(const handler_context& ctx) {
  return [&ctx](const call& c) {
    auto id = path_id(c, 0, "id");
    if (!id)
      return;
    ctx.services.tickets.checkin_stats(*id, answer_json<domain::checkin_stats>(c));
  };
}

} // namespace eventhub::http::handlers
