// The operations the HTTP layer may ask of the core, one interface per resource.
// Implemented in actors/services/ (one service actor each); the HTTP layer sees only these,
// never CAF. Every reply is invoked exactly once, on a thread of the core: the HTTP layer's
// replies only move the result onto their connection's I/O thread (http/message.hpp, on_io).
#pragma once

#include "domain/audit.hpp"
#include "domain/commands.hpp"
#include "domain/model.hpp"
#include "domain/result.hpp"
#include "domain/tickets.hpp"
#include "domain/webhooks.hpp"

#include <optional>

namespace eventhub::domain {

class participant_service {
 public:
  virtual ~participant_service() = default;
  /// `by`: an ADMIN creating an account, or no actor (the new participant is then its actor).
  virtual void register_participant(new_participant p, origin by, reply<participant> done) = 0;
  virtual void login(login_request req, reply<access_token> done) = 0;
  virtual void find_participant(std::int64_t id, reply<participant> done) = 0;
  virtual void list_participants(page_request paging, reply<page<participant>> done) = 0;
};

class event_service {
 public:
  virtual ~event_service() = default;
  /// A page young enough to serve, from what the listing cache published: answered on the
  /// caller's thread without a message (the hot path of GET /api/events), else nullopt.
  virtual std::optional<rendered_page> fresh_listing(const event_query& query) = 0;
  /// Any page: from the listing cache, read from the database on a miss.
  virtual void list_events(event_query query, reply<rendered_page> done) = 0;
  virtual void find_event(std::int64_t id, reply<event> done) = 0;
  virtual void create_event(event_draft draft, origin by, reply<event> done) = 0;
  virtual void update_event(std::int64_t id, event_draft draft, origin by, reply<event> done) = 0;
  virtual void delete_event(std::int64_t id, origin by, reply<unit> done) = 0;
  virtual void list_attendees(std::int64_t event_id, page_request paging,
                              reply<page<attendee>> done) = 0;
  virtual void create_ticket_type(std::int64_t event_id, ticket_type_draft draft, origin by,
                                  reply<ticket_type_view> done) = 0;
  virtual void find_ticket_type(std::int64_t event_id, std::int64_t type_id,
                                reply<ticket_type_view> done) = 0;
  virtual void update_ticket_type(std::int64_t event_id, std::int64_t type_id,
                                  ticket_type_draft draft, origin by,
                                  reply<ticket_type_view> done) = 0;
  virtual void delete_ticket_type(std::int64_t event_id, std::int64_t type_id, origin by,
                                  reply<unit> done) = 0;
};

class purchase_service {
 public:
  virtual ~purchase_service() = default;
  virtual void purchase(purchase_request req, reply<purchase_outcome> done) = 0;
  /// Someone else's purchase answers not_found unless the caller is ADMIN.
  virtual void find_purchase(std::int64_t id, principal caller, reply<domain::purchase> done) = 0;
  virtual void list_purchases(std::int64_t participant_id, page_request paging,
                              reply<page<domain::purchase>> done) = 0;
  /// Cancels tickets of purchase req.purchase_id (req.quantity; 0: all left) for its owner or an
  /// ADMIN; someone else's purchase answers not_found.
  virtual void cancel_purchase(purchase_request req, principal caller,
                               reply<purchase_outcome> done) = 0;
};

class hold_service {
 public:
  virtual ~hold_service() = default;
  /// `req` names the event, buyer, quantity and type; its kind and lifetime are set here.
  virtual void create_hold(purchase_request req, reply<purchase_outcome> done) = 0;
  /// Confirm (kind confirm) or release (kind release) `req.hold_id` for `caller`: someone else's
  /// hold is not_found, except that an ADMIN may release any.
  virtual void settle_hold(purchase_request req, principal caller,
                           reply<purchase_outcome> done) = 0;
  /// Someone else's hold answers not_found unless the caller is ADMIN.
  virtual void find_hold(std::int64_t id, principal caller, reply<domain::hold> done) = 0;
  virtual void list_holds(std::int64_t participant_id, page_request paging,
                          reply<page<domain::hold>> done) = 0;
};

class waitlist_service {
 public:
  virtual ~waitlist_service() = default;
  /// `req` names the event, buyer, quantity and type; its kind is set here.
  virtual void join_waitlist(purchase_request req, reply<purchase_outcome> done) = 0;
  /// Leave entry `req.entry_id` for `caller`, its owner: anyone else's is not_found.
  virtual void leave_waitlist(purchase_request req, principal caller,
                              reply<purchase_outcome> done) = 0;
  /// Someone else's entry answers not_found unless the caller is ADMIN.
  virtual void find_entry(std::int64_t id, principal caller, reply<waitlist_entry> done) = 0;
  /// The participant's entries, newest first.
  virtual void list_entries_of(std::int64_t participant_id, page_request paging,
                               reply<page<waitlist_entry>> done) = 0;
  /// The event's entries in arrival order; not_found for an unknown event.
  virtual void list_event_entries(std::int64_t event_id, page_request paging,
                                  reply<page<waitlist_entry>> done) = 0;
};

class ticket_service {
 public:
  virtual ~ticket_service() = default;
  /// The tickets of a purchase, in id order, with their codes; someone else's purchase answers
  /// not_found unless the caller is ADMIN.
  virtual void purchase_tickets(std::int64_t purchase_id, principal caller,
                                reply<std::vector<ticket>> done) = 0;
  /// The participant's tickets, newest first, of one event or all.
  virtual void list_tickets(std::int64_t participant_id, std::optional<std::int64_t> event_id,
                            page_request paging, reply<page<ticket>> done) = 0;
  /// One ticket with its code; someone else's answers not_found unless the caller is ADMIN.
  virtual void find_ticket(std::int64_t id, principal caller, reply<ticket> done) = 0;
  /// The event's public key (made on first use); not_found for an unknown event.
  virtual void checkin_key(std::int64_t event_id, reply<domain::checkin_key> done) = 0;
  /// Decides and records `scans` of the event together, in request order (a single check-in is
  /// a list of one); not_found for an unknown event.
  virtual void check_in(std::int64_t event_id, std::vector<scan> scans, origin by,
                        reply<std::vector<scan_outcome>> done) = 0;
  virtual void checkin_stats(std::int64_t event_id, reply<domain::checkin_stats> done) = 0;
};

class webhook_service {
 public:
  virtual ~webhook_service() = default;
  /// unprocessable (naming url) for a target the SSRF guard refuses.
  virtual void create_webhook(webhook_draft draft, origin by, reply<webhook_endpoint> done) = 0;
  virtual void list_webhooks(page_request paging, reply<page<webhook_endpoint>> done) = 0;
  virtual void find_webhook(std::int64_t id, reply<webhook_endpoint> done) = 0;
  /// conflict for the configured endpoint (notify.webhook-url).
  virtual void delete_webhook(std::int64_t id, origin by, reply<unit> done) = 0;
  virtual void list_deliveries(std::int64_t id, page_request paging,
                               reply<page<delivery_attempt>> done) = 0;
};

class audit_service {
 public:
  virtual ~audit_service() = default;
  virtual void list_audit(audit_query query, reply<page<audit_entry>> done) = 0;
};

class operations_service {
 public:
  virtual ~operations_service() = default;
  /// The last report if younger than health.cache-ttl, on the caller's thread, else nullopt.
  virtual std::optional<health_report> fresh_health() = 0;
  virtual void health(reply<health_report> done) = 0;
};

/// Everything the HTTP layer needs, bundled for wiring.
struct services {
  participant_service& participants;
  event_service& events;
  purchase_service& purchases;
  hold_service& holds;
  waitlist_service& waitlist;
  ticket_service& tickets;
  webhook_service& webhooks;
  audit_service& audit;
  operations_service& operations;
};

} // namespace eventhub::domain
