"""Signed-in users under Row Level Security: after ``sign_in_with_password`` the same supabase-py
client's REST and storage calls act as that user (sync and async), two users never see each
other's rows or objects, ``auth.users`` joins and foreign keys work, and the kit's capture of
the whole flow shows no password or token in any view or export.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from storage3.exceptions import StorageApiError
from supabase import AsyncClientOptions, acreate_client, create_client

import kit
from kit.targets import Target

PASSWORD = "rls-secret-pass-1"


async def settle(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@pytest.fixture(scope="module")
def notes(stack: Target, db_url: str) -> Iterator[dict[str, str]]:
    """A table of notes owned by auth.users, and a private bucket, both with "own rows only" policies."""
    import psycopg

    unique = uuid.uuid4().hex[:8]
    table, bucket = f"notes_{unique}", f"notes-{unique}"
    folder = f"bucket_id = '{bucket}' AND (storage.foldername(name))[1] = auth.uid()::text"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"""
            CREATE TABLE public.{table} (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              owner uuid NOT NULL DEFAULT auth.uid() REFERENCES auth.users (id) ON DELETE CASCADE,
              body text NOT NULL);
            ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own_rows ON public.{table} FOR ALL TO authenticated
              USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
            INSERT INTO storage.buckets (id, name, public) VALUES ('{bucket}', '{bucket}', false);
            CREATE POLICY "own folder {bucket}" ON storage.objects FOR ALL TO authenticated
              USING ({folder}) WITH CHECK ({folder});""")
    yield {"table": table, "bucket": bucket}
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f'DROP TABLE public.{table}; DROP POLICY "own folder {bucket}" ON storage.objects;'
                     f"DELETE FROM storage.objects WHERE bucket_id = '{bucket}';"
                     f"DELETE FROM storage.buckets WHERE id = '{bucket}'")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_two_signed_in_users_see_only_their_rows_and_objects(mode: str, stack: Target,
                                                                   notes: dict[str, str], sql) -> None:
    async def signed_in(name: str) -> tuple[Any, str]:
        if mode == "sync":
            client: Any = create_client(stack.url, stack.anon_key)
        else:
            client = await acreate_client(stack.url, stack.anon_key, AsyncClientOptions(auto_refresh_token=False))
        address = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        await settle(client.auth.sign_up({"email": address, "password": PASSWORD}))
        await settle(client.auth.sign_out())
        session = (await settle(client.auth.sign_in_with_password({"email": address, "password": PASSWORD}))).session
        return client, session.user.id

    (ada, ada_id), (bob, bob_id) = await signed_in("ada"), await signed_in("bob")
    table, bucket = notes["table"], notes["bucket"]
    for client, body in ((ada, "ada's note"), (bob, "bob's note")):
        await settle(client.table(table).insert({"body": body}).execute())
    ada_rows = (await settle(ada.table(table).select("owner,body").execute())).data
    bob_rows = (await settle(bob.table(table).select("owner,body").execute())).data
    assert ada_rows == [{"owner": ada_id, "body": "ada's note"}]
    assert bob_rows == [{"owner": bob_id, "body": "bob's note"}]
    spoof = await settle(ada.table(table).update({"body": "hacked"}).eq("owner", bob_id).execute())
    assert spoof.data == []  # RLS hides bob's row from ada's update
    anonymous = create_client(stack.url, stack.anon_key)
    assert anonymous.table(table).select("*").execute().data == []

    await settle(ada.storage.from_(bucket).upload(f"{ada_id}/diary.txt", b"ada only"))
    await settle(bob.storage.from_(bucket).upload(f"{bob_id}/diary.txt", b"bob only"))
    assert await settle(ada.storage.from_(bucket).download(f"{ada_id}/diary.txt")) == b"ada only"
    with pytest.raises(StorageApiError):
        await settle(ada.storage.from_(bucket).download(f"{bob_id}/diary.txt"))
    with pytest.raises(StorageApiError):
        await settle(bob.storage.from_(bucket).upload(f"{ada_id}/intruder.txt", b"no"))
    assert [o["name"] for o in await settle(bob.storage.from_(bucket).list(bob_id))] == ["diary.txt"]
    assert await settle(bob.storage.from_(bucket).list(ada_id)) == []

    joined = sql(f"SELECT u.email, n.body FROM public.{table} n JOIN auth.users u ON u.id = n.owner "
                 "WHERE n.owner IN (%s, %s) ORDER BY n.body", (ada_id, bob_id)).fetchall()
    assert [body for _, body in joined] == ["ada's note", "bob's note"] and joined[0][0].startswith("ada-")
    admin = create_client(stack.url, stack.service_role_key or "")
    admin.auth.admin.delete_user(bob_id)  # the foreign key cascades, as on Supabase
    assert sql(f"SELECT count(*) FROM public.{table} WHERE owner = %s", (bob_id,)).fetchone()[0] == 0


def test_capture_of_a_signed_in_session_masks_passwords_and_tokens(stack: Target, notes: dict[str, str]) -> None:
    c = kit.clients(stack, role="anon")
    address = f"cap-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = c.sync.auth.sign_up({"email": address, "password": PASSWORD})
    refreshed = c.sync.auth.refresh_session()
    c.sync.table(notes["table"]).insert({"body": "captured"}).execute()
    assert c.sync.table(notes["table"]).select("body").execute().data == [{"body": "captured"}]
    c.sync.auth.sign_out()
    admin = kit.clients(stack, capture=c.capture)  # the service key's admin calls, same capture
    link = admin.sync.auth.admin.generate_link({"type": "magiclink", "email": address})
    verified = c.sync.auth.verify_otp({"email": address, "token": link.properties.email_otp, "type": "email"})
    secrets = [PASSWORD, signed_up.session.access_token, signed_up.session.refresh_token,
               refreshed.session.access_token, refreshed.session.refresh_token,
               link.properties.hashed_token, verified.session.access_token, verified.session.refresh_token]
    assert {ex.service for ex in c.capture} >= {"auth", "rest"} and len(c.capture) >= 5

    views = [repr(c.capture), str(c.capture), c.capture.to_frame().to_string(),
             json.dumps(c.capture.to_har()), c.capture._repr_mimebundle_()["text/html"],
             c._repr_mimebundle_()["text/html"]]
    views += [repr(ex) for ex in c.capture] + [ex._repr_mimebundle_()["text/html"] for ex in c.capture]
    otp = re.compile(rf"(?<![0-9]){link.properties.email_otp}(?![0-9])")  # six digits, standing alone
    for view in views:
        for secret in secrets:
            assert secret not in view
        assert not otp.search(view)
    assert "[masked" in json.dumps(c.capture.to_har())
    c.close()
    admin.close()


def test_a_trigger_on_auth_users_runs_as_the_auth_login_as_on_supabase(stack: Target, sql) -> None:
    """Supabase's "profiles" pattern: without SECURITY DEFINER the trigger runs as Auth's own
    login, which may not write to public, so sign-up fails with GoTrue's 500; with it, it works."""
    from supabase_auth.errors import AuthApiError

    unique = uuid.uuid4().hex[:8]
    table, function, trigger = f"profiles_{unique}", f"handle_new_user_{unique}", f"on_auth_user_{unique}"
    sql(f"""CREATE TABLE public.{table} (id uuid PRIMARY KEY REFERENCES auth.users ON DELETE CASCADE,
                                        email text);
            CREATE FUNCTION public.{function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO public.{table} (id, email) VALUES (new.id, new.email); RETURN new; END $$;
            CREATE TRIGGER {trigger} AFTER INSERT ON auth.users FOR EACH ROW
              WHEN (new.email LIKE 'profile-{unique}%%') EXECUTE FUNCTION public.{function}();""")
    try:
        client = create_client(stack.url, stack.anon_key)
        with pytest.raises(AuthApiError) as failed:
            client.auth.sign_up({"email": f"profile-{unique}-a@example.com", "password": PASSWORD})
        assert (failed.value.status, failed.value.code, failed.value.message) == (
            500, "unexpected_failure", "Database error saving new user")
        sql(f"ALTER FUNCTION public.{function}() SECURITY DEFINER SET search_path = ''")
        made = client.auth.sign_up({"email": f"profile-{unique}-b@example.com", "password": PASSWORD})
        assert sql(f"SELECT email FROM public.{table} WHERE id = %s", (made.user.id,)).fetchone() == (
            f"profile-{unique}-b@example.com",)
    finally:
        sql(f"DROP TRIGGER {trigger} ON auth.users; DROP TABLE public.{table}; DROP FUNCTION public.{function}()")
