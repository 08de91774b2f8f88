// Conversions between domain values and their wire forms.
#include "actors/wire.hpp"

namespace eventhub::actors {

wire_purchase to_wire(const domain::purchase_request& r, bool internal_key) {
  return {r.event_id,
          r.participant_id,
          r.quantity,
          r.idempotency_key.value_or(""),
          internal_key,
          r.request_id,
          r.ticket_type_id.value_or(0)};
}

domain::purchase_request from_wire(const wire_purchase& w) {
  domain::purchase_request r{w.event_id, w.participant_id, w.quantity, std::nullopt, w.request_id};
  if (!w.idempotency_key.empty())
    r.idempotency_key = w.idempotency_key;
  if (w.ticket_type_id > 0)
    r.ticket_type_id = w.ticket_type_id;
  return r;
}

wire_purchase_result to_wire(const domain::result<domain::purchase_outcome>& r) {
  wire_purchase_result w;
  w.ok = r.ok();
  if (r.ok()) {
    const auto& p = r->purchase;
    w.replayed = r->replayed;
    w.purchase_id = p.id;
    w.event_id = p.event_id;
    w.participant_id = p.participant_id;
    w.quantity = p.quantity;
    w.purchased_at_us = domain::to_micros(p.purchased_at);
    w.ticket_type_id = p.ticket_type_id;
    w.unit_price_cents = p.unit_price_cents;
    w.currency = p.currency;
    return w;
  }
  const auto& e = r.err();
  w.error_code = static_cast<std::int32_t>(e.code);
  w.detail = e.detail;
  w.tickets_available = e.tickets_available.value_or(-1);
  w.retry_after = e.retry_after_seconds.value_or(-1);
  w.tickets_allowed = e.tickets_allowed.value_or(-1);
  for (const auto& f : e.field_errors) {
    w.error_fields.push_back(f.field);
    w.error_messages.push_back(f.message);
  }
  return w;
}

domain::result<domain::purchase_outcome> from_wire(const wire_purchase_result& w) {
  if (w.ok) {
    domain::purchase p{w.purchase_id, w.event_id, w.participant_id, w.quantity,
                       domain::from_micros(w.purchased_at_us)};
    p.ticket_type_id = w.ticket_type_id;
    p.unit_price_cents = w.unit_price_cents;
    p.currency = w.currency;
    return domain::purchase_outcome{std::move(p), w.replayed};
  }
  auto e = domain::make_error(static_cast<domain::error_code>(w.error_code), w.detail);
  if (w.tickets_available >= 0)
    e.tickets_available = w.tickets_available;
  if (w.retry_after >= 0)
    e.retry_after_seconds = w.retry_after;
  if (w.tickets_allowed >= 0)
    e.tickets_allowed = w.tickets_allowed;
  for (std::size_t i = 0; i < w.error_fields.size() && i < w.error_messages.size(); ++i)
    e.field_errors.push_back({w.error_fields[i], w.error_messages[i]});
  return e;
}

} // namespace eventhub::actors
