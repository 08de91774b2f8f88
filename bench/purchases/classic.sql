-- pgbench: the classic per-request purchase, straight against the database (no service): lock
-- the event row, read its ticket type, add to the event's and the type's tickets_sold, record the
-- purchase at the type's price, commit. The database's own ceiling
-- for the lock-per-request design on one hot row.
\set participant random(1, :participants)
BEGIN;
SELECT capacity, tickets_sold FROM events WHERE id = :event FOR UPDATE;
SELECT quota, tickets_sold, price_cents, currency FROM ticket_types WHERE id = :type;
UPDATE events SET tickets_sold = tickets_sold + 1 WHERE id = :event;
UPDATE ticket_types SET tickets_sold = tickets_sold + 1 WHERE id = :type;
INSERT INTO purchases (event_id, participant_id, quantity, ticket_type_id, unit_price_cents,
                       currency, total_cents)
VALUES (:event, :participant, 1, :type, 0, 'EUR', 0);
COMMIT;
