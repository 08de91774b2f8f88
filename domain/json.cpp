// JSON shapes of the API resources (field names per shared/api.md).
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
  if (e.ends_at)
    write_time(w, *e.ends_at);
  else
    w.Null();
  w.Key("capacity");
  w.Int64(e.capacity);
  w.Key("ticketsSold");
  w.Int64(e.tickets_sold);
  w.Key("ticketsAvailable");
  w.Int64(e.tickets_available());
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
  w.Key("quantity");
  w.Int(p.quantity);
  w.Key("status");
  w.String("CONFIRMED");
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

} // namespace eventhub::domain
