"""The corpus cases (see explain_corpus.py): transport, edge and URL, storage, auth, unknowns.

Faults are client-side rules (``kit.clients(target, faults=[...])``): the real supabase-py
clients send their requests, the kit's transport answers as the edge or GoTrue would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from edge_server import PNG_1x1
from explain_corpus import CorpusEnv, case, failure, since
from supabase import AsyncClientOptions, acreate_client

from kit.targets import Target


def rule(match: dict[str, Any], effect: dict[str, Any]) -> dict[str, Any]:
    return {"match": match, "effect": effect}


# -- transport -------------------------------------------------------------------------------


@case("nothing_listening_sync", "nothing_listening", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(target=Target("remote", "http://127.0.0.1:9", _key(env)))
    return await failure(c, lambda c: c.sync.table("notes").select("*").execute())


@case("nothing_listening_async", "nothing_listening", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(target=Target("remote", "http://127.0.0.1:54321", _key(env)))
    return await failure(c, lambda c: c.async_.storage.from_("ads").download("a.png"))


def _key(env: CorpusEnv) -> str:
    return env.stack.anon_key


@case("read_timeout_sync", "client_timeout", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"table": env.t("notes")}, {"hang": True})], timeout=0.2)
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("read_timeout_async", "client_timeout", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"service": "storage"}, {"hang": True})], timeout=0.2)
    return await failure(c, lambda c: c.async_.storage.from_(env.t("files")).download("taken.txt"))


@case("pool_timeout_async", "client_timeout", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1),
                             timeout=httpx.Timeout(5.0, pool=0.05))
    client = await acreate_client(env.stack.url, env.stack.service_role_key or "",
                                  options=AsyncClientOptions(httpx_client=http))
    try:
        calls = [client.rpc(env.t("slow"), {}).execute() for _ in range(2)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await http.aclose()
    return [next(o for o in outcomes if isinstance(o, BaseException))]


@case("connection_reset_sync", "connection_reset", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"table": env.t("notes")}, {"connection_reset": True})])
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("connection_reset_async", "connection_reset", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"table": env.t("notes")}, {"connection_reset": True})])
    return await failure(c, lambda c: c.async_.table(env.t("notes")).insert({"id": 60}).execute())


@case("truncated_body_sync", "truncated_body", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"table": env.t("notes")}, {"truncated_body": 0.5})])
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("truncated_body_edge_async", "truncated_body", "transport")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.edge(), lambda c: c.async_.table("truncated").select("*").execute())


# -- edge and URL ----------------------------------------------------------------------------

_RATE = rule({"service": "rest"}, {"rate_limit": 7})


@case("rate_limited_rest_sync", "rate_limited", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[_RATE])
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("rate_limited_rest_exception_only_async", "rate_limited", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[_RATE])
    return (await failure(c, lambda c: c.async_.table(env.t("notes")).select("*").execute()))[:1]


@case("rate_limited_storage_unparsed_sync", "rate_limited", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"service": "storage"}, {"rate_limit": 30})])
    return await failure(c, lambda c: c.sync.storage.from_(env.t("files")).download("taken.txt"))


@case("rate_limited_storage_exception_only_async", "rate_limited", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"service": "storage"}, {"rate_limit": 2})])
    return (await failure(c, lambda c: c.async_.storage.from_(env.t("files")).download(
        "taken.txt")))[:1]


@case("cloudflare_1015_async", "html_page_from_edge", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.edge(), lambda c: c.async_.table("cf1015").select("*").execute())


@case("dashboard_url_sync", "url_not_project_api", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(target=Target("remote", env.edge_url + "/dashboard/project/abcd", _key(env)))
    return await failure(c, lambda c: c.sync.table("notes").select("*").execute())


@case("web_app_url_storage_async", "url_not_project_api", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(target=Target("remote", env.edge_url + "/app", _key(env)))
    return await failure(c, lambda c: c.async_.storage.from_("ads").download("a.png"))


@case("rest_path_pasted_sync", "url_has_api_path", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(target=Target("embedded", f"{env.stack.url}/rest/v1/{env.t('notes')}",
                                  env.stack.anon_key, env.stack.service_role_key))
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("rest_path_pasted_hosted_async", "url_has_api_path", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    hosted = rule({"path": "/rest/v1/rest/v1/*"},
                  {"json_status": 404, "body": {"code": "PGRST125", "details": None, "hint": None,
                                                "message": "Invalid path specified in request URL"}})
    c = env.clients(faults=[hosted], target=Target("embedded", f"{env.stack.url}/rest/v1",
                                                   env.stack.anon_key, env.stack.service_role_key))
    return await failure(c, lambda c: c.async_.table("orders").select("*").execute())


@case("invalid_path_hosted_sync", "postgrest:PGRST125", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    hosted = rule({"table": "orders"}, {"json_status": 404, "body": {
        "code": "PGRST125", "details": None, "hint": None,
        "message": "Invalid path specified in request URL"}})
    c = env.clients(faults=[hosted])
    return await failure(c, lambda c: c.sync.table("orders").select("*").execute())


@case("project_paused_rest_sync", "project_paused", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({}, {"html_page": "supabase-paused"})])
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("project_paused_502_storage_async", "project_paused", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({}, {"html_page": "supabase-paused", "status": 502})])
    return await failure(c, lambda c: c.async_.storage.from_(env.t("files")).download("taken.txt"))


@case("kong_502_project_down_sync", "html_page_from_edge", "edge",
      lambda why: "project itself" in why.cause)
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({}, {"html_page": "kong-502"})])
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("cloudflare_522_edge_failing_async", "html_page_from_edge", "edge",
      lambda why: "origin" in why.cause)
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({}, {"html_page": "cloudflare-522"})])
    return await failure(c, lambda c: c.async_.storage.from_(env.t("files")).download("taken.txt"))


@case("paused_page_as_result_sync", "project_paused", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.edge()
    mark = len(c.capture)
    result = c.sync.table("html200").select("*").execute()
    return [result, *since(c, mark)]


@case("html_200_masquerade_download_async", "html_masquerading_as_result", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"service": "storage"}, {"html_page": "cloudflare-520",
                                                          "status": 200})])
    mark = len(c.capture)
    data = await c.async_.storage.from_(env.t("files")).download("taken.txt")
    return [data, *since(c, mark)]


@case("html_200_masquerade_rows_sync", "html_masquerading_as_result", "edge")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"service": "rest"}, {"html_page": "nginx-502", "status": 200})])
    mark = len(c.capture)
    result = c.sync.table(env.t("notes")).select("*").execute()
    return [result, *since(c, mark)]


# -- storage ---------------------------------------------------------------------------------


@case("object_not_found_sync", "storage:NoSuchKey", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.storage.from_(env.t("files"))
                         .download("missing/ad.png"))


@case("object_not_found_async", "storage:NoSuchKey", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.storage.from_(env.t("files"))
                         .download("/leading-slash.png"))


@case("bucket_not_found_sync", "storage:NoSuchBucket", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.storage.get_bucket("no-such-bucket"))


@case("bucket_not_found_upload_async", "storage:NoSuchBucket", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.storage.from_("no-such-bucket")
                         .upload("a.txt", b"x"))


@case("duplicate_upload_sync", "storage:Duplicate", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.storage.from_(env.t("files"))
                         .upload("taken.txt", b"second"))


@case("duplicate_upload_async", "storage:Duplicate", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.storage.from_(env.t("files"))
                         .upload("taken.txt", b"third"))


def _limited_bucket(env: CorpusEnv) -> str:
    name = env.t("limited")
    if not any(b.name == name for b in env.service.sync.storage.list_buckets()):
        env.service.sync.storage.create_bucket(name, options={
            "public": False, "allowed_mime_types": ["image/png"], "file_size_limit": 64})
    return name


@case("mime_type_not_allowed_async", "storage:InvalidMimeType", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    bucket = _limited_bucket(env)
    return await failure(env.service, lambda c: c.async_.storage.from_(bucket).upload(
        "notes.txt", b"plain words", {"content-type": "text/plain"}))


@case("object_too_large_sync", "storage:EntityTooLarge", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    bucket = _limited_bucket(env)
    return await failure(env.service, lambda c: c.sync.storage.from_(bucket).upload(
        "big.png", PNG_1x1 * 4, {"content-type": "image/png"}))


@case("object_name_not_allowed_sync", "storage:InvalidKey", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.storage.from_(env.t("files")).upload(
        "résumé/été.pdf", b"%PDF-1.4", {"content-type": "application/pdf"}))


@case("bucket_name_not_allowed_async", "storage:InvalidBucketName", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.async_.storage.create_bucket("my bucket/2024"))


@case("delete_bucket_not_empty_sync", "storage:ResourceNotEmpty", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.service, lambda c: c.sync.storage.delete_bucket(env.t("files")))


@case("upload_refused_by_rls_anon_sync", "storage:Unauthorized", "storage",
      lambda why: "anon" in why.cause and "INSERT" in why.cause)
async def _(env: CorpusEnv) -> list[Any]:
    return await failure(env.anon, lambda c: c.sync.storage.from_(env.t("files"))
                         .upload("anon.txt", b"x"))


@case("image_uploaded_as_text_plain_sync", "stored_as_text_plain", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    bucket = env.service.sync.storage.from_(env.t("files"))
    bucket.upload("ad.png", PNG_1x1)  # no content-type option
    mark = len(env.service.capture)
    data = bucket.download("ad.png")
    assert data[:4] == b"\x89PNG"
    return since(env.service, mark)


@case("image_uploaded_as_text_plain_async", "stored_as_text_plain", "storage")
async def _(env: CorpusEnv) -> list[Any]:
    bucket = env.service.async_.storage.from_(env.t("files"))
    await bucket.upload("banner.png", PNG_1x1)
    mark = len(env.service.capture)
    await bucket.download("banner.png")
    return since(env.service, mark)


# -- auth (GoTrue-shaped answers from a fault rule, through the real supabase_auth client) -----


def _gotrue(status: int, code: str, msg: str, **extra: Any) -> dict[str, Any]:
    return {"json_status": status, "body": {"code": status, "error_code": code, "msg": msg, **extra}}


def _auth_case(id: str, code: str, status: int, msg: str, call: Any, asynchronous: bool,
               **extra: Any) -> None:
    @case(id, f"auth:{code}", "auth")
    async def _(env: CorpusEnv) -> list[Any]:
        c = env.clients(faults=[rule({"service": "auth"}, _gotrue(status, code, msg, **extra))])
        return await failure(c, lambda c: call(c.async_.auth if asynchronous else c.sync.auth))


_CREDENTIALS = {"email": "ada@example.org", "password": "correct horse"}
_auth_case("auth_invalid_credentials_sync", "invalid_credentials", 400, "Invalid login credentials",
           lambda auth: auth.sign_in_with_password(_CREDENTIALS), False)
_auth_case("auth_email_not_confirmed_async", "email_not_confirmed", 400, "Email not confirmed",
           lambda auth: auth.sign_in_with_password(_CREDENTIALS), True)
_auth_case("auth_user_already_exists_sync", "user_already_exists", 422, "User already registered",
           lambda auth: auth.sign_up(_CREDENTIALS), False)
_auth_case("auth_weak_password_async", "weak_password", 422,
           "Password should be at least 6 characters.",
           lambda auth: auth.sign_up({"email": "ada@example.org", "password": "123"}), True,
           weak_password={"reasons": ["length"]})
_auth_case("auth_refresh_token_reused_sync", "refresh_token_already_used", 400,
           "Invalid Refresh Token: Already Used",
           lambda auth: auth.refresh_session("used-refresh-token"), False)
_auth_case("auth_session_expired_async", "session_expired", 403, "Session expired",
           lambda auth: auth.get_user("an-access-token"), True)
_auth_case("auth_rate_limit_sync", "over_request_rate_limit", 429, "Request rate limit reached",
           lambda auth: auth.sign_in_with_password(_CREDENTIALS), False)


@case("auth_session_missing_sync", "auth_session_missing", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(role="anon")
    return await failure(c, lambda c: c.sync.auth.update_user({"data": {"plan": "pro"}}))


@case("auth_session_missing_async", "auth_session_missing", "auth")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(role="anon")
    return await failure(c, lambda c: c.async_.auth.refresh_session())


# -- honest unknowns: real failures the kit has no rule for -------------------------------------


@case("unknown_teapot_json_sync", "not_recognised", "unknown")
async def _(env: CorpusEnv) -> list[Any]:
    c = env.clients(faults=[rule({"table": env.t("notes")},
                                 {"json_status": 418, "body": {"message": "I'm a teapot"}})])
    return await failure(c, lambda c: c.sync.table(env.t("notes")).select("*").execute())


@case("unknown_user_code_error_async", "not_recognised", "unknown")
async def _(env: CorpusEnv) -> list[Any]:
    async def call(c: Any) -> Any:
        rows = (await c.async_.table(env.t("notes")).select("id").execute()).data
        return rows[0]["body"]  # the app's own mistake: the column was not selected
    return await failure(env.service, call)

