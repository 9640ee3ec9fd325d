-- seeds/001: chat memory tables, applied non-destructively (IF NOT EXISTS, no resets).
-- {t:name} becomes the (kit_-prefixed on user projects) table name; {f:name} a function name.
CREATE TABLE IF NOT EXISTS {t:conversations} (
  id text PRIMARY KEY,
  user_id uuid,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS {t:chat_metadata} (
  chat_id text PRIMARY KEY REFERENCES {t:conversations}(id),
  summary text,
  message_count int NOT NULL DEFAULT 0,
  version int NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS {t:chat_context_queue} (
  id bigserial PRIMARY KEY,
  chat_id text NOT NULL REFERENCES {t:conversations}(id),
  messages jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'done')),
  attempts int NOT NULL DEFAULT 0,
  times_processed int NOT NULL DEFAULT 0,
  claimed_by text,
  claimed_at timestamptz,
  processed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Claiming is safe with any number of workers: FOR UPDATE SKIP LOCKED hands each pending
-- item to exactly one of them; a claim whose worker vanished is taken again after the lease.
CREATE OR REPLACE FUNCTION public.{f:claim_context_items}(
  worker text, batch_size int DEFAULT 1, lease_seconds int DEFAULT 30, chat_prefix text DEFAULT ''
) RETURNS SETOF {t:chat_context_queue} LANGUAGE sql AS $$
  UPDATE {t:chat_context_queue} q
     SET status = 'claimed', claimed_by = worker, claimed_at = clock_timestamp(), attempts = q.attempts + 1
   WHERE q.id IN (
     SELECT id FROM {t:chat_context_queue}
      WHERE chat_id LIKE chat_prefix || '%'
        AND (status = 'pending'
             OR (status = 'claimed' AND claimed_at < clock_timestamp() - make_interval(secs => lease_seconds)))
      ORDER BY id
      FOR UPDATE SKIP LOCKED
      LIMIT batch_size)
  RETURNING q.*
$$;

-- Completing is idempotent: only the worker holding the claim can finish an item, once;
-- the summary and the item's status change in one transaction.
CREATE OR REPLACE FUNCTION public.{f:complete_context_item}(
  item_id bigint, worker text, new_summary text, added_messages int
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  finished {t:chat_context_queue};
BEGIN
  UPDATE {t:chat_context_queue}
     SET status = 'done', processed_at = clock_timestamp(), times_processed = times_processed + 1
   WHERE id = item_id AND status = 'claimed' AND claimed_by = worker
  RETURNING * INTO finished;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO {t:chat_metadata} AS m (chat_id, summary, message_count, version)
  VALUES (finished.chat_id, new_summary, added_messages, 1)
  ON CONFLICT (chat_id) DO UPDATE
     SET summary = excluded.summary, message_count = m.message_count + excluded.message_count,
         version = m.version + 1, updated_at = now();
  RETURN true;
END
$$;

-- Row Level Security as an app on Supabase has it: a signed-in user reaches their own
-- conversations, queues updates for them and reads their memory; the worker uses the
-- service key (which bypasses RLS). Policies are created once (no DROP on a user's project).
ALTER TABLE {t:conversations} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {t:chat_context_queue} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {t:chat_metadata} ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public'
                 AND tablename = '{n:conversations}' AND policyname = 'own conversations') THEN
    CREATE POLICY "own conversations" ON {t:conversations} FOR ALL TO authenticated
      USING (user_id = auth.uid()) WITH CHECK (user_id = auth.uid());
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public'
                 AND tablename = '{n:chat_context_queue}' AND policyname = 'queue own conversations') THEN
    CREATE POLICY "queue own conversations" ON {t:chat_context_queue} FOR ALL TO authenticated
      USING (EXISTS (SELECT 1 FROM {t:conversations} c WHERE c.id = chat_id AND c.user_id = auth.uid()))
      WITH CHECK (EXISTS (SELECT 1 FROM {t:conversations} c WHERE c.id = chat_id AND c.user_id = auth.uid()));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'public'
                 AND tablename = '{n:chat_metadata}' AND policyname = 'read own memory') THEN
    CREATE POLICY "read own memory" ON {t:chat_metadata} FOR SELECT TO authenticated
      USING (EXISTS (SELECT 1 FROM {t:conversations} c WHERE c.id = chat_id AND c.user_id = auth.uid()));
  END IF;
END
$$;

INSERT INTO {t:conversations} (id, user_id, metadata)
VALUES ('chat-1', '00000000-0000-4000-8000-000000000001', '{}'::jsonb)
ON CONFLICT (id) DO NOTHING;
