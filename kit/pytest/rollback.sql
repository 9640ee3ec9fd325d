-- kit.pytest rollback: an undo log of row writes, replayed backwards after each test.
-- Installed by the first session of a run (superuser), removed by the last one
-- (rollback_removal.sql); idempotent. Every object is named kit_pytest*.
CREATE SCHEMA IF NOT EXISTS kit_pytest;
REVOKE ALL ON SCHEMA kit_pytest FROM PUBLIC;

CREATE TABLE IF NOT EXISTS kit_pytest.undo (
    id bigserial PRIMARY KEY,
    tag text,                       -- the test that wrote (JWT claim kit_test), NULL if unknown
    tbl regclass NOT NULL,
    op text NOT NULL,               -- INSERT, UPDATE, DELETE
    old_row jsonb,
    new_row jsonb
);

-- One row while a test runs whose untagged writes are to be undone too (the embedded stack,
-- one test at a time); empty otherwise.
CREATE TABLE IF NOT EXISTS kit_pytest.armed (since timestamptz NOT NULL DEFAULT now());

-- Runs as its owner so every API role (anon, authenticated, service_role) can log its writes.
-- Only a kit test's writes are logged: tagged by the kit_test claim of the request's JWT (kit
-- clients, kit_db's session setting) or by PostgREST's request.headers x-kit-test, or any
-- write while kit_pytest.armed has its row. Every other client's write is not copied.
CREATE OR REPLACE FUNCTION kit_pytest.log_write() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    tag text := coalesce(
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'kit_test',
        nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-kit-test');
BEGIN
    IF tag IS NULL AND NOT EXISTS (SELECT FROM kit_pytest.armed) THEN
        RETURN NULL;
    END IF;
    INSERT INTO kit_pytest.undo (tag, tbl, op, old_row, new_row)
    VALUES (tag, TG_RELID::regclass, TG_OP,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END $$;

-- Attach the logging trigger to every table of the given schemas that lacks it.
CREATE OR REPLACE FUNCTION kit_pytest.watch(schemas text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    n integer := 0;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND s.nspname = ANY (schemas)
          AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                          WHERE g.tgrelid = c.oid AND g.tgname = 'kit_pytest_undo')
    LOOP
        EXECUTE format('CREATE TRIGGER kit_pytest_undo AFTER INSERT OR UPDATE OR DELETE ON %s '
                       'FOR EACH ROW EXECUTE FUNCTION kit_pytest.log_write()', t);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- Before a test: watch new tables (one worker at a time); with_untagged: forget untagged
-- entries (not this test's) and log untagged writes until kit_pytest.undo.
CREATE OR REPLACE FUNCTION kit_pytest.begin(schemas text[], with_untagged boolean)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7171717);
    n := kit_pytest.watch(schemas);
    IF with_untagged THEN
        DELETE FROM kit_pytest.undo WHERE tag IS NULL;
        INSERT INTO kit_pytest.armed DEFAULT VALUES;
    END IF;
    RETURN n;
END $$;

-- Undo a test's writes, newest first; returns how many rows were put back.
-- Writes are matched by the whole row (to_jsonb), so tables need no primary key.
-- session_replication_role = replica: the undo fires no triggers and checks no foreign keys
-- (rows come back in reverse order, so the data is consistent again at the end).
CREATE OR REPLACE FUNCTION kit_pytest.undo(want_tag text, with_untagged boolean) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    n integer := 0;
    cols text;
    settable text;
BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    FOR u IN SELECT * FROM kit_pytest.undo
             WHERE tag = want_tag OR (with_untagged AND tag IS NULL) ORDER BY id DESC
    LOOP
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
               string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                   FILTER (WHERE attidentity <> 'a')
          INTO cols, settable
          FROM pg_attribute
         WHERE attrelid = u.tbl AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
        IF u.op = 'INSERT' THEN
            EXECUTE format('DELETE FROM %1$s WHERE ctid = (SELECT ctid FROM %1$s k '
                           'WHERE to_jsonb(k) = $1 LIMIT 1)', u.tbl) USING u.new_row;
        ELSIF u.op = 'DELETE' THEN
            EXECUTE format('INSERT INTO %1$s (%2$s) OVERRIDING SYSTEM VALUE SELECT %2$s '
                           'FROM jsonb_populate_record(NULL::%1$s, $1)', u.tbl, cols) USING u.old_row;
        ELSIF settable IS NOT NULL THEN
            EXECUTE format('UPDATE %1$s SET (%2$s) = (SELECT %2$s FROM jsonb_populate_record('
                           'NULL::%1$s, $1)) WHERE ctid = (SELECT ctid FROM %1$s k '
                           'WHERE to_jsonb(k) = $2 LIMIT 1)', u.tbl, settable)
                USING u.old_row, u.new_row;
        END IF;
        n := n + 1;
    END LOOP;
    DELETE FROM kit_pytest.undo WHERE tag = want_tag OR (with_untagged AND tag IS NULL);
    IF with_untagged THEN
        DELETE FROM kit_pytest.armed;
    END IF;
    RETURN n;
END $$;
