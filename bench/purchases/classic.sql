-- pgbench: the classic per-request purchase, straight against the database (no service): lock
-- the event row, add to tickets_sold, record the purchase, commit. The database's own ceiling
-- for the lock-per-request design on one hot row.
\set participant random(1, :participants)
BEGIN;
SELECT capacity, tickets_sold FROM events WHERE id = :event FOR UPDATE;
UPDATE events SET tickets_sold = tickets_sold + 1 WHERE id = :event;
INSERT INTO purchases (event_id, participant_id, quantity) VALUES (:event, :participant, 1);
COMMIT;
