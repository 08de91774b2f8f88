-- A purchase's references to its event and participant are checked once per statement instead of
-- once per row.
--
-- PostgreSQL 15 checks a foreign key with one query per inserted row. A purchase batch inserts
-- all its purchases (about 30 under load) in one statement, and those per-row checks of two
-- foreign keys were the largest single cost of the batch (docs/benchmarks.md). The triggers below
-- enforce the same two rules with the same locks, once per statement:
--
-- * every purchase references an existing event and participant, and those rows are locked
--   FOR KEY SHARE until commit, as a foreign-key check does: a concurrent delete of one waits for
--   this transaction and then sees its purchases;
-- * an event or participant with purchases cannot be deleted or have its id changed (RESTRICT).
--
-- Violations raise foreign_key_violation (23503) under the old constraints' names, so callers
-- see no difference.

ALTER TABLE purchases
    DROP CONSTRAINT purchases_event_id_fkey,
    DROP CONSTRAINT purchases_participant_id_fkey;

CREATE FUNCTION purchases_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    events_missing boolean;
    participants_missing boolean;
BEGIN
    WITH wanted AS (SELECT DISTINCT event_id FROM new_purchases),
         locked AS (SELECT e.id FROM events e JOIN wanted w ON e.id = w.event_id
                    FOR KEY SHARE OF e)
    SELECT (SELECT count(*) FROM locked) <> (SELECT count(*) FROM wanted) INTO events_missing;
    IF events_missing THEN
        RAISE EXCEPTION 'insert or update on table "purchases" violates foreign key constraint "purchases_event_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'purchases_event_id_fkey';
    END IF;

    WITH wanted AS (SELECT DISTINCT participant_id FROM new_purchases),
         locked AS (SELECT p.id FROM participants p JOIN wanted w ON p.id = w.participant_id
                    FOR KEY SHARE OF p)
    SELECT (SELECT count(*) FROM locked) <> (SELECT count(*) FROM wanted)
    INTO participants_missing;
    IF participants_missing THEN
        RAISE EXCEPTION 'insert or update on table "purchases" violates foreign key constraint "purchases_participant_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'purchases_participant_id_fkey';
    END IF;
    RETURN NULL;
END
$$;

-- A trigger with a transition table has one event; inserts and updates get one each.
CREATE TRIGGER purchases_references_on_insert
    AFTER INSERT ON purchases REFERENCING NEW TABLE AS new_purchases
    FOR EACH STATEMENT EXECUTE FUNCTION purchases_check_references();

CREATE TRIGGER purchases_references_on_update
    AFTER UPDATE ON purchases REFERENCING NEW TABLE AS new_purchases
    FOR EACH STATEMENT EXECUTE FUNCTION purchases_check_references();

-- RESTRICT. The row is locked before a BEFORE trigger runs, so a purchase committed by a
-- transaction this delete waited for is visible to the check.
CREATE FUNCTION restrict_referenced_by_purchases() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'events' THEN
        referenced := EXISTS (SELECT 1 FROM purchases WHERE event_id = OLD.id);
    ELSE
        referenced := EXISTS (SELECT 1 FROM purchases WHERE participant_id = OLD.id);
    END IF;
    IF referenced THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "purchases_%_id_fkey" on table "purchases"',
            TG_TABLE_NAME, CASE TG_TABLE_NAME WHEN 'events' THEN 'event' ELSE 'participant' END
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE TRIGGER events_restrict_purchases
    BEFORE DELETE OR UPDATE OF id ON events
    FOR EACH ROW EXECUTE FUNCTION restrict_referenced_by_purchases();

CREATE TRIGGER participants_restrict_purchases
    BEFORE DELETE OR UPDATE OF id ON participants
    FOR EACH ROW EXECUTE FUNCTION restrict_referenced_by_purchases();
