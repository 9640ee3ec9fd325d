"""Symbolic values of expressions, built while walking a module (see kit.scan.provenance).

    self.val(node)          # ("call", ("ref", "supabase.create_client", root))
    self.op_of(call)        # (client value, "execute", client text, call text, result type)
    self.annotation(ann)    # ("inst", type value), or what an ``Annotated`` alias provides

``ValueBuilder`` is mixed into kit.scan.walker.ModuleWalker, which supplies ``lookup``,
``facts``, ``type_aliases`` and the ``_ops`` memo.
"""

from __future__ import annotations

import ast
from typing import Any

from kit.scan import sdk

Value = Any  # a symbolic tuple or None; see kit.scan.provenance for the forms


def dotted_name(expr: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    elif isinstance(expr, ast.Call):
        parts.append(dotted_name(expr.func) + "(…)")
    else:
        parts.append("(…)")
    return ".".join(reversed(parts))


def terminal(expr: ast.expr) -> str:
    """The last name of a callee or decorator: ``app.get("/")`` → ``"get"``."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else ""


def plain_callee(expr: ast.expr) -> bool:
    """``f``, ``mod.f``, ``self.repo.get``: names and attributes only, no call inside."""
    while isinstance(expr, ast.Attribute):
        expr = expr.value
    return isinstance(expr, ast.Name)


_STAY_ON_LOOP = (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)


def thread_form(call: ast.Call) -> str:
    """How ``kit scan --fix`` moves a blocking call off the loop: ``"args"`` writes
    ``to_thread(f, *args)``, which still evaluates ``f`` and the arguments on the loop, so only
    when the callee is a plain name or attribute path and no argument calls anything
    (``helper(x)``, ``client.auth.sign_out()``); ``"lambda"`` writes
    ``to_thread(lambda: <the call>)`` otherwise (a builder chain such as
    ``sb.table("t").select("*").execute()``: a sync client's first ``table()`` builds its HTTP
    session, TLS context included). A call with ``await``, ``yield``, ``:=`` or a bare
    ``super()`` inside cannot move into a lambda: ``"args"``. ``"bare"`` is ``"args"`` for a
    call without arguments (``to_thread(f)``)."""
    inside = list(ast.walk(call))
    if any(isinstance(n, _STAY_ON_LOOP) or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                                            and n.func.id == "super" and not n.args)
           for n in inside):
        return "args"
    arguments = (*call.args, *(k.value for k in call.keywords))
    if plain_callee(call.func) and not any(isinstance(n, ast.Call)
                                           for a in arguments for n in ast.walk(a)):
        return "args" if arguments else "bare"
    return "lambda"


class ValueBuilder:
    """The expression side of the walker: symbolic values, annotations, supabase call chains."""

    facts: Any
    type_aliases: dict[str, Value]
    _ops: dict[int, tuple[Value, str, str, str, str] | None]

    def lookup(self, name: str) -> Value:
        raise NotImplementedError

    def val(self, e: ast.AST | None) -> Value:
        t = type(e)
        if t is ast.Name:
            return self.lookup(e.id)  # type: ignore[union-attr]
        if t is ast.Attribute:
            attribute: ast.Attribute = e  # type: ignore[assignment]
            if attribute.attr in sdk.OP_TERMINALS and (op := self.op_from(attribute)) is not None:
                return ("bound", op[0], op[1], op[3].removesuffix("(…)"))
            base = self.val(attribute.value)
            if attribute.attr == "execute" and isinstance(base, tuple) and base[0] == "builder":
                return ("bound", base[1], "execute", dotted_name(attribute))  # `q = sb.table(...)`; q.execute
            return ("getattr", base, attribute.attr) if base is not None else None
        if t is ast.Call:
            func = e.func  # type: ignore[union-attr]
            if type(func) is ast.Attribute and func.attr in sdk.OP_TERMINALS:
                op = self.op_of(e)  # type: ignore[arg-type]
                if op is not None:
                    return ("op", op[0], op[1], op[4])
            fv = self.val(func)
            return ("call", fv) if fv is not None else None
        if t is ast.Await:
            inner = self.val(e.value)  # type: ignore[union-attr]
            return ("await", inner) if inner is not None else None
        if t is ast.Lambda:
            return ("lambda", self.val(e.body))  # type: ignore[union-attr]
        if t is ast.NamedExpr:
            return self.val(e.value)  # type: ignore[union-attr]
        if t is ast.BoolOp:
            return ("either", *(self.val(v) for v in e.values))  # type: ignore[union-attr]
        if t is ast.IfExp:
            return ("either", self.val(e.body), self.val(e.orelse))  # type: ignore[union-attr]
        return None

    def annotation(self, e: ast.AST | None) -> Value:
        if e is None:
            return None
        if isinstance(e, ast.Name) and e.id in self.type_aliases:
            return self.type_aliases[e.id]
        if isinstance(e, ast.Constant) and isinstance(e.value, str):
            try:
                e = ast.parse(e.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(e, ast.Subscript):
            inner = e.slice.elts[0] if isinstance(e.slice, ast.Tuple) and e.slice.elts else e.slice
            return self.annotation(inner)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.BitOr):
            left = e.left
            if isinstance(left, ast.Constant) and left.value is None:
                return self.annotation(e.right)
            return self.annotation(left)
        value = self.val(e)
        return ("inst", value) if value is not None else None

    def builder_of(self, node: ast.expr) -> tuple[Value, str, str] | None:
        """(client value, client text, what) for an awaited PostgREST builder chain that does
        not end in a call of ``execute``: what is "builder" or "method" (``.execute``)."""
        names: list[str] = []
        cur: ast.expr = node
        last_called = isinstance(node, ast.Call)
        while True:
            if isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute):
                names.append(cur.func.attr)
                cur = cur.func.value
            elif isinstance(cur, ast.Attribute):
                names.append(cur.attr)
                cur = cur.value
            else:
                break
        names.reverse()
        if isinstance(node, ast.Call) and self.op_of(node) is not None:
            return None
        for i, name in enumerate(names):
            if name in ("storage", "auth", "functions"):
                return None
            if name in sdk.POSTGREST_ENTRIES and name != "postgrest":
                if names[-1] == "execute" and last_called:
                    return None
                client = self.val(cur)
                text = dotted_name(cur)
                for prefix in names[:i]:
                    client = ("getattr", client, prefix) if client is not None else None
                    text += f".{prefix}"
                what = "method" if names[-1] == "execute" else sdk.builder_name(names[i:])
                return (client, text, what) if client is not None else None
        return None

    def op_of(self, node: ast.Call) -> tuple[Value, str, str, str, str] | None:
        """(client value, op name, client text, call text, sync result type name) if it is a
        supabase I/O call."""
        key = id(node)
        if key not in self._ops:
            func = node.func
            self._ops[key] = self.op_from(func) if isinstance(func, ast.Attribute) else None
        return self._ops[key]

    def op_from(self, func: ast.Attribute) -> tuple[Value, str, str, str, str] | None:
        """``op_of`` for the callee of a call: ``sb.table("t").select("*").execute`` names
        the I/O that calling it makes (handed uncalled to ``to_thread``, it is a bound method)."""
        segments: list[tuple[str, bool]] = [(func.attr, True)]
        cur: ast.expr = func.value
        while True:
            if isinstance(cur, ast.Call) and isinstance(cur.func, ast.Attribute):
                segments.append((cur.func.attr, True))
                cur = cur.func.value
            elif isinstance(cur, ast.Attribute):
                segments.append((cur.attr, False))
                cur = cur.value
            else:
                break
        segments.reverse()
        names = [name for name, _ in segments]
        result = None
        for i, name in enumerate(names):
            if name in sdk.CLIENT_ENTRIES and (op := sdk.classify_op(names[i:])):
                value = self.val(cur)
                text = dotted_name(cur)
                for seg_name, called in segments[:i]:
                    value = ("getattr", value, seg_name) if value is not None else None
                    text += f".{seg_name}" + ("(…)" if called else "")
                    if called and value is not None:
                        value = ("call", value)
                tail = [f".{n}(…)" if called else f".{n}" for n, called in segments[i:]]
                if len(tail) > 3:
                    tail = [tail[0], "…", tail[-1]]
                result = (value, op, text, text + "".join(tail), sdk.result_name(op, names[i:]))
                break
        return result

    def _annotated_alias(self, node: ast.Subscript) -> Value:
        """``DB = Annotated[Client, Depends(get_db)]``: what a parameter annotated DB holds."""
        if terminal(node.value) != "Annotated" or not isinstance(node.slice, ast.Tuple):
            return None
        parts: list[Value] = [self.annotation(node.slice.elts[0])]
        for meta in node.slice.elts[1:]:
            if isinstance(meta, ast.Call) and terminal(meta.func) in sdk.PROVIDERS and meta.args:
                provider = self.val(meta.args[0])
                self.facts.providers.append(provider)
                parts.append(("provided", provider))
        return ("either", *parts) if len(parts) > 1 else None
