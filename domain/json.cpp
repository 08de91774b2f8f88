// Every JSON shape the service writes (field names per docs/api.md).
#include "domain/json.hpp"

namespace eventhub::domain {

void write_time(json_writer& w, timestamp t) {
  w.String(format_iso8601(t));
}

void write_json(json_writer& w, const participant& p) {
  w.StartObject();
  w.Key("id");
  w.Int64(p.id);
  w.Key("email");
  w.String(p.email);
  w.Key("fullName");
  w.String(p.full_name);
  w.Key("role");
  w.String(to_string(p.role));
  w.Key("createdAt");
  write_time(w, p.created_at);
  w.EndObject();
}

namespace {

void write_optional_time(json_writer& w, const std::optional<timestamp>& t) {
  if (t)
    write_time(w, *t);
  else
    w.Null();
}

void write_type(json_writer& w, const ticket_type& t, std::int64_t available) {
  w.StartObject();
  w.Key("id");
  w.Int64(t.id);
  w.Key("eventId");
  w.Int64(t.event_id);
  w.Key("name");
  w.String(t.name);
  w.Key("priceCents");
  w.Int64(t.price_cents);
  w.Key("currency");
  w.String(t.currency);
  w.Key("quota");
  w.Int64(t.quota);
  w.Key("ticketsSold");
  w.Int64(t.tickets_sold);
  w.Key("ticketsHeld");
  w.Int64(t.tickets_held);
  w.Key("ticketsAvailable");
  w.Int64(available);
  w.EndObject();
}

} // namespace

void write_json(json_writer& w, const ticket_type_view& t) {
  write_type(w, t.type, t.tickets_available);
}

void write_json(json_writer& w, const event& e) {
  w.StartObject();
  w.Key("id");
  w.Int64(e.id);
  w.Key("name");
  w.String(e.name);
  w.Key("description");
  if (e.description)
    w.String(*e.description);
  else
    w.Null();
  w.Key("venue");
  w.String(e.venue);
  w.Key("startsAt");
  write_time(w, e.starts_at);
  w.Key("endsAt");
  write_optional_time(w, e.ends_at);
  w.Key("capacity");
  w.Int64(e.capacity);
  w.Key("ticketsSold");
  w.Int64(e.tickets_sold);
  w.Key("ticketsHeld");
  w.Int64(e.tickets_held);
  w.Key("ticketsAvailable");
  w.Int64(e.tickets_available());
  w.Key("salesStartAt");
  write_optional_time(w, e.sales_start_at);
  w.Key("maxPerBuyer");
  if (e.max_per_buyer)
    w.Int64(*e.max_per_buyer);
  else
    w.Null();
  w.Key("admissionQueue");
  w.Bool(e.admission_queue);
  w.Key("ticketTypes");
  w.StartArray();
  for (const auto& t : e.ticket_types)
    write_type(w, t, e.tickets_available(t));
  w.EndArray();
  w.Key("createdAt");
  write_time(w, e.created_at);
  w.Key("updatedAt");
  write_time(w, e.updated_at);
  w.EndObject();
}

void write_json(json_writer& w, const purchase& p) {
  w.StartObject();
  w.Key("id");
  w.Int64(p.id);
  w.Key("eventId");
  w.Int64(p.event_id);
  w.Key("participantId");
  w.Int64(p.participant_id);
  w.Key("ticketTypeId");
  w.Int64(p.ticket_type_id);
  w.Key("quantity");
  w.Int(p.quantity);
  w.Key("unitPriceCents");
  w.Int64(p.unit_price_cents);
  w.Key("currency");
  w.String(p.currency);
  w.Key("totalCents");
  w.Int64(p.total_cents());
  w.Key("cancelledQuantity");
  w.Int(p.cancelled_quantity);
  w.Key("refundedCents");
  w.Int64(p.refunded_cents);
  w.Key("status");
  w.String(p.cancelled_quantity >= p.quantity ? "CANCELLED" : "CONFIRMED");
  w.Key("purchasedAt");
  write_time(w, p.purchased_at);
  w.EndObject();
}

void write_json(json_writer& w, const attendee& a) {
  w.StartObject();
  w.Key("participant");
  write_json(w, a.who);
  w.Key("ticketsPurchased");
  w.Int64(a.tickets_purchased);
  w.EndObject();
}

void write_json(json_writer& w, const access_token& t) {
  w.StartObject();
  w.Key("accessToken");
  w.String(t.token);
  w.Key("tokenType");
  w.String("Bearer");
  w.Key("expiresIn");
  w.Int64(t.expires_in);
  w.Key("role");
  w.String(to_string(t.role));
  w.EndObject();
}

namespace {

const char* up_or_down(bool up) {
  return up ? "UP" : "DOWN";
}

void write_db_health(json_writer& w, const health_report& r) {
  w.StartObject();
  w.Key("status");
  w.String(up_or_down(r.db_up));
  w.Key("details");
  w.StartObject();
  w.Key("database");
  w.String("PostgreSQL");
  w.EndObject();
  w.EndObject();
}

void write_cluster_health(json_writer& w, const health_report& r) {
  w.StartObject();
  w.Key("status");
  w.String("UP");
  w.Key("details");
  w.StartObject();
  w.Key("enabled");
  w.Bool(r.cluster_enabled);
  w.Key("members");
  w.StartArray();
  for (const auto& m : r.members) {
    w.StartObject();
    w.Key("node");
    w.String(m.node);
    w.Key("status");
    w.String(m.status);
    w.Key("self");
    w.Bool(m.self);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
}

} // namespace

void write_json(json_writer& w, const health_report& r) {
  w.StartObject();
  w.Key("status");
  w.String(up_or_down(r.db_up));
  w.Key("components");
  w.StartObject();
  w.Key("db");
  write_db_health(w, r);
  w.Key("cluster");
  write_cluster_health(w, r);
  w.EndObject();
  w.EndObject();
}

std::string compact_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError())
    return text;
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  doc.Accept(w);
  return {buffer.GetString(), buffer.GetSize()};
}

void write_json(json_writer& w, const webhook_endpoint& e) {
  w.StartObject();
  w.Key("id");
  w.Int64(e.id);
  w.Key("url");
  w.String(e.url);
  w.Key("eventTypes");
  w.StartArray();
  for (const auto& t : e.event_types)
    w.String(t);
  w.EndArray();
  w.Key("enabled");
  w.Bool(e.enabled);
  w.Key("createdAt");
  write_time(w, e.created_at);
  if (e.secret) {
    w.Key("secret");
    w.String(*e.secret);
  }
  w.EndObject();
}

void write_json(json_writer& w, const delivery_attempt& a) {
  w.StartObject();
  w.Key("webhookId");
  w.Int64(a.webhook_id);
  w.Key("messageId");
  w.String(a.message_id);
  w.Key("type");
  w.String(a.type);
  w.Key("attempt");
  w.Int(a.attempt);
  w.Key("outcome");
  w.String(a.outcome);
  w.Key("responseStatus");
  if (a.response_status)
    w.Int(*a.response_status);
  else
    w.Null();
  w.Key("durationMs");
  w.Int64(a.duration_ms);
  w.Key("attemptedAt");
  write_time(w, a.attempted_at);
  w.EndObject();
}

namespace {

template <class T, class Write>
void write_optional(json_writer& w, const std::optional<T>& v, Write write) {
  if (v)
    write(*v);
  else
    w.Null();
}

} // namespace

void write_json(json_writer& w, const audit_entry& e) {
  const auto raw = [&w](const std::string& json) {
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  };
  const auto text = [&w](const std::string& s) { w.String(s); };
  const auto id = [&w](std::int64_t v) { w.Int64(v); };
  w.StartObject();
  w.Key("id");
  w.Int64(e.id);
  w.Key("at");
  write_time(w, e.at);
  w.Key("actorId");
  write_optional(w, e.actor_id, id);
  w.Key("action");
  w.String(e.action);
  w.Key("entityType");
  w.String(e.entity_type);
  w.Key("entityId");
  write_optional(w, e.entity_id, id);
  w.Key("before");
  write_optional(w, e.before, raw);
  w.Key("after");
  write_optional(w, e.after, raw);
  w.Key("requestId");
  write_optional(w, e.request_id, text);
  w.Key("clientAddress");
  write_optional(w, e.client_address, text);
  w.EndObject();
}

void write_json(json_writer& w, const hold& h) {
  w.StartObject();
  w.Key("id");
  w.Int64(h.id);
  w.Key("eventId");
  w.Int64(h.event_id);
  w.Key("ticketTypeId");
  w.Int64(h.ticket_type_id);
  w.Key("participantId");
  w.Int64(h.participant_id);
  w.Key("quantity");
  w.Int(h.quantity);
  w.Key("status");
  w.String(to_string(h.status_at(now())));
  w.Key("expiresAt");
  write_time(w, h.expires_at);
  w.Key("createdAt");
  write_time(w, h.created_at);
  w.Key("purchaseId");
  if (h.purchase_id)
    w.Int64(*h.purchase_id);
  else
    w.Null();
  w.EndObject();
}

void write_json(json_writer& w, const waitlist_entry& e) {
  w.StartObject();
  w.Key("id");
  w.Int64(e.id);
  w.Key("eventId");
  w.Int64(e.event_id);
  w.Key("ticketTypeId");
  w.Int64(e.ticket_type_id);
  w.Key("participantId");
  w.Int64(e.participant_id);
  w.Key("quantity");
  w.Int(e.quantity);
  w.Key("status");
  w.String(to_string(e.status_at(now())));
  w.Key("position");
  if (e.position)
    w.Int64(*e.position);
  else
    w.Null();
  w.Key("holdId");
  if (e.hold_id)
    w.Int64(*e.hold_id);
  else
    w.Null();
  w.Key("createdAt");
  write_time(w, e.created_at);
  w.EndObject();
}

void write_json(json_writer& w, const ticket& t) {
  w.StartObject();
  w.Key("id");
  w.Int64(t.id);
  w.Key("purchaseId");
  w.Int64(t.purchase_id);
  w.Key("eventId");
  w.Int64(t.event_id);
  w.Key("ticketTypeId");
  w.Int64(t.ticket_type_id);
  w.Key("participantId");
  w.Int64(t.participant_id);
  w.Key("code");
  w.String(t.code);
  w.Key("status");
  w.String(to_string(t.status));
  w.Key("checkedInAt");
  write_optional_time(w, t.checked_in_at);
  w.EndObject();
}

void write_json(json_writer& w, const std::vector<ticket>& tickets) {
  w.StartArray();
  for (const auto& t : tickets)
    write_json(w, t);
  w.EndArray();
}

void write_json(json_writer& w, const checkin_key& k) {
  w.StartObject();
  w.Key("algorithm");
  w.String("Ed25519");
  w.Key("publicKey");
  w.String(k.public_key);
  w.EndObject();
}

void write_json(json_writer& w, const checkin_stats& s) {
  w.StartObject();
  w.Key("ticketsValid");
  w.Int64(s.valid);
  w.Key("ticketsCheckedIn");
  w.Int64(s.checked_in);
  w.Key("ticketsCancelled");
  w.Int64(s.cancelled);
  w.EndObject();
}

std::string checkin_json(const scan_outcome& o) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  w.StartObject();
  w.Key("ticket");
  if (o.target)
    write_json(w, *o.target);
  else
    w.Null();
  w.Key("checkedInAt");
  write_optional_time(w, o.checked_in_at);
  w.Key("scanId");
  if (o.scan_id)
    w.String(*o.scan_id);
  else
    w.Null();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string scan_results_json(const std::vector<scan_outcome>& outcomes) {
  rapidjson::StringBuffer buffer;
  json_writer w(buffer);
  w.StartObject();
  w.Key("results");
  w.StartArray();
  for (const auto& o : outcomes) {
    w.StartObject();
    w.Key("scanId");
    if (o.scan_id)
      w.String(*o.scan_id);
    else
      w.Null();
    w.Key("result");
    w.String(to_string(o.result));
    w.Key("ticketId");
    if (o.target)
      w.Int64(o.target->id);
    else
      w.Null();
    w.Key("checkedInAt");
    write_optional_time(w, o.checked_in_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace eventhub::domain
