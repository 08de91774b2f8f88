// Every route of docs/api.md with the role it requires. 404, 405 + Allow, 401 and 403 are
// derived from this table by the router; the OpenAPI document is built from it (openapi.cpp).
#include "http/routes.hpp"

#include "http/embedded_docs.hpp"
#include "http/openapi.hpp"

namespace eventhub::http {

std::vector<route> make_routes(const handler_context& ctx) {
  namespace h = handlers;
  using a = access;
  auto api_docs = std::make_shared<std::string>(); // filled below, before anyone can ask
  std::vector<route> routes = {
      {"POST", "/api/auth/register", a::anyone, h::register_participant(ctx),
       "Register a USER account"},
      {"POST", "/api/auth/login", a::anyone, h::login(ctx), "Log in and get a bearer token"},
      {"GET", "/api/me", a::signed_in, h::me(ctx), "The signed-in participant"},
      {"GET", "/api/me/purchases", a::user, h::my_purchases(ctx),
       "The caller's purchases, newest first"},
      {"GET", "/api/me/holds", a::user, h::my_holds(ctx), "The caller's holds, newest first"},
      {"GET", "/api/me/waitlist", a::user, h::my_waitlist(ctx),
       "The caller's waitlist entries, newest first"},
      {"GET", "/api/me/tickets", a::user, h::my_tickets(ctx), "The caller's tickets, newest first"},

      {"GET", "/api/events", a::anyone, h::list_events(ctx), "List events (cached, with ETag)"},
      {"POST", "/api/events", a::admin, h::create_event(ctx), "Create an event"},
      {"GET", "/api/events/{id}", a::anyone, h::get_event(ctx), "One event, never stale"},
      {"PUT", "/api/events/{id}", a::admin, h::update_event(ctx), "Update an event"},
      {"DELETE", "/api/events/{id}", a::admin, h::delete_event(ctx),
       "Delete an event without sales"},
      {"GET", "/api/events/{id}/participants", a::admin, h::list_attendees(ctx),
       "Participants of an event with their ticket counts"},
      {"POST", "/api/events/{id}/purchases", a::user, h::purchase(ctx), "Buy tickets"},
      {"POST", "/api/events/{id}/holds", a::user, h::create_hold(ctx), "Hold tickets while paying"},
      {"POST", "/api/events/{id}/waitlist", a::user, h::join_waitlist(ctx),
       "Wait for tickets of a sold-out type"},
      {"GET", "/api/events/{id}/waitlist", a::admin, h::event_waitlist(ctx),
       "An event's waitlist entries in arrival order"},
      {"GET", "/api/events/{id}/checkin-key", a::staff_or_admin, h::checkin_key(ctx),
       "The event's public key: verify ticket codes offline"},
      {"POST", "/api/events/{id}/checkins", a::staff_or_admin, h::check_in(ctx),
       "Check a ticket in at the door"},
      {"POST", "/api/events/{id}/checkins/batch", a::staff_or_admin, h::check_in_batch(ctx),
       "Upload scans a device made offline"},
      {"GET", "/api/events/{id}/checkins/stats", a::staff_or_admin, h::checkin_stats(ctx),
       "How many tickets are valid, checked in and cancelled"},
      {"POST", "/api/events/{id}/ticket-types", a::admin, h::create_ticket_type(ctx),
       "Add a ticket type to an event"},
      {"GET", "/api/events/{id}/ticket-types/{typeId}", a::anyone, h::get_ticket_type(ctx),
       "One ticket type with its availability"},
      {"PUT", "/api/events/{id}/ticket-types/{typeId}", a::admin, h::update_ticket_type(ctx),
       "Update a ticket type"},
      {"DELETE", "/api/events/{id}/ticket-types/{typeId}", a::admin, h::delete_ticket_type(ctx),
       "Delete a ticket type without sales"},

      {"GET", "/api/purchases/{id}", a::user_or_admin, h::get_purchase(ctx),
       "One purchase (owner or ADMIN)"},
      {"POST", "/api/purchases/{id}/cancel", a::user_or_admin, h::cancel_purchase(ctx),
       "Cancel tickets of a purchase: they are free at once"},
      {"GET", "/api/purchases/{id}/tickets", a::user_or_admin, h::purchase_tickets(ctx),
       "The tickets of a purchase (owner or ADMIN)"},
      {"GET", "/api/tickets/{id}/qr.svg", a::user_or_admin, h::ticket_qr(ctx),
       "A ticket's code as a QR image (owner or ADMIN)"},

      {"GET", "/api/holds/{id}", a::user_or_admin, h::get_hold(ctx), "One hold (owner or ADMIN)"},
      {"DELETE", "/api/holds/{id}", a::user_or_admin, h::release_hold(ctx),
       "Release a hold: its tickets are free at once"},
      {"POST", "/api/holds/{id}/confirm", a::user, h::confirm_hold(ctx),
       "Confirm a hold into a purchase"},

      {"GET", "/api/waitlist/{id}", a::user_or_admin, h::get_waitlist_entry(ctx),
       "One waitlist entry (owner or ADMIN)"},
      {"DELETE", "/api/waitlist/{id}", a::user, h::leave_waitlist(ctx),
       "Leave the waitlist (an offer's tickets go on to the next entries)"},

      {"GET", "/api/participants", a::admin, h::list_participants(ctx), "List participants"},
      {"POST", "/api/participants", a::admin, h::create_participant(ctx),
       "Create a participant (any role)"},
      {"GET", "/api/participants/{id}", a::admin, h::get_participant(ctx), "One participant"},

      {"POST", "/api/webhooks", a::admin, h::create_webhook(ctx),
       "Register a webhook endpoint (its signing secret is shown in this answer only)"},
      {"GET", "/api/webhooks", a::admin, h::list_webhooks(ctx), "List webhook endpoints"},
      {"GET", "/api/webhooks/{id}", a::admin, h::get_webhook(ctx), "One webhook endpoint"},
      {"DELETE", "/api/webhooks/{id}", a::admin, h::delete_webhook(ctx),
       "Delete a webhook endpoint and its undelivered messages"},
      {"GET", "/api/webhooks/{id}/deliveries", a::admin, h::webhook_deliveries(ctx),
       "A webhook endpoint's delivery attempts, newest first"},

      {"GET", "/api/audit", a::admin, h::list_audit(ctx),
       "The audit log: who changed what, newest first"},

      {"GET", "/actuator/health", a::anyone, h::health(ctx), "Health of the node and its database"},
      {"GET", "/actuator/prometheus", a::anyone, h::prometheus(ctx),
       "Metrics in Prometheus text format"},

      {"GET", "/v3/api-docs", a::anyone, h::api_docs(api_docs), "This OpenAPI document"},
      {"GET", "/swagger-ui", a::anyone, h::swagger_ui_redirect(), "Redirect to Swagger UI"},
      {"GET", "/swagger-ui/", a::anyone, h::swagger_ui_file(ctx), "Swagger UI"},
      {"GET", "/swagger-ui/{file}", a::anyone, h::swagger_ui_file(ctx), "A file of Swagger UI"},
  };
  // Throws when a route is undocumented or an operation has no route: the service won't start.
  *api_docs = openapi_document(routes, embedded_openapi_json(), {ctx.max_per_order});
  return routes;
}

} // namespace eventhub::http
