// SQL of the ticket types concern. Every statement here runs after lock_event
// (event_queries.hpp) in the same transaction: the event's row lock orders them with sales.
#pragma once

#include "persistence/statement.hpp"

namespace eventhub::persistence::sql {

// $1 event, $2 name, $3 price, $4 currency, $5 quota, $6 whether the quota follows the capacity
inline constexpr statement insert_ticket_type{
    "insert_ticket_type", "INSERT INTO ticket_types (event_id, name, price_cents, currency, quota, "
                          "quota_follows_capacity) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"};

// The types of event $1, by id: id, sold, whether it ever had a purchase, held (after the due
// holds expired), whether it ever had a hold, whether it has waitlist entries.
inline constexpr statement ticket_types_of{
    "ticket_types_of",
    "SELECT t.id, t.tickets_sold, EXISTS (SELECT 1 FROM purchases p WHERE p.ticket_type_id = "
    "t.id), "
    "t.tickets_held, EXISTS (SELECT 1 FROM holds h WHERE h.ticket_type_id = t.id), "
    "EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.ticket_type_id = t.id) "
    "FROM ticket_types t WHERE t.event_id = $1 ORDER BY t.id"};

// An edited type no longer follows the capacity. Fails with ticket_types_not_oversold when the
// quota drops below the type's sold tickets.
inline constexpr statement update_ticket_type{
    "update_ticket_type",
    "UPDATE ticket_types SET name = $3, price_cents = $4, currency = $5, quota = $6, "
    "quota_follows_capacity = false WHERE id = $2 AND event_id = $1"};

// The implicit type's quota follows its event's capacity ($2).
inline constexpr statement follow_capacity{
    "follow_capacity",
    "UPDATE ticket_types SET quota = $2 WHERE event_id = $1 AND quota_follows_capacity"};

inline constexpr statement delete_ticket_type{
    "delete_ticket_type", "DELETE FROM ticket_types WHERE id = $2 AND event_id = $1"};

} // namespace eventhub::persistence::sql
