-- seeds/000: chats and LLM usage logging, applied non-destructively.
CREATE TABLE IF NOT EXISTS {t:chats} (
  id text PRIMARY KEY,
  user_id uuid NOT NULL,
  title text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS {t:llm_usage} (
  id bigserial PRIMARY KEY,
  chat_id text NOT NULL REFERENCES {t:chats}(id),
  user_id uuid,
  agent text NOT NULL,
  model text NOT NULL,
  prompt_tokens int NOT NULL,
  completion_tokens int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO {t:chats} (id, user_id, title)
VALUES ('chat-1', '00000000-0000-4000-8000-000000000001', 'Starting dashboard conversation...')
ON CONFLICT (id) DO NOTHING;
