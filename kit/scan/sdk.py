"""What the scanner knows about supabase-py 2.34, httpx and asyncio, as data.

    LIBRARY["supabase.create_client"]   # LibObject("func", "sync_client")
    classify_op(["storage", "from_", "download"])   # "storage.download"

Facts, checked against the installed packages by tests/test_scan_sdk.py: every public
``async def`` of the async clients is in these tables, and every sync I/O method too.
"""

from __future__ import annotations

from typing import NamedTuple


class LibObject(NamedTuple):
    """A library object the scanner knows: a class (instances are ``makes``), a function
    returning ``makes``, an async function (a coroutine of ``makes``), or a plain callable."""

    kind: str  # "class" | "func" | "afunc" | "callable"
    makes: str = ""  # the kind tag of what it produces: "sync_client", "httpx_async", ...
    label: str = ""  # how messages name it


def _build_library() -> dict[str, LibObject]:
    lib: dict[str, LibObject] = {}
    sync_homes = ("supabase", "supabase.client", "supabase._sync.client")
    async_homes = ("supabase", "supabase.client", "supabase._async.client")
    for home in sync_homes:
        for cls in ("Client", "SyncClient"):
            lib[f"{home}.{cls}"] = LibObject("class", "sync_client", "sync Client")
            lib[f"{home}.{cls}.create"] = LibObject("func", "sync_client", f"{cls}.create()")
        if home != "supabase._sync.client":
            lib[f"{home}.create_client"] = LibObject("func", "sync_client", "create_client()")
    lib["supabase._sync.client.create_client"] = LibObject("func", "sync_client", "create_client()")
    for home in async_homes:
        for cls in ("AsyncClient", "AClient"):
            lib[f"{home}.{cls}"] = LibObject("class", "async_client", "AsyncClient")
            lib[f"{home}.{cls}.create"] = LibObject("afunc", "async_client", f"{cls}.create()")
        for fn in ("acreate_client", "create_async_client"):
            lib[f"{home}.{fn}"] = LibObject("afunc", "async_client", f"{fn}()")
    lib["supabase._async.client.create_client"] = LibObject("afunc", "async_client", "acreate_client()")
    for name in ("supabase.ClientOptions", "supabase.lib.client_options.SyncClientOptions",
                 "supabase.client.ClientOptions", "supabase.SyncClientOptions"):
        lib[name] = LibObject("class", "sync_options", "ClientOptions")
    for name in ("supabase.AsyncClientOptions", "supabase.AClientOptions",
                 "supabase.lib.client_options.AsyncClientOptions", "supabase.client.AsyncClientOptions"):
        lib[name] = LibObject("class", "async_options", "AsyncClientOptions")
    lib["httpx.Client"] = LibObject("class", "httpx_sync", "httpx.Client")
    lib["httpx.AsyncClient"] = LibObject("class", "httpx_async", "httpx.AsyncClient")
    for name in ("asyncio.run", "asyncio.sleep", "anyio.sleep", "trio.sleep", "asyncio.to_thread",
                 "anyio.to_thread.run_sync", "nest_asyncio.apply"):
        lib[name] = LibObject("callable", "", name)
    return lib


LIBRARY: dict[str, LibObject] = _build_library()
# Top-level packages whose attributes are looked up in LIBRARY (``import supabase``).
LIBRARY_PACKAGES = frozenset({"supabase", "httpx", "asyncio", "anyio", "trio", "nest_asyncio"})
ASYNC_FACTORIES = frozenset(q for q, o in LIBRARY.items() if o.kind == "afunc")
SLEEPS = frozenset({"asyncio.sleep", "anyio.sleep", "trio.sleep"})
TO_THREAD = frozenset({"asyncio.to_thread", "anyio.to_thread.run_sync"})

POSTGREST_ENTRIES = frozenset({"table", "from_", "schema", "rpc", "postgrest"})
STORAGE_FILE_IO = frozenset({
    "upload", "update", "download", "list", "list_v2", "remove", "move", "copy", "info",
    "exists", "create_signed_url", "create_signed_urls", "create_signed_upload_url",
    "upload_to_signed_url",
})
STORAGE_ASYNC_ONLY = frozenset({"get_public_url"})  # async def on AsyncClient; no I/O on Client
STORAGE_BUCKET_IO = frozenset({
    "list_buckets", "get_bucket", "create_bucket", "update_bucket", "empty_bucket", "delete_bucket",
})
AUTH_IO = frozenset({
    "initialize", "initialize_from_storage", "initialize_from_url", "sign_in_anonymously",
    "sign_up", "sign_in_with_password", "sign_in_with_id_token", "sign_in_with_sso",
    "sign_in_with_oauth", "link_identity", "get_user_identities", "unlink_identity",
    "sign_in_with_otp", "resend", "verify_otp", "reauthenticate", "get_session", "get_user",
    "update_user", "set_session", "refresh_session", "sign_out", "reset_password_for_email",
    "reset_password_email", "exchange_code_for_session", "get_claims",
    # auth.admin.* and auth.mfa.*
    "list_users", "create_user", "delete_user", "get_user_by_id", "update_user_by_id",
    "invite_user_by_email", "generate_link", "enroll", "challenge", "verify",
    "challenge_and_verify", "unenroll", "list_factors", "get_authenticator_assurance_level",
})
AUTH_ASYNC_ONLY = frozenset({"close"})  # async def on AsyncClient; closes, no request, on Client
FUNCTIONS_IO = frozenset({"invoke"})
CLIENT_ASYNC_ONLY = frozenset({"remove_channel", "remove_all_channels"})
CLIENT_ENTRIES = POSTGREST_ENTRIES | {"storage", "auth", "functions"} | CLIENT_ASYNC_ONLY

# Terminal method names that may end a supabase I/O call: the walker only looks closer at these.
OP_TERMINALS = frozenset({"execute"} | STORAGE_FILE_IO | STORAGE_ASYNC_ONLY | STORAGE_BUCKET_IO
                         | AUTH_IO | AUTH_ASYNC_ONLY | FUNCTIONS_IO | CLIENT_ASYNC_ONLY)
# Terminal names of library calls the rules look at (aliases are caught through imports).
LIBCALL_TERMINALS = frozenset({
    "run", "sleep", "to_thread", "run_sync", "run_in_executor", "run_until_complete", "apply",
    "ClientOptions", "SyncClientOptions", "AsyncClientOptions", "AClientOptions",
    "acreate_client", "create_async_client", "create", "create_client", "Client", "AsyncClient",
})
# Terminal names of calls that may build a supabase client (resolved before a rule reports).
FACTORY_TERMINALS = frozenset({"create_client", "acreate_client", "create_async_client",
                               "create", "Client", "AsyncClient"})
# Dependency-injection markers whose first argument is called per request to fill a parameter.
PROVIDERS = frozenset({"Depends", "Security"})
# Calls whose arguments are coroutines handed to the loop (or to anything: we do not guess).
EXECUTOR_TERMINALS = frozenset({"to_thread", "run_sync", "run_in_executor"})
# Builtins that look at a coroutine without running it: passing one to them is not awaiting.
NON_CONSUMING = frozenset({"print", "len", "str", "repr", "bool", "type", "isinstance", "id",
                           "list", "tuple", "dict", "set", "sorted", "format", "hash"})


# What a sync call returns (the annotation of supabase-py 2.34's sync method), named as
# `TypeError: object <name> can't be used in 'await' expression` names it; "X | None" may be
# either. tests/test_scan_sdk.py checks this table against the installed annotations.
RESULT_NAMES: dict[str, str] = {
    "auth.sign_in_with_password": "AuthResponse", "auth.sign_up": "AuthResponse",
    "auth.refresh_session": "AuthResponse", "auth.sign_in_anonymously": "AuthResponse",
    "auth.set_session": "AuthResponse", "auth.exchange_code_for_session": "AuthResponse",
    "auth.verify_otp": "AuthResponse", "auth.reauthenticate": "AuthResponse",
    "auth.sign_in_with_id_token": "AuthResponse", "auth.get_user": "UserResponse | None",
    "auth.update_user": "UserResponse", "auth.get_session": "Session | None",
    "auth.sign_out": "None", "auth.reset_password_for_email": "None",
    "auth.reset_password_email": "None", "auth.initialize": "None",
    "auth.sign_in_with_otp": "AuthOtpResponse", "auth.resend": "AuthOtpResponse",
    "auth.get_claims": "ClaimsResponse | None", "auth.sign_in_with_oauth": "OAuthResponse",
    "auth.link_identity": "OAuthResponse", "auth.sign_in_with_sso": "SSOResponse",
    "auth.get_user_identities": "IdentitiesResponse", "auth.unlink_identity": "Response",
    "auth.admin.list_users": "list", "auth.admin.create_user": "UserResponse",
    "auth.admin.get_user_by_id": "UserResponse", "auth.admin.update_user_by_id": "UserResponse",
    "auth.admin.invite_user_by_email": "UserResponse", "auth.admin.delete_user": "None",
    "auth.admin.generate_link": "GenerateLinkResponse",
    "storage.upload": "UploadResponse", "storage.update": "UploadResponse",
    "storage.download": "bytes", "storage.list": "list", "storage.remove": "list",
    "storage.create_signed_url": "SignedUrlResponse", "storage.get_public_url": "str",
    "storage.exists": "bool", "storage.info": "dict", "storage.move": "dict",
    "storage.copy": "dict", "functions.invoke": "dict | bytes",
}


def result_name(op: str, chain: list[str]) -> str:
    """The type a sync op returns: ``result_name("execute", ["table", "select", "single",
    "execute"])`` → ``"SingleAPIResponse"``; "" when the table does not say."""
    if op == "execute":
        if "maybe_single" in chain:
            return "SingleAPIResponse | None"
        return "SingleAPIResponse" if "single" in chain or chain[0] == "rpc" else "APIResponse"
    return RESULT_NAMES.get(op, "")


def builder_name(chain: list[str]) -> str:
    """The postgrest 2.34 builder class a chain of calls ends on, without its Sync/Async prefix:
    ``builder_name(["table", "select", "eq"])`` → ``"SelectRequestBuilder"``."""
    if "rpc" in chain:
        return "RPCFilterRequestBuilder"
    if "maybe_single" in chain:
        return "MaybeSingleRequestBuilder"
    if "single" in chain or "csv" in chain:
        return "SingleRequestBuilder"
    return "SelectRequestBuilder" if len(chain) > 1 else "RequestBuilder"


def classify_op(path: list[str]) -> str:
    """The supabase operation a call path from a client names, or "" if it is none.

    ``classify_op(["table", "select", "eq", "execute"])`` → ``"execute"``;
    ``classify_op(["storage", "from_", "download"])`` → ``"storage.download"``.
    """
    entry, terminal, size = path[0], path[-1], len(path)
    if entry in POSTGREST_ENTRIES:
        return "execute" if terminal == "execute" and size >= 2 else ""
    if entry == "storage":
        if size == 2 and terminal in STORAGE_BUCKET_IO:
            return f"storage.{terminal}"
        if size == 3 and path[1] == "from_" and (terminal in STORAGE_FILE_IO
                                                  or terminal in STORAGE_ASYNC_ONLY):
            return f"storage.{terminal}"
        return ""
    if entry == "auth":
        if (terminal in AUTH_IO or terminal in AUTH_ASYNC_ONLY) and (
                size == 2 or (size == 3 and path[1] in ("admin", "mfa"))):
            return f"auth.{terminal}" if size == 2 else f"auth.{path[1]}.{terminal}"
        return ""
    if entry == "functions":
        return "functions.invoke" if size == 2 and terminal in FUNCTIONS_IO else ""
    if entry in CLIENT_ASYNC_ONLY and size == 1:
        return entry
    return ""


def blocks_when_sync(op: str) -> bool:
    """Whether the op does network I/O on a sync Client (``get_public_url`` only builds a URL)."""
    terminal = op.rsplit(".", 1)[-1]
    return (terminal not in STORAGE_ASYNC_ONLY and terminal not in AUTH_ASYNC_ONLY
            and op not in CLIENT_ASYNC_ONLY)


def looks_like_supabase(name: str) -> bool:
    """The naming heuristic (low confidence): ``self.supabase``, ``supabase_client``, ``sb``."""
    last = name.rsplit(".", 1)[-1].lower()
    return "supabase" in last or last in ("sb", "supa", "sb_client") or last.endswith("_sb")
