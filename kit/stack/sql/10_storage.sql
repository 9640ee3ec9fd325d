-- Supabase Storage's schema: buckets, objects, helper functions, grants and RLS, shaped like a
-- fresh Supabase project. Idempotent: the stack runs every file in kit/stack/sql/ at each start.
--
-- A storage schema the kit did not make (KIT_DATABASE_URL pointing at a database where a real
-- Storage service runs: it has storage.migrations) is left exactly as it is.
--
-- As on Supabase, RLS is on for both tables and no policy grants anon or authenticated users
-- anything: service_role (BYPASSRLS) manages buckets and objects, public buckets are read
-- through /object/public/ (the service reads them as service_role), and projects add their own
-- policies, e.g. a user's own folder:
--   CREATE POLICY "own folder" ON storage.objects FOR ALL TO authenticated
--     USING (bucket_id = 'docs' AND (storage.foldername(name))[1] = auth.uid()::text)
--     WITH CHECK (bucket_id = 'docs' AND (storage.foldername(name))[1] = auth.uid()::text);

DO $kit$
BEGIN
  IF to_regclass('storage.migrations') IS NOT NULL THEN
    RAISE NOTICE 'storage schema belongs to a Supabase Storage service: left unchanged';
    RETURN;
  END IF;
  CREATE SCHEMA IF NOT EXISTS storage;
  EXECUTE $ddl$

CREATE TABLE IF NOT EXISTS storage.buckets (
  id text PRIMARY KEY,
  name text NOT NULL,
  owner uuid,
  owner_id text,
  public boolean NOT NULL DEFAULT false,
  file_size_limit bigint,
  allowed_mime_types text[],
  type text NOT NULL DEFAULT 'STANDARD',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets (name);

CREATE TABLE IF NOT EXISTS storage.objects (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bucket_id text REFERENCES storage.buckets (id),
  name text,
  owner uuid,
  owner_id text,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  last_accessed_at timestamptz DEFAULT now(),
  metadata jsonb,
  user_metadata jsonb,
  version text,
  path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects (name text_pattern_ops);

CREATE OR REPLACE FUNCTION storage.update_updated_at_column() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END
$fn$;

DO $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'update_objects_updated_at'
                 AND tgrelid = 'storage.objects'::regclass) THEN
    CREATE TRIGGER update_objects_updated_at BEFORE UPDATE ON storage.objects
      FOR EACH ROW EXECUTE FUNCTION storage.update_updated_at_column();
  END IF;
END
$fn$;

-- Path helpers for policies, as Supabase has them: 'a/b/c.png' → {a,b} · 'c.png' · 'png'.
CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT (string_to_array(name, '/'))[1:coalesce(array_length(string_to_array(name, '/'), 1), 1) - 1]
$fn$;

CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT (string_to_array(name, '/'))[array_length(string_to_array(name, '/'), 1)]
$fn$;

CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
  SELECT CASE WHEN storage.filename(name) LIKE '%.%'
              THEN reverse(split_part(reverse(storage.filename(name)), '.', 1))
              ELSE '' END
$fn$;

-- One level of a bucket, folders first (id null), as the service's list endpoint answers.
-- Runs as the caller (not SECURITY DEFINER), so RLS decides what is listed.
CREATE OR REPLACE FUNCTION storage.search(prefix text, bucketname text, limits int DEFAULT 100,
    levels int DEFAULT 1, offsets int DEFAULT 0, search text DEFAULT '',
    sortcolumn text DEFAULT 'name', sortorder text DEFAULT 'asc')
RETURNS TABLE (name text, id uuid, updated_at timestamptz, created_at timestamptz,
               last_accessed_at timestamptz, metadata jsonb)
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  v_column text := CASE WHEN sortcolumn IN ('updated_at', 'created_at', 'last_accessed_at')
                        THEN 'level.' || sortcolumn ELSE 'entry COLLATE "C"' END;
  v_order text := CASE WHEN lower(sortorder) = 'desc' THEN 'desc' ELSE 'asc' END;
  v_pattern text := replace(replace(replace(prefix || search, '\', '\\'), '%', '\%'), '_', '\_') || '%';
BEGIN
  RETURN QUERY EXECUTE format(
    'WITH level AS (
       SELECT o.path_tokens[$1] AS entry, o.id, o.updated_at, o.created_at, o.last_accessed_at,
              o.metadata, array_length(o.path_tokens, 1) = $1 AS is_file
       FROM storage.objects o
       WHERE o.bucket_id = $2 AND o.name ILIKE $3 AND array_length(o.path_tokens, 1) >= $1
     ), folders AS (
       SELECT DISTINCT entry FROM level WHERE NOT is_file
     )
     (SELECT entry, NULL::uuid, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
             NULL::jsonb FROM folders ORDER BY entry COLLATE "C" %2$s)
     UNION ALL
     (SELECT entry, level.id, level.updated_at, level.created_at, level.last_accessed_at,
             level.metadata FROM level WHERE is_file ORDER BY %1$s %2$s, entry COLLATE "C" %2$s)
     LIMIT $4 OFFSET $5', v_column, v_order)
  USING levels, bucketname, v_pattern, limits, offsets;
END
$fn$;

ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION storage.foldername(text), storage.filename(text), storage.extension(text),
  storage.search(text, text, int, int, int, text, text, text)
  TO anon, authenticated, service_role;
  $ddl$;
END
$kit$;

-- The kit's own helper, in the kit's own schema: the upload limits of a bucket, whatever the
-- caller may see, so an upload needs one transaction as the caller before its bytes are read
-- (the real service reads them as its superuser too).
CREATE OR REPLACE FUNCTION kit_meta.storage_bucket_limits(bucket text)
RETURNS TABLE (file_size_limit bigint, allowed_mime_types text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $$
  SELECT b.file_size_limit, b.allowed_mime_types FROM storage.buckets b WHERE b.id = bucket
$$;
REVOKE ALL ON FUNCTION kit_meta.storage_bucket_limits(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA kit_meta TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION kit_meta.storage_bucket_limits(text) TO anon, authenticated, service_role;
