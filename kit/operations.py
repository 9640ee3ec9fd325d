"""Operations a user pastes into a notebook parameter, turned into what ``kit.diff`` runs.

    kit.diff(kit.operation("c.table('chats').select('*').limit(5).execute()"), target=t)
    kit.diff(**kit.method_call("myapp.services.ads:AdCreationService.download_image",
                               ["reference-ads/ad.png"]), target=t)
"""

from __future__ import annotations

import ast
import builtins
import itertools
import linecache
from collections.abc import Callable, Sequence
from typing import Any

from kit.errors import UsageError


def operation(source: str, **values: Any) -> Callable[[Any], Any]:
    """An expression over the client ``c`` as a one-argument callable for ``kit.diff``;
    ``values`` are further names the expression may use.

    >>> kit.operation("c.table(table).select('*').eq('id', chat_id).execute()",
    ...               table="chats", chat_id="chat-1")                      # doctest: +SKIP
    """
    text = (source or "").strip()
    if text.startswith("lambda"):
        text = text.split(":", 1)[1].strip() if ":" in text else text
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise UsageError(f"the operation {source!r} is not a Python expression: {exc.msg}",
                         fix="write one expression over the client c, e.g. "
                             "c.table('chats').select('*').limit(5).execute()") from exc
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if "c" not in names:
        raise UsageError(f"the operation {source!r} does not use the client c",
                         fix="start it with c., e.g. c.storage.from_('reference-ads').download('x.png')")
    unknown = names - {"c", *values} - set(dir(builtins))
    if unknown:
        raise UsageError(f"the operation {source!r} uses {', '.join(sorted(unknown))}, which it is not given",
                         fix=f"pass them by name: kit.operation(..., {min(unknown)}=...)")
    code = compile(tree, _remembered(text), "eval")
    scope = {"__builtins__": builtins}
    run: Callable[[Any], Any] = lambda c: eval(code, scope, {**values, "c": c})
    run.__doc__ = text
    return run


def _remembered(text: str) -> str:
    """A file name for the operation's code, ``<kit operation N>``, whose one line ``linecache``
    now holds: tracebacks and the loop monitor's stall locations show the operation's text
    instead of an empty line (linecache keeps an entry whose mtime is None through
    ``checkcache``: the form CPython uses for source that has no file)."""
    name = f"<kit operation {next(_numbers)}>"
    linecache.cache[name] = (len(text) + 1, None, [text + "\n"], name)
    return name


_numbers = itertools.count(1)


def method_call(spec: str, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None,
                *, client: str = "auto") -> dict[str, Any]:
    """``"module:Class.method"`` → ``{"service_factory": ..., "call": ...}`` for ``kit.diff(**...)``.

    The class is built with the sync ``Client`` unless its constructor asks for an
    ``AsyncClient`` (or ``client="async"``); sync methods run in a thread.
    """
    from kit.arena import call_off_loop
    from kit.scenarios.base import construct, load_implementation

    path, _, method = spec.rpartition(".")
    if not path or ":" not in path or not method:
        raise UsageError(f"method {spec!r} is not of the form 'package.module:Class.method'",
                         fix="e.g. 'myapp.services.ad_creation_service:AdCreationService.download_image'")
    cls = load_implementation(path)
    if not callable(getattr(cls, method, None)):
        raise UsageError(f"{cls.__name__} has no method {method!r}",
                         fix=f"pick one of: {', '.join(m for m in dir(cls) if not m.startswith('_'))}")
    if client not in ("auto", "sync", "async"):
        raise UsageError(f"client={client!r}", fix="use 'auto', 'sync' or 'async'")
    if client != "auto":
        cls = type(cls.__name__, (cls,), {"client_kind": client})
    arguments, keywords = list(args), dict(kwargs or {})
    return {"service_factory": {cls.__name__: lambda clients: construct(cls, clients)},
            "call": lambda service: call_off_loop(getattr(service, method), *arguments, **keywords)}


def call_spec(operation_source: str = "", method: str = "", method_args: Sequence[Any] = (),
              *, modes: Any = "all", names: dict[str, str] | None = None) -> dict[str, Any]:
    """Notebook parameters → keyword arguments for ``kit.diff``: an operation (run in ``modes``)
    or, when ``operation_source`` is empty, a method given by import path. ``names`` are
    values the operation may use, such as a scenario's table names
    (``scenario.table_names()``: ``chats`` is ``kit_chats`` on a user's project).

    >>> kit.diff(**kit.call_spec("c.table(chats).select('*').execute()",
    ...                          names={"chats": "kit_chats"}), target=t)   # doctest: +SKIP
    """
    if (operation_source or "").strip():
        return {"op": operation(operation_source, **(names or {})),
                "modes": None if modes in ("all", None) else modes}
    if (method or "").strip():
        return method_call(method, method_args)
    raise UsageError("neither an operation nor a method was given",
                     fix="set operation = \"c.table('chats').select('*').execute()\" or "
                         "method = \"package.module:Class.method\"")
