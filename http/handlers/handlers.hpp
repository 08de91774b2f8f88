// Handler factories, one file per resource under http/handlers/. Each handler: parse and
// validate, one service call, map the result. Wired to paths and roles in http/routes.cpp.
#pragma once

#include "domain/services.hpp"
#include "http/router.hpp"
#include "http/swagger_ui.hpp"

#include <functional>
#include <memory>
#include <string>

namespace eventhub::http {

struct handler_context {
  domain::services services;
  int max_per_order = 10;
  std::shared_ptr<const swagger_ui_files> swagger_ui; // null: /swagger-ui/ answers 404
  std::string default_currency = "EUR";               // event.default-currency
};

namespace handlers {

// auth_handlers.cpp
handler_fn register_participant(const handler_context& ctx);
handler_fn login(const handler_context& ctx);
handler_fn me(const handler_context& ctx);

// participant_handlers.cpp
handler_fn list_participants(const handler_context& ctx);
handler_fn get_participant(const handler_context& ctx);
handler_fn create_participant(const handler_context& ctx);

// event_handlers.cpp
handler_fn list_events(const handler_context& ctx);
handler_fn get_event(const handler_context& ctx);
handler_fn create_event(const handler_context& ctx);
handler_fn update_event(const handler_context& ctx);
handler_fn delete_event(const handler_context& ctx);
handler_fn list_attendees(const handler_context& ctx);

// ticket_type_handlers.cpp
handler_fn create_ticket_type(const handler_context& ctx);
handler_fn get_ticket_type(const handler_context& ctx);
handler_fn update_ticket_type(const handler_context& ctx);
handler_fn delete_ticket_type(const handler_context& ctx);

// purchase_handlers.cpp
handler_fn purchase(const handler_context& ctx);
handler_fn get_purchase(const handler_context& ctx);
handler_fn cancel_purchase(const handler_context& ctx);
handler_fn my_purchases(const handler_context& ctx);

// hold_handlers.cpp
handler_fn create_hold(const handler_context& ctx);
handler_fn confirm_hold(const handler_context& ctx);
handler_fn release_hold(const handler_context& ctx);
handler_fn get_hold(const handler_context& ctx);
handler_fn my_holds(const handler_context& ctx);

// waitlist_handlers.cpp
handler_fn join_waitlist(const handler_context& ctx);
handler_fn leave_waitlist(const handler_context& ctx);
handler_fn get_waitlist_entry(const handler_context& ctx);
handler_fn my_waitlist(const handler_context& ctx);
handler_fn event_waitlist(const handler_context& ctx);

// ticket_handlers.cpp
handler_fn purchase_tickets(const handler_context& ctx);
handler_fn my_tickets(const handler_context& ctx);
handler_fn ticket_qr(const handler_context& ctx);
handler_fn checkin_key(const handler_context& ctx);
handler_fn check_in(const handler_context& ctx);
handler_fn check_in_batch(const handler_context& ctx);
handler_fn checkin_stats(const handler_context& ctx);

// audit_handlers.cpp
handler_fn list_audit(const handler_context& ctx);

// webhook_handlers.cpp
handler_fn create_webhook(const handler_context& ctx);
handler_fn list_webhooks(const handler_context& ctx);
handler_fn get_webhook(const handler_context& ctx);
handler_fn delete_webhook(const handler_context& ctx);
handler_fn webhook_deliveries(const handler_context& ctx);

// ops_handlers.cpp
handler_fn health(const handler_context& ctx);
handler_fn prometheus(const handler_context& ctx);

// docs_handlers.cpp
handler_fn api_docs(std::shared_ptr<const std::string> document);
handler_fn swagger_ui_redirect();
handler_fn swagger_ui_file(const handler_context& ctx);

} // namespace handlers
} // namespace eventhub::http
