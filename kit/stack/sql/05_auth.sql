-- Supabase Auth's tables (the columns GoTrue reads and writes, same names and types), so
-- auth.uid() / auth.jwt() / auth.role() work in policies and foreign keys and joins on
-- auth.users work as on Supabase. Idempotent: columns are added to an older auth.users.

-- Only when a column is missing (an older kit's minimal table): an existing Supabase auth.users
-- is left alone (and its owner need not be us).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'auth'
                 AND table_name = 'users' AND column_name = 'is_anonymous') THEN
    ALTER TABLE auth.users
      ADD COLUMN IF NOT EXISTS instance_id uuid,
      ADD COLUMN IF NOT EXISTS aud varchar(255),
      ADD COLUMN IF NOT EXISTS role varchar(255),
      ADD COLUMN IF NOT EXISTS encrypted_password varchar(255),
      ADD COLUMN IF NOT EXISTS email_confirmed_at timestamptz,
      ADD COLUMN IF NOT EXISTS invited_at timestamptz,
      ADD COLUMN IF NOT EXISTS confirmation_token varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS confirmation_sent_at timestamptz,
      ADD COLUMN IF NOT EXISTS recovery_token varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS recovery_sent_at timestamptz,
      ADD COLUMN IF NOT EXISTS email_change_token_new varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS email_change varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS email_change_sent_at timestamptz,
      ADD COLUMN IF NOT EXISTS last_sign_in_at timestamptz,
      ADD COLUMN IF NOT EXISTS raw_app_meta_data jsonb DEFAULT '{}'::jsonb,
      ADD COLUMN IF NOT EXISTS is_super_admin boolean,
      ADD COLUMN IF NOT EXISTS updated_at timestamptz DEFAULT now(),
      ADD COLUMN IF NOT EXISTS phone text DEFAULT NULL,
      ADD COLUMN IF NOT EXISTS phone_confirmed_at timestamptz,
      ADD COLUMN IF NOT EXISTS phone_change text DEFAULT '',
      ADD COLUMN IF NOT EXISTS phone_change_token varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS phone_change_sent_at timestamptz,
      ADD COLUMN IF NOT EXISTS confirmed_at timestamptz
        GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
      ADD COLUMN IF NOT EXISTS email_change_token_current varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS email_change_confirm_status smallint DEFAULT 0,
      ADD COLUMN IF NOT EXISTS banned_until timestamptz,
      ADD COLUMN IF NOT EXISTS reauthentication_token varchar(255) DEFAULT '',
      ADD COLUMN IF NOT EXISTS reauthentication_sent_at timestamptz,
      ADD COLUMN IF NOT EXISTS is_sso_user boolean NOT NULL DEFAULT false,
      ADD COLUMN IF NOT EXISTS deleted_at timestamptz,
      ADD COLUMN IF NOT EXISTS is_anonymous boolean NOT NULL DEFAULT false;

    ALTER TABLE auth.users ALTER COLUMN id SET DEFAULT gen_random_uuid();
    CREATE UNIQUE INDEX IF NOT EXISTS users_phone_key ON auth.users (phone);
    CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users (instance_id, lower(email));
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS auth.identities (
  provider_id text NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  identity_data jsonb NOT NULL,
  provider text NOT NULL,
  last_sign_in_at timestamptz,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities (user_id);

CREATE TABLE IF NOT EXISTS auth.sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  factor_id uuid,
  aal text DEFAULT 'aal1',
  not_after timestamptz,
  refreshed_at timestamp,
  user_agent text,
  ip inet,
  tag text
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
  instance_id uuid,
  id bigserial PRIMARY KEY,
  token varchar(255) UNIQUE,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  parent varchar(255),
  session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);
CREATE INDEX IF NOT EXISTS refresh_tokens_parent_idx ON auth.refresh_tokens (parent);

-- Supabase's helpers read the claims PostgREST sets; auth.email() too.
CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(auth.jwt() ->> 'email', '')
$$;
GRANT EXECUTE ON FUNCTION auth.email() TO anon, authenticated, service_role;

-- The authentication methods of each session (the access token's "amr" claim).
CREATE TABLE IF NOT EXISTS auth.mfa_amr_claims (
  session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  authentication_method text NOT NULL,
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method)
);

-- PKCE flows: a mailed link answers ?code=<auth_code>, exchanged with the code verifier.
CREATE TABLE IF NOT EXISTS auth.flow_state (
  id uuid PRIMARY KEY,
  user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  auth_code text NOT NULL,
  code_challenge_method text NOT NULL,
  code_challenge text NOT NULL,
  provider_type text NOT NULL,
  provider_access_token text,
  provider_refresh_token text,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  authentication_method text NOT NULL,
  auth_code_issued_at timestamptz
);
CREATE INDEX IF NOT EXISTS idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX IF NOT EXISTS idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
