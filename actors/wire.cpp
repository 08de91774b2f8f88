// Conversions between domain values and their wire forms.
#include "actors/wire.hpp"

namespace eventhub::actors {

namespace {

wire_hold hold_to_wire(const domain::hold& h) {
  return {h.id,
          h.event_id,
          h.ticket_type_id,
          h.participant_id,
          h.quantity,
          h.unit_price_cents,
          h.currency,
          static_cast<std::int32_t>(h.status),
          domain::to_micros(h.created_at),
          domain::to_micros(h.expires_at),
          h.purchase_id.value_or(0)};
}

domain::hold hold_from_wire(const wire_hold& w) {
  domain::hold h;
  h.id = w.id;
  h.event_id = w.event_id;
  h.ticket_type_id = w.ticket_type_id;
  h.participant_id = w.participant_id;
  h.quantity = w.quantity;
  h.unit_price_cents = w.unit_price_cents;
  h.currency = w.currency;
  h.status = static_cast<domain::hold_status>(w.status);
  h.created_at = domain::from_micros(w.created_at_us);
  h.expires_at = domain::from_micros(w.expires_at_us);
  if (w.purchase_id > 0)
    h.purchase_id = w.purchase_id;
  return h;
}

wire_entry entry_to_wire(const domain::waitlist_entry& e) {
  wire_entry w;
  w.id = e.id;
  w.event_id = e.event_id;
  w.ticket_type_id = e.ticket_type_id;
  w.participant_id = e.participant_id;
  w.quantity = e.quantity;
  w.status = static_cast<std::int32_t>(e.status);
  w.position = e.position.value_or(0);
  w.hold_id = e.hold_id.value_or(0);
  w.offer_expires = e.offer_expires_at.has_value();
  if (e.offer_expires_at)
    w.offer_expires_at_us = domain::to_micros(*e.offer_expires_at);
  w.created_at_us = domain::to_micros(e.created_at);
  return w;
}

domain::waitlist_entry entry_from_wire(const wire_entry& w) {
  domain::waitlist_entry e;
  e.id = w.id;
  e.event_id = w.event_id;
  e.ticket_type_id = w.ticket_type_id;
  e.participant_id = w.participant_id;
  e.quantity = w.quantity;
  e.status = static_cast<domain::waitlist_status>(w.status);
  if (w.position > 0)
    e.position = w.position;
  if (w.hold_id > 0)
    e.hold_id = w.hold_id;
  if (w.offer_expires)
    e.offer_expires_at = domain::from_micros(w.offer_expires_at_us);
  e.created_at = domain::from_micros(w.created_at_us);
  return e;
}

} // namespace

wire_purchase to_wire(const domain::purchase_request& r, bool internal_key) {
  return {r.event_id,
          r.participant_id,
          r.quantity,
          r.idempotency_key.value_or(""),
          internal_key,
          r.request_id,
          r.ticket_type_id.value_or(0),
          static_cast<std::int32_t>(r.kind),
          r.hold_id,
          static_cast<std::int64_t>(r.hold_ttl.count()),
          r.purchase_id,
          static_cast<std::int64_t>(r.cancel_cutoff.count()),
          r.entry_id,
          r.actor_id,
          r.client_address};
}

domain::purchase_request from_wire(const wire_purchase& w) {
  domain::purchase_request r{w.event_id, w.participant_id, w.quantity, std::nullopt, w.request_id};
  if (!w.idempotency_key.empty())
    r.idempotency_key = w.idempotency_key;
  if (w.ticket_type_id > 0)
    r.ticket_type_id = w.ticket_type_id;
  r.kind = static_cast<domain::order_kind>(w.kind);
  r.hold_id = w.hold_id;
  r.hold_ttl = std::chrono::milliseconds{w.hold_ttl_ms};
  r.purchase_id = w.purchase_id;
  r.cancel_cutoff = std::chrono::milliseconds{w.cancel_cutoff_ms};
  r.entry_id = w.entry_id;
  r.actor_id = w.actor_id;
  r.client_address = w.client_address;
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
    w.cancelled_quantity = p.cancelled_quantity;
    w.refunded_cents = p.refunded_cents;
    if (r->hold)
      w.hold.push_back(hold_to_wire(*r->hold));
    if (r->entry)
      w.entry.push_back(entry_to_wire(*r->entry));
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
    p.cancelled_quantity = w.cancelled_quantity;
    p.refunded_cents = w.refunded_cents;
    domain::purchase_outcome out;
    out.purchase = std::move(p);
    out.replayed = w.replayed;
    if (!w.hold.empty())
      out.hold = hold_from_wire(w.hold.front());
    if (!w.entry.empty())
      out.entry = entry_from_wire(w.entry.front());
    return out;
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
