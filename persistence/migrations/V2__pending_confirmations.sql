-- The outbox keeps only confirmations not yet delivered; delivering one deletes its row.
--
-- V1 kept every confirmation and marked it delivered by setting delivered_at. Under purchase
-- load that update was the database's second-largest cost: it could not be HOT (the pending
-- index's predicate names delivered_at), so each one wrote a new row version and three index
-- entries, all vacuumed later (docs/benchmarks.md). A delete writes no row version and no index
-- entry, and the table stays as small as the backlog of undelivered confirmations. The lasting
-- record of a purchase is its row in purchases; the delivered event is the log line (and the
-- webhook receiver's copy).
--
-- One row per purchase, keyed by it: a second key, its sequence and the foreign key to purchases
-- bought nothing. The row is written by the statement that writes its purchase, and a purchase
-- is never deleted (purchases restrict the deletion of their event, and no route deletes one).
CREATE TABLE pending_confirmations (
    purchase_id     bigint       PRIMARY KEY,
    event_id        bigint       NOT NULL,
    participant_id  bigint       NOT NULL,
    quantity        integer      NOT NULL,
    request_id      varchar(128) NOT NULL DEFAULT '',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    attempts        integer      NOT NULL DEFAULT 0,
    next_attempt_at timestamptz  NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    last_error      varchar(500)
);

-- The sweeper takes due rows oldest first; with a large backlog (webhook down for hours) it
-- reads only the rows it claims.
CREATE INDEX pending_confirmations_due_idx ON pending_confirmations (next_attempt_at);

INSERT INTO pending_confirmations (purchase_id, event_id, participant_id, quantity, request_id,
                                   created_at, attempts, next_attempt_at, claimed_until, last_error)
SELECT purchase_id, event_id, participant_id, quantity, request_id, created_at, attempts,
       next_attempt_at, claimed_until, last_error
FROM purchase_confirmations
WHERE delivered_at IS NULL;

DROP TABLE purchase_confirmations;
