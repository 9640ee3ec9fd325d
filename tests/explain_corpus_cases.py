"""The corpus cases (see explain_corpus.py): async misuse, results, schema and permissions."""

from __future__ import annotations

import asyncio
from typing import Any

import explain_corpus_cases_auth  # noqa: F401  (the stack's own Auth)
import explain_corpus_cases_io  # noqa: F401  (transport, edge, storage, auth fault cases)
import explain_corpus_cases_loop  # noqa: F401  (event-loop stalls; failures without a capture)
from explain_corpus import CorpusEnv, case, errno24_script, failure, raised, run_script, since
from supabase import AsyncClientOptions, ClientOptions, acreate_client

# -- async-API misuse ------------------------------------------------------------------------


@case("acreate_not_awaited_table", "acreate_client_not_awaited", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    pending = acreate_client(env.stack.url, env.stack.anon_key)
    try:
        return [await raised(lambda: pending.table(env.t("notes")))]  # type: ignore[attr-defined]
    finally:
        pending.close()


@case("acreate_not_awaited_auth", "acreate_client_not_awaited", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    pending = acreate_client(env.stack.url, env.stack.anon_key)
    try:
        return [await raised(lambda: pending.auth.get_session())]  # type: ignore[attr-defined]
    finally:
        pending.close()


@case("await_builder_select_async", "await_on_builder", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(c.async_.table(env.t("notes")).select("*")))


@case("await_builder_insert_async", "await_on_builder", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(
        c.async_.table(env.t("notes")).insert({"id": 90, "body": "x"})))


@case("await_builder_sync", "await_on_builder", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(c.sync.table(env.t("notes")).select("id")))


async def _await(value: Any) -> Any:
    return await value


@case("execute_forgotten_sync", "execute_forgotten", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("*").data)


@case("execute_forgotten_async", "execute_forgotten", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("notes")).select("*")
                         .eq("id", 1).data)


@case("execute_forgotten_subscript", "execute_forgotten", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("*")[0])


@case("sync_options_get_session", "sync_options_to_async_client", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    client = await acreate_client(env.stack.url, env.stack.anon_key, options=ClientOptions())
    return [await raised(lambda: client.auth.get_session())]


@case("sync_options_get_user", "sync_options_to_async_client", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    client = await acreate_client(env.stack.url, env.stack.anon_key,
                                  options=ClientOptions(schema="public"))
    return [await raised(lambda: client.auth.get_user())]


@case("await_sync_execute", "await_on_sync_result", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(c.sync.table(env.t("notes")).select("*")
                                                       .execute()))


@case("await_sync_single", "await_on_sync_result", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(
        c.sync.table(env.t("notes")).select("*").eq("id", 1).single().execute()))


@case("await_sync_maybe_single_none", "await_on_sync_result", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(
        c.sync.table(env.t("notes")).select("*").eq("id", 404).maybe_single().execute()))


@case("await_sync_storage_download", "await_on_sync_result", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: _await(
        c.sync.storage.from_(env.t("files")).download("taken.txt")))


@case("await_sync_httpx_in_async_options", "await_on_sync_result", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    import httpx

    client = await acreate_client(env.stack.url, env.stack.service_role_key or "",
                                  options=AsyncClientOptions(httpx_client=httpx.Client()))  # type: ignore[arg-type]
    return [await raised(lambda: client.table(env.t("notes")).select("*").execute())]


@case("unawaited_execute_data", "coroutine_never_awaited", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    def call(c: Any) -> Any:
        pending = c.async_.table(env.t("notes")).select("*").execute()
        try:
            return pending.data
        finally:
            pending.close()
    return await failure(env.service, call)


@case("unawaited_storage_list", "coroutine_never_awaited", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    def call(c: Any) -> Any:
        pending = c.async_.storage.from_(env.t("files")).list()
        try:
            return pending[0]
        finally:
            pending.close()
    return await failure(env.service, call)


@case("event_loop_closed_reuse", "event_loop_closed", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    def two_runs() -> BaseException:
        holder: dict[str, Any] = {}

        async def first() -> None:
            holder["client"] = await acreate_client(env.stack.url, env.stack.service_role_key or "")
            await holder["client"].table(env.t("notes")).select("*").execute()

        async def second() -> Any:
            return await holder["client"].table(env.t("notes")).select("*").execute()

        asyncio.run(first())
        try:
            asyncio.run(second())
        except Exception as exc:  # noqa: BLE001
            return exc
        raise AssertionError("the second asyncio.run did not fail")
    return [await asyncio.to_thread(two_runs)]


@case("asyncio_run_in_running_loop", "asyncio_run_in_running_loop", "async misuse")
async def _(env: CorpusEnv) -> list[Any]:
    pending = env.service.async_.table(env.t("notes")).select("*").execute()
    try:
        return [await raised(lambda: asyncio.run(pending))]
    finally:
        pending.close()


@case("client_per_request_errno24_sync", "too_many_open_files", "async misuse", background=True)
async def _(env: CorpusEnv) -> list[Any]:
    return [await run_script(errno24_script(env.stack.url, env.t("notes"), False),
                             env.stack.service_role_key or "")]


@case("client_per_request_errno24_async", "too_many_open_files", "async misuse",
      background=True)
async def _(env: CorpusEnv) -> list[Any]:
    return [await run_script(errno24_script(env.stack.url, env.t("notes"), True),
                             env.stack.service_role_key or "")]


# -- results ---------------------------------------------------------------------------------


@case("js_style_error_attribute_sync", "error_attribute_on_response", "results")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("*")
                         .execute().error)


@case("js_style_error_attribute_async", "error_attribute_on_response", "results")
async def _(env: CorpusEnv) -> list[Any]:
    async def call(c: Any) -> Any:
        res = await c.async_.table(env.t("notes")).select("id").eq("id", 1).single().execute()
        return res.error
    return await failure(env.service, call)


@case("maybe_single_none_sync", "maybe_single_none", "results")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("*")
                         .eq("id", 404).maybe_single().execute().data)


@case("maybe_single_none_async", "maybe_single_none", "results")
async def _(env: CorpusEnv) -> list[Any]:
    async def call(c: Any) -> Any:
        return (await c.async_.table(env.t("notes")).select("body").eq("id", 405)
                .maybe_single().execute()).data
    return await failure(env.service, call)


def _names_rows(count: str) -> Any:
    def check(why: Any) -> None:
        assert count in why.title, why.title
    return check


@case("single_no_row_sync", "postgrest:PGRST116", "results", _names_rows("no row"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("*")
                         .eq("id", 404).single().execute())


@case("single_many_rows_async", "postgrest:PGRST116", "results", _names_rows("2 rows"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("notes")).select("*")
                         .eq("owner", "u1").single().execute())


@case("rls_empty_for_anon_sync", "rls_empty_for_anon", "results")
async def _(env: CorpusEnv) -> list[Any]:
    mark, service_mark = len(env.anon.capture), len(env.service.capture)
    assert env.service.sync.table(env.t("secret")).select("*").execute().data  # rows exist
    assert env.anon.sync.table(env.t("secret")).select("*").execute().data == []
    return [*since(env.service, service_mark), *since(env.anon, mark)]


@case("rls_empty_for_anon_async", "rls_empty_for_anon", "results")
async def _(env: CorpusEnv) -> list[Any]:
    mark, service_mark = len(env.anon.capture), len(env.service.capture)
    assert (await env.anon.async_.table(env.t("secret")).select("*").execute()).data == []
    assert (await env.service.async_.table(env.t("secret")).select("*").execute()).data
    return [*since(env.anon, mark), *since(env.service, service_mark)]


# -- schema and permissions ------------------------------------------------------------------


def _closest(table_part: str | None) -> Any:
    def check(why: Any) -> None:
        if table_part is None:
            assert "closest" not in why.title and "none suggested" in " ".join(why.evidence.lines)
        else:
            assert table_part in why.title, why.title
        assert why.evidence.exchanges, "the exchange is shown"
    return check


@case("missing_table_near_sync", "postgrest:PGRST205", "schema", _closest("notes"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("note")).select("*").execute())


@case("missing_table_far_async", "postgrest:PGRST205", "schema", _closest(None))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table("qqzzyy_unrelated").select("*")
                         .execute())


@case("missing_column_select_sync", "sqlstate:42703", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("bodyy")
                         .execute())


@case("missing_column_filter_async", "sqlstate:42703", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("notes")).select("*")
                         .eq("colour", "red").execute())


@case("missing_column_insert_sync", "postgrest:PGRST204", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).insert(
        {"id": 50, "bodyy": "x"}).execute())


@case("missing_column_update_async", "postgrest:PGRST204", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("notes")).update(
        {"title": "x"}).eq("id", 1).execute())


def _role_and_command(role: str, command: str) -> Any:
    def check(why: Any) -> None:
        text = why.title + " " + why.cause
        assert role in text and command in text, text
    return check


@case("rls_insert_refused_anon_sync", "sqlstate:42501", "schema",
      _role_and_command("anon", "INSERT"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.anon, lambda c: c.sync.table(env.t("secret")).insert(
        {"id": 7, "body": "x"}).execute())


@case("rls_insert_refused_anon_async", "sqlstate:42501", "schema",
      _role_and_command("anon", "INSERT"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.anon, lambda c: c.async_.table(env.t("secret")).insert(
        {"id": 8, "body": "y"}).execute())


@case("no_grant_select_sync", "sqlstate:42501", "schema", _role_and_command("anon", "SELECT"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.anon, lambda c: c.sync.table(env.t("locked")).select("*").execute())


@case("no_grant_delete_service_async", "sqlstate:42501", "schema",
      _role_and_command("service_role", "DELETE"))
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("locked")).delete()
                         .eq("id", 1).execute())


def _role_token(env: CorpusEnv, role: str) -> str:
    import jwt

    return jwt.encode({"role": role, "iss": "supabase", "exp": 4_000_000_000},
                      env.stack.jwt_secret or "", algorithm="HS256")


def _names_claim(role: str) -> Any:
    def check(why: Any) -> None:
        assert f"role claim {role!r}" in why.title, why.title
    return check


@case("jwt_role_does_not_exist_sync", "sqlstate:22023", "schema", _names_claim("admin"))
async def _(env: CorpusEnv) -> list[Any]:
    from supabase import create_client

    client = create_client(env.stack.url, env.stack.anon_key)
    client.postgrest.auth(_role_token(env, "admin"))
    return [await raised(lambda: client.table(env.t("notes")).select("*").execute())]


@case("jwt_role_not_allowed_async", "sqlstate:42501", "schema", _names_claim("postgres"))
async def _(env: CorpusEnv) -> list[Any]:
    client = await acreate_client(env.stack.url, env.stack.anon_key)
    client.postgrest.auth(_role_token(env, "postgres"))
    return [await raised(lambda: client.table(env.t("notes")).select("*").execute())]


@case("schema_not_exposed_sync", "postgrest:PGRST106", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.schema("private").table("notes")
                         .select("*").execute())


@case("schema_not_exposed_async", "postgrest:PGRST106", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.schema("internal").table("jobs")
                         .select("*").execute())


@case("function_not_found_sync", "postgrest:PGRST202", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.rpc("no_such_fn", {"a": 1}).execute())


@case("function_wrong_args_async", "postgrest:PGRST202", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.rpc(env.t("refuse"), {"x": 1}).execute())


@case("duplicate_key_sync", "sqlstate:23505", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).insert(
        {"id": 1, "body": "again"}).execute())


@case("foreign_key_async", "sqlstate:23503", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("child")).insert(
        {"id": 1, "note_id": 999}).execute())


@case("not_null_sync", "sqlstate:23502", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("child")).insert(
        {"id": 2}).execute())


@case("invalid_int_async", "sqlstate:22P02", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.table(env.t("notes")).select("*")
                         .eq("id", "abc").execute())


@case("operator_mismatch_sync", "sqlstate:42883", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.table(env.t("notes")).select("*")
                         .like("id", "1%").execute())


@case("statement_cancelled_async", "sqlstate:57014", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.rpc(env.t("cancel"), {}).execute())


@case("function_raises_sync", "sqlstate:P0001", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.rpc(env.t("refuse"), {}).execute())


@case("function_missing_relation_async", "sqlstate:42P01", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.rpc(env.t("lost"), {}).execute())


@case("policy_recursion_sync", "sqlstate:42P17", "schema")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.anon, lambda c: c.sync.table(env.t("loop")).select("*").execute())
