-- kit.pytest rollback, removed: the kit_pytest_undo triggers (only those calling a kit_pytest
-- function) and the kit_pytest schema with its functions and log. Nothing else is touched.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT g.tgname, g.tgrelid::regclass AS tbl
               FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid
               JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'kit_pytest' AND NOT g.tgisinternal
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.tbl);
    END LOOP;
END $$;
DROP SCHEMA IF EXISTS kit_pytest CASCADE;
