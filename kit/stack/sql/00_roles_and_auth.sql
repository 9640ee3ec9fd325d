-- Roles, auth helpers and grants like a fresh Supabase project. Idempotent: the stack
-- runs every file in kit/stack/sql/ in name order at each start.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  -- The login role API requests connect as (kit/stack/roles.py sets its password and grants;
  -- an `authenticator` the kit did not create is left alone and `kit_authenticator` is used).
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
      NOBYPASSRLS;
    COMMENT ON ROLE authenticator IS 'kit: the login role API requests connect as';
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS kit_meta;

-- auth.users: the minimal shape migrations reference (foreign keys to auth.users(id)).
CREATE TABLE IF NOT EXISTS auth.users (
  id uuid PRIMARY KEY,
  email text UNIQUE,
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$$;

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(auth.jwt() ->> 'role', '')
$$;

GRANT USAGE ON SCHEMA public, auth, extensions TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION auth.jwt(), auth.uid(), auth.role() TO anon, authenticated, service_role;
GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;

-- The login role's password (superuser only), so every stack on one database shares it.
CREATE TABLE IF NOT EXISTS kit_meta.login_role (name text PRIMARY KEY, password text NOT NULL);
REVOKE ALL ON kit_meta.login_role FROM PUBLIC;

-- Raised by the first statement of a request on a connection whose session state an earlier
-- request changed (kit/stack/roles.py): the stack closes that connection and retries.
CREATE OR REPLACE FUNCTION kit_meta.session_changed() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'kit: the session state of this pooled connection was changed'
    USING ERRCODE = 'KT001';
END
$$;
GRANT EXECUTE ON FUNCTION kit_meta.session_changed() TO PUBLIC;

-- Migrations applied with `kit stack migrate`: a file whose checksum is recorded is skipped.
CREATE TABLE IF NOT EXISTS kit_meta.migrations (
  name text NOT NULL,
  sha256 text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Schema changes notify the gateway so its schema cache reloads (like PostgREST's pgrst channel).
CREATE OR REPLACE FUNCTION kit_meta.notify_schema_change() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kit_schema', 'reload');
END
$$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'kit_schema_watch') THEN
    CREATE EVENT TRIGGER kit_schema_watch ON ddl_command_end
      EXECUTE FUNCTION kit_meta.notify_schema_change();
  END IF;
END
$$;
