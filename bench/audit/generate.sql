-- Sep..Nov partitions (ensure_partitions only makes the current month onwards)
DO $$
DECLARE m date;
BEGIN
  FOREACH m IN ARRAY ARRAY['2026-09-01','2026-10-01','2026-11-01']::date[] LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
      'audit_log_' || to_char(m, 'YYYY_MM'), m::timestamp AT TIME ZONE 'UTC',
      (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I '
      'FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()', 'audit_log_' || to_char(m, 'YYYY_MM'));
  END LOOP;
END $$;

SELECT setseed(0.42);
-- participants 1..200000 buyers (skewed: buyer k has ~1/sqrt(k) of the activity),
-- 200001..200005 admins, 200006..200055 door staff; events 1..500.
INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, before, after, request_id, client_address)
SELECT
  timestamptz '2026-09-01 00:00+00'
    + (timestamptz '2026-12-06 12:00+00' - timestamptz '2026-09-01 00:00+00') * power(i / 3000000.0, 0.8),  -- traffic grows over time
  CASE WHEN a.action IN ('hold.expired','waitlist.offered','webhook.disabled','auth.login_failed','auth.throttled') THEN NULL
       WHEN a.action LIKE 'event.%' OR a.action LIKE 'ticket_type.%' OR a.action IN ('webhook.created','webhook.deleted') THEN 200001 + (r2 * 5)::int % 5
       WHEN a.action = 'ticket.checked_in' THEN 200006 + (r2 * 50)::int % 50
       WHEN a.action = 'participant.created' THEN NULL
       ELSE buyer END,
  a.action,
  CASE split_part(a.action, '.', 1) WHEN 'auth' THEN 'participant' WHEN 'waitlist' THEN 'waitlist_entry'
       ELSE split_part(a.action, '.', 1) END,
  CASE WHEN a.action LIKE 'event.%' THEN 1 + (r3 * 500)::int % 500
       WHEN a.action LIKE 'auth.%' THEN CASE WHEN r3 < 0.7 THEN buyer END
       WHEN a.action = 'purchase.cancelled' THEN (r3 * i)::bigint + 1
       WHEN a.action LIKE 'webhook.%' THEN 1 + (r3 * 20)::int
       ELSE i END,
  CASE WHEN a.action IN ('event.updated','ticket_type.updated','hold.released','hold.expired','purchase.cancelled','ticket.checked_in')
       THEN jsonb_build_object('id', i, 'eventId', 1 + (r3 * 500)::int % 500, 'ticketTypeId', (r3 * 2000)::int,
              'quantity', 1 + (r2 * 4)::int, 'unitPrice', to_char(r2 * 200, 'FM999.00'), 'currency', 'EUR',
              'status', 'VALID', 'reference', 'EH-' || left(md5(i::text), 12)) END,
  CASE WHEN a.action NOT LIKE 'auth.%' AND a.action NOT LIKE '%.deleted'
       THEN jsonb_build_object('id', i, 'eventId', 1 + (r3 * 500)::int % 500, 'ticketTypeId', (r3 * 2000)::int,
              'quantity', 1 + (r2 * 4)::int, 'unitPrice', to_char(r2 * 200, 'FM999.00'), 'currency', 'EUR',
              'status', upper(split_part(a.action, '.', 2)), 'reference', 'EH-' || left(md5(i::text), 12),
              'createdAt', to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
  md5(i::text || 'r'),
  '10.' || (r2 * 255)::int || '.' || (r3 * 255)::int || '.' || (i % 255)
FROM (SELECT i, random() AS r, random() AS r2, random() AS r3,
             1 + floor(199999 * power(random(), 2))::bigint AS buyer
      FROM generate_series(1, 3000000) AS i) g
CROSS JOIN LATERAL (SELECT CASE
    WHEN r < 0.52    THEN 'purchase.confirmed'
    WHEN r < 0.53    THEN 'purchase.cancelled'
    WHEN r < 0.68    THEN 'hold.created'
    WHEN r < 0.72    THEN 'hold.released'
    WHEN r < 0.76    THEN 'hold.expired'
    WHEN r < 0.94    THEN 'ticket.checked_in'
    WHEN r < 0.975   THEN 'auth.login_failed'
    WHEN r < 0.980   THEN 'waitlist.joined'
    WHEN r < 0.985   THEN 'waitlist.offered'
    WHEN r < 0.990   THEN 'waitlist.left'
    WHEN r < 0.998   THEN 'participant.created'
    WHEN r < 0.9988  THEN 'event.updated'
    WHEN r < 0.99905 THEN 'event.created'
    WHEN r < 0.9991  THEN 'event.deleted'
    WHEN r < 0.9993  THEN 'ticket_type.updated'
    WHEN r < 0.99932 THEN 'webhook.created'
    WHEN r < 0.99933 THEN 'webhook.deleted'
    WHEN r < 0.99934 THEN 'webhook.disabled'
    ELSE 'auth.throttled' END AS action) a
ORDER BY i;
VACUUM ANALYZE audit_log;
