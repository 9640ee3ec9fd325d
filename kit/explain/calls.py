"""The supabase-py call a captured request came from, read back from the request, so a fix
shows the user's own operation (an ``update`` stays an ``update``), not a stock ``select``.

    call = call_of(exchange)   # PATCH /rest/v1/chatz?id=eq.7, Prefer: return=representation
    call.code()                # 'client.table("chatz").update({"title": ...}).eq("id", 7).execute()'
    call.code(table="chats")   # the same call on the right table
    call_of(None).code(table="chats")   # no request captured: 'client.table("chats")' only

How requests map back to calls (postgrest-py 2.x ``base_request_builder.pre_*`` and
``client.rpc``; storage3 ``_sync/file_api.py``): GET/HEAD → ``select`` (HEAD: ``head=True``), POST
→ ``insert``, or ``upsert`` when ``Prefer`` has ``resolution=merge-duplicates`` (``ignore-`` →
``ignore_duplicates=True``), PATCH → ``update``, DELETE → ``delete``, ``/rest/v1/rpc/<fn>`` →
``rpc``; query filters become filter methods (``.filter(col, op, value)`` for operators without
a method of their own), ``Accept: application/vnd.pgrst.object+json`` becomes ``.single()``.
Row values are never shown (``{"title": ...}``: the keys are the columns, the values may be
private); filter values are masked like the URL they came from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from kit.secrets import mask_text

if TYPE_CHECKING:
    from kit.capture import Exchange

__all__ = ["Call", "call_of", "call_of_builder"]

_METHODS = {"eq": "eq", "neq": "neq", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte",
            "like": "like", "ilike": "ilike", "is": "is_", "cs": "contains", "cd": "contained_by"}
_NOT_FILTERS = {"select", "order", "limit", "offset", "on_conflict", "columns"}
_UPSERT = ', {"upsert": "true"}'
_OBJECT = "application/vnd.pgrst.object+json"
_STORAGE = re.compile(r"^/storage/v1/object/(?:(?P<kind>sign|list|info|public|authenticated|move|copy)/)?"
                      r"(?P<bucket>[^/]+)?/?(?P<name>.*)$")


@dataclass(frozen=True)
class Call:
    """A call as text in parts: ``head`` (``client.table("t")``), ``operation`` (what the request
    did: select, insert, upsert, update, delete, rpc, or a storage method), ``action``
    (``.update({...})``) and ``chain`` (filters and modifiers), ending in ``ending``."""

    operation: str | None = None
    table: str | None = None
    head: str = ""
    action: str = ""
    chain: tuple[str, ...] = ()
    ending: str = ".execute()"

    @classmethod
    def example(cls, table: str, *chain: str) -> Call:
        """A stock read, for fixes with no captured request: ``client.table(table).select("*")``."""
        return cls("select", table, '{client}.table("{table}")', '.select("*")', chain)

    def code(self, *, table: str | None = None, client: str = "client",
             ending: str | None = None) -> str:
        """The call as Python source; ``table`` renames the table, ``ending`` replaces
        ``.execute()``. With no operation known, only the part that names the table."""
        name = table or self.table or "<table>"
        if self.operation is None:
            return f'{client}.table("{name}")'
        head = self.head.format(client=client, table=name)
        return head + self.action + "".join(self.chain) + (self.ending if ending is None else ending)

    def with_modifier(self, modifier: str, *, replacing: str | None = None) -> Call:
        """The call with ``modifier`` (``.retry(False)``) appended, or put in place of
        ``replacing`` (``.single()`` → ``.maybe_single()``)."""
        kept = tuple(m for m in self.chain if m != replacing)
        return replace(self, chain=(*kept, modifier))

    def with_column(self, old: str, new: str) -> Call:
        """The call with column ``old`` named ``new`` wherever it names it (selected columns,
        filters, order, row keys)."""
        name = re.compile(rf'(?<=[",(]){re.escape(old)}(?=[",)])')
        return replace(self, action=name.sub(new, self.action),
                       chain=tuple(name.sub(new, part) for part in self.chain))

    @property
    def known(self) -> bool:
        return self.operation is not None


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    secrets: tuple[str, ...] = ()

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def call_of(ex: Exchange | None, *, table: str | None = None) -> Call:
    """The call that sent ``ex`` (``Call(table=table)`` when there is none or it is not a
    REST or Storage request)."""
    if ex is None:
        return Call(table=table)
    headers = {k.lower(): v for k, v in ex.request_headers}
    return _call(_Request(ex.method, ex.url, headers, ex.request_body, ex.secrets), table)


def call_of_builder(builder: Any, *, table: str | None = None) -> Call:
    """The call a postgrest request builder would send (one whose ``.execute()`` was never
    called), read from its ``request`` (postgrest-py's RequestConfig)."""
    request = getattr(builder, "request", None)
    if request is None or not hasattr(request, "http_method"):
        return Call(table=table)
    params = str(getattr(request, "params", "") or "")
    body = json.dumps(request.json).encode() if getattr(request, "json", None) is not None else b""
    headers = {k.lower(): v for k, v in dict(getattr(request, "headers", {}) or {}).items()}
    url = str(request.path) + (f"?{params}" if params else "")
    return _call(_Request(request.http_method, url, headers, body), table)


def _call(request: _Request, table: str | None) -> Call:
    path = unquote(urlsplit(request.url).path)
    rest = path.partition("/rest/v1/")[2]
    if rest:
        return _rest_call(request, rest)
    if "/storage/v1/object/" in path:
        return _storage_call(request, path[path.index("/storage/v1/object/"):])
    return Call(table=table)


def _rest_call(ex: _Request, rest: str) -> Call:
    query = parse_qsl(urlsplit(ex.url).query, keep_blank_values=True)
    prefer = ex.header("prefer").replace(" ", "")
    single = (".single()",) if _OBJECT in ex.header("accept") else ()
    if rest.startswith("rpc/"):
        args = _shape(ex.body) if ex.method == "POST" else (
            "{" + ", ".join(f'"{k}": ...' for k, _ in query) + "}")
        how = ", head=True" if ex.method == "HEAD" else ", get=True" if ex.method == "GET" else ""
        return Call("rpc", rest.removeprefix("rpc/"), '{client}.rpc("{table}", ', f"{args}{how})",
                    single)
    table = rest.split("/")[0]
    count = re.search(r"count=(exact|planned|estimated)", prefer)
    counted = f', count="{count.group(1)}"' if count else ""
    selected = next((v for k, v in query if k == "select"), None)
    if ex.method in ("GET", "HEAD"):
        operation = "select"
        action = (f'.select("{selected or "*"}"{counted}'
                  f'{", head=True" if ex.method == "HEAD" else ""})')
    elif ex.method == "POST":
        upsert = re.search(r"resolution=(merge|ignore)-duplicates", prefer)
        operation = "upsert" if upsert else "insert"
        options = counted + ("" if not upsert or upsert.group(1) == "merge" else
                             ", ignore_duplicates=True")
        conflict = next((v for k, v in query if k == "on_conflict"), None)
        options += f', on_conflict="{conflict}"' if conflict else ""
        action = f".{operation}({_shape(ex.body)}{options})"
    elif ex.method in ("PATCH", "PUT"):
        operation, action = "update", f".update({_shape(ex.body)}{counted})"
    elif ex.method == "DELETE":
        operation, action = "delete", f".delete({counted.removeprefix(', ')})"
    else:
        return Call(table=table)
    chain = [_filter(k, v, ex.secrets) for k, v in query if k not in _NOT_FILTERS]
    if selected and operation != "select":
        chain.insert(0, f'.select("{selected}")')
    for key, value in query:
        if key == "order":
            chain += [_order(part) for part in value.split(",") if part]
        elif key in ("limit", "offset"):
            chain.append(f".{key}({_literal(value)})")
    return Call(operation, table, '{client}.table("{table}")', action, (*chain, *single))


def _storage_call(ex: _Request, path: str) -> Call:
    match = _STORAGE.match(path)
    if match is None or not match.group("bucket"):
        return Call()
    kind, bucket, name = match.group("kind"), match.group("bucket"), match.group("name")
    name = mask_text(name, ex.secrets)
    if kind == "list":
        operation, action = "list", ".list()"
    elif kind == "sign":
        operation, action = "create_signed_url", f'.create_signed_url("{name}", 60)'
    elif kind in ("move", "copy"):
        operation, action = kind, f'.{kind}("<from>", "<to>")'
    elif ex.method == "DELETE":
        operation, action = "remove", f'.remove(["{name}"])' if name else ".remove([...])"
    elif ex.method == "POST":
        upsert = ex.header("x-upsert").lower() == "true"
        operation = "upload"
        action = f'.upload("{name}", data{_UPSERT if upsert else ""})'
    elif ex.method == "PUT":
        operation, action = "update", f'.update("{name}", data)'
    elif kind == "info":
        operation, action = "info", f'.info("{name}")'
    else:
        operation, action = "download", f'.download("{name}")'
    return Call(operation, bucket, '{client}.storage.from_("{table}")', action, (), "")


def _shape(body: bytes) -> str:
    """A JSON row (or rows) with every value elided: ``{"title": ..., "done": ...}``."""
    try:
        value = json.loads(body or b"null")
    except ValueError:
        return "row"
    rows = value if isinstance(value, list) else [value]
    first = rows[0] if rows else None
    if not isinstance(first, dict):
        return "rows" if isinstance(value, list) else "row"
    shape = "{" + ", ".join(f'"{key}": ...' for key in first) + "}"
    return shape if not isinstance(value, list) else f"[{shape}{', ...' if len(rows) > 1 else ''}]"


def _literal(value: str) -> str:
    return value if re.fullmatch(r"-?\d{1,15}", value) else json.dumps(value)


def _filter(column: str, value: str, secrets: tuple[str, ...]) -> str:
    value = mask_text(value, secrets)
    if column in ("or", "and"):
        return f'.{column}_("{value.strip("()")}")'
    negate = value.startswith("not.")
    operator, _, criteria = value.removeprefix("not.").partition(".")
    prefix = ".not_" if negate else ""
    if operator == "in":
        items = [item.strip('"') for item in criteria.strip("()").split(",") if item]
        return f'{prefix}.in_("{column}", [{", ".join(_literal(i) for i in items)}])'
    if operator in _METHODS:
        return f'{prefix}.{_METHODS[operator]}("{column}", {_literal(criteria)})'
    return f'{prefix}.filter("{column}", "{operator}", {json.dumps(criteria)})'


def _order(part: str) -> str:
    column, *flags = part.split(".")
    options = "".join((", desc=True" if "desc" in flags else "",
                       ", nullsfirst=True" if "nullsfirst" in flags else ""))
    return f'.order("{column}"{options})'
