-- Retention (docs/operations.md, "Retention"): the retention actor deletes, in batches, the rows
-- nothing needs any more (persistence/queries/retention_queries.hpp). Each of its deletes picks
-- its oldest rows by one of these indexes, so a batch reads only the rows it deletes, however
-- large the table, and a round that finds nothing old reads one index page per table.
--
-- What they cost the writers: login_failures' index changes only when a run of failures starts
-- (first_failed_at), so counting a failure stays a HOT update; idempotency keys and attempts are
-- inserted in time order (appends to the right-most page); a hold's row gets its entry when it
-- is released or expires, an update that was never HOT (V5's partial indexes name status).
--
-- Existing data: nothing is deleted here; the first round after the upgrade does it, in batches.
-- CREATE INDEX (not CONCURRENTLY: migrations run in one transaction) blocks writes to each table
-- while its index is built; on a large database, upgrade off-peak.

-- Runs of failures that began before the cutoff (rows inside the throttle window are never
-- among them: the cutoff is at least login.failure-window).
CREATE INDEX login_failures_first_failed_idx ON login_failures (first_failed_at);

-- Purchase keys by age; also serves the registry's hourly forget_internal_keys.
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Finished holds by the time they left HELD. CONFIRMED ones are not in it: their purchase names
-- them (purchases.hold_id, holds_restrict_purchases) and a confirm replay reads them, forever.
CREATE INDEX holds_finished_idx ON holds (settled_at) WHERE status IN ('RELEASED', 'EXPIRED');

-- The delivery log by age, across endpoints (its other index is per endpoint).
CREATE INDEX webhook_attempts_attempted_idx ON webhook_attempts (attempted_at);
