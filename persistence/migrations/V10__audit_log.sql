-- The audit log (docs/architecture.md, "Audit log"): who did what, written by the statement or
-- transaction that makes the change, so no change commits without its entry and no entry without
-- its change.
--
-- Append-only: row triggers refuse UPDATE and DELETE (and a statement trigger TRUNCATE) on every
-- partition. Retention works on whole months: the table is range-partitioned by month on `at`,
-- and audit_drop_months_before() detaches and drops the partitions that lie wholly before a
-- cutoff. Dropping a month is one catalog change, however many rows it holds; deleting rows one
-- by one would write a dead version of each and leave the table to vacuum.

CREATE TABLE audit_log (
    id             bigserial   NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id       bigint,      -- the participant who acted; NULL: the service itself
    action         varchar(40) NOT NULL,
    entity_type    varchar(20) NOT NULL,
    entity_id      bigint,
    before         jsonb,
    after          jsonb,
    request_id     varchar(200),
    client_address varchar(100),
    PRIMARY KEY (at, id),
    CONSTRAINT audit_log_action_known CHECK (action IN ('event.created', 'event.updated',
        'event.deleted', 'ticket_type.created', 'ticket_type.updated', 'ticket_type.deleted',
        'participant.created', 'purchase.confirmed', 'purchase.cancelled', 'hold.created',
        'hold.released', 'hold.expired', 'waitlist.joined', 'waitlist.offered', 'waitlist.left',
        'ticket.checked_in', 'webhook.created', 'webhook.deleted', 'webhook.disabled',
        'auth.login_failed', 'auth.throttled')),
    CONSTRAINT audit_log_entity_known CHECK (entity_type IN ('event', 'ticket_type',
        'participant', 'purchase', 'hold', 'waitlist_entry', 'ticket', 'webhook'))
) PARTITION BY RANGE (at);

-- Every filter of GET /api/audit reads newest first from one of these, stopping at the page's
-- end: (at, id) backwards for no filter or a time range, the others for their column. Each is
-- partitioned with the table, so a time range also skips whole months.
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_action ON audit_log (action, at, id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Row triggers on a partitioned table are cloned onto each partition, present and future.
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Rows outside every month made so far (a clock far off) land here rather than failing the
-- change they describe.
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Makes the partitions of the current month and the `ahead` months after it that do not exist
-- yet (the service calls it at start and every hour). A month whose rows already went to the
-- default partition is left there: PostgreSQL would refuse the new partition.
CREATE FUNCTION audit_ensure_partitions(ahead int) RETURNS int
    LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    month date;
    name text;
    made int := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_ensure_partitions'));
    FOR i IN 0..ahead LOOP
        month := (first + make_interval(months => i))::date;
        name := 'audit_log_' || to_char(month, 'YYYY_MM');
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        CONTINUE WHEN EXISTS (SELECT 1 FROM audit_log_default
            WHERE at >= (month::timestamp AT TIME ZONE 'UTC')
              AND at < ((month + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
            name, month::timestamp AT TIME ZONE 'UTC',
            (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()', name);
        made := made + 1;
    END LOOP;
    RETURN made;
END;
$$;

-- Retention: detaches and drops every monthly partition that ends at or before `cutoff`, and
-- returns their names. Whole months only: a month that is partly newer than the cutoff stays.
CREATE FUNCTION audit_drop_months_before(cutoff timestamptz) RETURNS SETOF text
    LANGUAGE plpgsql AS $$
DECLARE
    part record;
BEGIN
    FOR part IN
        SELECT c.relname AS name
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_log'::regclass AND c.relname ~ '^audit_log_\d{4}_\d{2}$'
          AND (to_date(substr(c.relname, 11), 'YYYY_MM') + interval '1 month')::timestamp
              AT TIME ZONE 'UTC' <= cutoff
        ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE audit_log DETACH PARTITION %I', part.name);
        EXECUTE format('DROP TABLE %I', part.name);
        RETURN NEXT part.name;
    END LOOP;
END;
$$;

-- The JSON of a hold and of a waitlist entry as the API shows them (domain/json.cpp), for the
-- entries the service writes in SQL: the expiry step (hold.expired) and the offer step
-- (waitlist.offered).
CREATE FUNCTION audit_hold_json(id bigint, event_id bigint, ticket_type_id bigint,
                                participant_id bigint, quantity int, status text,
                                created_at timestamptz, expires_at timestamptz) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', id, 'eventId', event_id, 'ticketTypeId', ticket_type_id,
        'participantId', participant_id, 'quantity', quantity, 'status', status,
        'expiresAt', webhook_time(expires_at), 'createdAt', webhook_time(created_at),
        'purchaseId', NULL)
$$;

CREATE FUNCTION audit_entry_json(id bigint, event_id bigint, ticket_type_id bigint,
                                 participant_id bigint, quantity int, status text,
                                 hold_id bigint, created_at timestamptz) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', id, 'eventId', event_id, 'ticketTypeId', ticket_type_id,
        'participantId', participant_id, 'quantity', quantity, 'status', status,
        'position', NULL, 'holdId', hold_id, 'createdAt', webhook_time(created_at))
$$;

SELECT audit_ensure_partitions(3);
