CREATE TABLE IF NOT EXISTS public.ads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title text NOT NULL
);
GRANT ALL ON public.ads TO anon, authenticated, service_role;
INSERT INTO storage.buckets (id, name, public) VALUES ('ad-images', 'ad-images', false)
ON CONFLICT (id) DO NOTHING;
