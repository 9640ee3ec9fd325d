"""The single AST pass over one module: provenance facts and the events rules look at.

    facts = walk_module(tree, modid="app/db.py", parts=("app", "db"))
    facts.globals["supabase"]   # [("call", ("ref", "supabase.create_client"))]
    facts.events                # [Event("op", line=12, op="storage.download", ...)]

Values are symbolic (tuples, see kit.scan.provenance): they are resolved after every file
has been walked, so a client made by a helper in another file, or below its use, is known.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kit.scan import sdk
from kit.scan.values import Value, ValueBuilder, dotted_name, plain_callee, thread_form
from kit.scan.values import terminal as terminal_name

# Usage contexts: how the value of a call is used by its parent.
USE, EXPR, AWAIT, ARG, RETURN, LAMBDA, EXECUTOR_ARG, STORED, STORED_SELF, WITH = (
    "use", "expr", "await", "arg", "return", "lambda", "executor_arg", "stored", "stored_self",
    "with")


@dataclass(slots=True)
class Event:
    """Something a rule may report, with the symbolic values it needs."""

    type: str  # "op" | "await" | "libcall" | "async_def" | "call" (a call of anything else)
    line: int
    col: int
    text: str  # short source text naming the call
    value: Value = None  # op: the client; await: the awaited value; libcall: the callee
    op: str = ""  # op: "execute", "storage.download"...; libcall: the terminal name
    in_async: bool = False  # innermost function is an async def
    func: str = ""  # name of the innermost function
    usage: str = USE  # USE, EXPR, AWAIT, ARG, RETURN, LAMBDA, EXECUTOR_ARG, "pending", "consumed"
    client_text: str = ""  # op: the client expression, "self.supabase"
    call_text: str = ""  # op: the whole call, "self.supabase.storage.from_(…).download(…)"
    args: tuple[Value, ...] = ()
    keywords: dict[str, Value] = field(default_factory=dict)
    ops: list[Event] = field(default_factory=list)  # async_def: op events directly inside
    has_await: bool = False
    end: tuple[int, int] = (0, 0)  # (end line, end col) of the node: 1-based line, 0-based col
    owner: str = ""  # qualified name of the innermost function ("" at module level)
    starred: bool = False  # call: a *args / **kwargs hides positions and names
    thread_form: str = ""  # op/call inside async def: how --fix moves it off the loop (values.thread_form)
    arg_texts: tuple[str, ...] = ()  # to_thread & co: how each positional argument is spelled


@dataclass(slots=True)
class FuncFacts:
    name: str
    is_async: bool
    line: int
    ann: Value = None
    returns: list[Value] = field(default_factory=list)
    params: tuple[str, ...] = ()  # positional parameters in order (self included)
    decorators: tuple[str, ...] = ()  # terminal names: "get", "route", "lru_cache"
    ops: list[Event] = field(default_factory=list)  # supabase I/O calls directly inside
    calls: list[Event] = field(default_factory=list)  # other calls directly inside
    factories: list[Event] = field(default_factory=list)  # create_client(...) and kin
    closed: set[str] = field(default_factory=set)  # `x` of `x.close()`, `x.aclose()`, `with x`
    cached_names: set[str] = field(default_factory=set)  # `global` / `nonlocal` names


@dataclass(slots=True)
class ClassFacts:
    name: str
    bases: list[Value] = field(default_factory=list)
    attrs: dict[str, list[Value]] = field(default_factory=dict)


@dataclass(slots=True)
class ModuleFacts:
    modid: str
    parts: tuple[str, ...]
    is_notebook: bool = False
    globals: dict[str, list[Value]] = field(default_factory=dict)
    functions: dict[str, FuncFacts] = field(default_factory=dict)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # attribute stores on anything but ``self``: ("state", "supabase") for
    # ``app.state.supabase = ...``; read back through any object ending the same way
    stores: dict[tuple[str, str], list[Value]] = field(default_factory=dict)
    display: str = ""  # the path as findings name it
    root: str = ""  # the import root: ``parts`` is the module's dotted name below it
    providers: list[Value] = field(default_factory=list)  # ``Depends(x)``: the x values


class _Scope:
    __slots__ = ("cls", "func", "has_await", "is_async", "kind", "locals", "name", "ops",
                 "pending", "qual", "self_name")

    def __init__(self, kind: str, qual: str, name: str, *, is_async: bool = False) -> None:
        self.kind, self.qual, self.name, self.is_async = kind, qual, name, is_async
        self.locals: dict[str, Value] = {}
        self.cls: str = ""
        self.self_name: str = ""
        self.func: FuncFacts | None = None
        self.has_await = False
        self.ops: list[Event] = []
        self.pending: dict[str, list[Event]] = {}


_FIELDS: dict[type, tuple[str, ...]] = {}
_VALUED = (ast.Call, ast.Await, ast.Name, ast.Attribute, ast.Lambda, ast.BoolOp, ast.IfExp,
           ast.NamedExpr)
_CLOSERS = frozenset({"close", "aclose", "sign_out"})
_LEAVES = (ast.Name, ast.Constant, ast.expr_context, ast.Pass, ast.Break, ast.Continue,
           ast.operator, ast.cmpop, ast.unaryop, ast.boolop, ast.alias)


class ModuleWalker(ValueBuilder):
    """Walks one module once, collecting ModuleFacts."""

    def __init__(self, modid: str, parts: tuple[str, ...], *, is_notebook: bool = False) -> None:
        self.facts = ModuleFacts(modid, parts, is_notebook)
        self.modid = modid
        self.aliases: dict[str, str] = {}  # local name -> library callable it is bound to
        self.type_aliases: dict[str, Value] = {}  # ``DB = Annotated[Client, Depends(...)]``
        self.scopes = [_Scope("module", "", "<module>")]
        self._ops: dict[int, tuple[Value, str, str, str, str] | None] = {}
        self._dispatch: dict[type, Callable[[Any, Any], None]] = {
            ast.Expr: self._expr, ast.Assign: self._assign, ast.AnnAssign: self._annassign,
            ast.Return: self._return, ast.Import: self._import, ast.ImportFrom: self._importfrom,
            ast.FunctionDef: self._function, ast.AsyncFunctionDef: self._function,
            ast.Lambda: self._lambda, ast.ClassDef: self._class, ast.Await: self._await,
            ast.AsyncFor: self._async_stmt, ast.AsyncWith: self._with, ast.With: self._with,
            ast.Call: self._call, ast.List: self._container, ast.Tuple: self._container,
            ast.Set: self._container, ast.Starred: self._container,
            ast.ListComp: self._comprehension, ast.SetComp: self._comprehension,
            ast.GeneratorExp: self._comprehension, ast.Yield: self._yield,
            ast.YieldFrom: self._yield, ast.comprehension: self._comprehension_clause,
            ast.Global: self._global, ast.Nonlocal: self._global, ast.NamedExpr: self._named,
        }

    # -- traversal -------------------------------------------------------------------------
    def walk(self, tree: ast.Module) -> ModuleFacts:
        for stmt in tree.body:
            self.visit(stmt)
        return self.facts

    def visit(self, node: ast.AST, ctx: Any = USE) -> None:
        handler = self._dispatch.get(type(node))
        if handler is not None:
            handler(node, ctx)
        elif not isinstance(node, _LEAVES):
            self.generic(node)

    def generic(self, node: ast.AST) -> None:
        cls = type(node)
        fields = _FIELDS.get(cls)
        if fields is None:
            fields = _FIELDS[cls] = tuple(f for f in cls._fields if f != "ctx")
        for name in fields:
            child = getattr(node, name, None)
            if isinstance(child, list):
                for item in child:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(child, ast.AST):
                self.visit(child)

    @property
    def scope(self) -> _Scope:
        return self.scopes[-1]

    def _function_scope(self) -> _Scope:
        for scope in reversed(self.scopes):
            if scope.kind in ("function", "lambda", "module"):
                return scope
        return self.scopes[0]

    # -- values ----------------------------------------------------------------------------
    def lookup(self, name: str) -> Value:
        current = self.scopes[-1]
        for scope in reversed(self.scopes):
            if scope.kind == "class" and scope is not current:
                continue
            if scope.kind == "module" and current.kind != "module" and current.kind != "class":
                break  # functions see module names as they are at call time: deferred
            if name in scope.locals:
                return scope.locals[name]
        return ("global", self.modid, name)

    def bind(self, name: str, value: Value) -> None:
        scope = self.scopes[-1]
        scope.locals[name] = value
        if scope.kind == "module":
            self.facts.globals.setdefault(name, []).append(value)
        elif scope.kind == "class":
            self.facts.classes[scope.qual].attrs.setdefault(name, []).append(value)

    # -- statements ------------------------------------------------------------------------
    def _expr(self, node: ast.Expr, ctx: Any) -> None:
        self.visit(node.value, EXPR)

    def _assign(self, node: ast.Assign, ctx: Any) -> None:
        targets = node.targets
        single = targets[0] if len(targets) == 1 and isinstance(targets[0], ast.Name) else None
        stored = all(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets)
        if stored and any(self._dies_with_call(t) for t in targets):
            stored = False  # `request.state.x = ...`: kept only as long as the request
        if stored and all(self._on_self(t) for t in targets):
            stored_ctx = STORED_SELF  # per instance: per request if the instance is
        else:
            stored_ctx = STORED if stored else ARG
        self.visit(node.value, ("assign", single.id) if single is not None else stored_ctx)
        value = self.val(node.value) if isinstance(node.value, _VALUED) else None
        if single is not None and isinstance(node.value, ast.Subscript):
            alias = self._annotated_alias(node.value)
            if alias is not None:
                self.type_aliases[single.id] = alias
        elif single is not None and isinstance(node.value, ast.Call) and value is not None:
            builder = self.builder_of(node.value)
            if builder is not None:
                value = ("builder", *builder)
        for target in targets:
            self._store(target, value)

    def _on_self(self, target: ast.expr) -> bool:
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        name = self._function_scope().self_name
        return isinstance(target, ast.Name) and bool(name) and target.id == name

    def _dies_with_call(self, target: ast.expr) -> bool:
        """A store on an attribute of a parameter or local (not ``self``, not a global)."""
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        scope = self._function_scope()
        return (isinstance(target, ast.Name) and scope.kind == "function"
                and target.id in scope.locals and target.id != scope.self_name)

    def _annassign(self, node: ast.AnnAssign, ctx: Any) -> None:
        if node.value is not None:
            simple = isinstance(node.target, ast.Name)
            self.visit(node.value, ("assign", node.target.id) if simple else ARG)  # type: ignore[union-attr]
        value = self.annotation(node.annotation) or self.val(node.value)
        self._store(node.target, value)

    def _store(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, ast.Attribute):
            owner = target.value
            scope = self._function_scope()
            if isinstance(owner, ast.Name) and scope.self_name and owner.id == scope.self_name:
                attrs = self.facts.classes[scope.cls].attrs
                attrs.setdefault(target.attr, []).append(value)
            else:
                last = owner.attr if isinstance(owner, ast.Attribute) else (
                    owner.id if isinstance(owner, ast.Name) else "")
                if last and value is not None:
                    self.facts.stores.setdefault((last, target.attr), []).append(value)
                self.visit(owner)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._store(element, None)
        else:
            self.visit(target)

    def _return(self, node: ast.Return, ctx: Any) -> None:
        if node.value is None:
            return
        scope = self._function_scope()
        self._consume(node.value)
        self.visit(node.value, RETURN)
        if scope.func is not None:
            scope.func.returns.append(self.val(node.value))

    def _yield(self, node: ast.Yield | ast.YieldFrom, ctx: Any) -> None:
        if node.value is not None:
            self._consume(node.value)
            self.visit(node.value, ARG)
            scope = self._function_scope()
            if scope.func is not None and isinstance(node, ast.Yield):
                scope.func.returns.append(self.val(node.value))  # a provider yields its value

    def _import(self, node: ast.Import, ctx: Any) -> None:
        for alias in node.names:
            if alias.asname:
                self._bind_import(alias.asname, alias.name)
            else:
                head = alias.name.split(".", 1)[0]
                self.bind(head, ("ref", head, self.facts.root))

    def _importfrom(self, node: ast.ImportFrom, ctx: Any) -> None:
        module = node.module or ""
        if node.level:
            base = self.facts.parts[:-1]
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, module] if module else base)
        for alias in node.names:
            if alias.name != "*":
                self._bind_import(alias.asname or alias.name, f"{module}.{alias.name}")

    def _bind_import(self, local: str, dotted: str) -> None:
        self.bind(local, ("ref", dotted, self.facts.root))
        if dotted in sdk.LIBRARY:
            self.aliases[local] = dotted

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: Any) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        parent = self.scope
        qual = f"{parent.qual}.{node.name}" if parent.qual else node.name
        is_async = isinstance(node, ast.AsyncFunctionDef)
        positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        facts = FuncFacts(node.name, is_async, node.lineno, ann=self.annotation(node.returns),
                          params=tuple(positional),
                          decorators=tuple(terminal_name(d) for d in node.decorator_list))
        self.facts.functions[qual] = facts
        self.bind(node.name, ("def", self.modid, qual))
        scope = _Scope("function", qual, node.name, is_async=is_async)
        scope.func = facts
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        provided = self._providers(node)
        if parent.kind == "class":
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod"
                         for d in node.decorator_list)
            if params and not static:
                scope.self_name, scope.cls = params[0].arg, parent.qual
                scope.locals[params[0].arg] = ("self", self.modid, parent.qual)
                params = params[1:]
        else:
            fscope = self._function_scope()
            scope.self_name, scope.cls = fscope.self_name, fscope.cls
        for param in params:
            ann = self.annotation(param.annotation)
            value: Value = ("param", self.modid, qual, param.arg)
            if param.arg in provided:
                value = ("either", ann, provided[param.arg], value)
            scope.locals[param.arg] = value if ann is None or param.arg in provided else ann
        for star in (node.args.vararg, node.args.kwarg):
            if star is not None:
                scope.locals[star.arg] = ("hint", star.arg)
        self.scopes.append(scope)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()
        if is_async and scope.ops:
            self.facts.events.append(Event(
                "async_def", node.lineno, node.col_offset + 1, f"async def {node.name}",
                func=node.name, ops=scope.ops, has_await=scope.has_await, in_async=True))

    def _providers(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Value]:
        """Parameters filled by a dependency provider: ``db=Depends(get_db)`` or
        ``db: Annotated[X, Depends(get_db)]`` (FastAPI calls the provider per request)."""
        found: dict[str, Value] = {}
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        pairs = [*zip(positional[len(positional) - len(args.defaults):], args.defaults),
                 *zip(args.kwonlyargs, args.kw_defaults)]
        for arg in (*positional, *args.kwonlyargs):
            ann = arg.annotation
            if isinstance(ann, ast.Subscript) and isinstance(ann.slice, ast.Tuple):
                pairs.extend((arg, meta) for meta in ann.slice.elts[1:])
        for arg, default in pairs:
            if (isinstance(default, ast.Call) and terminal_name(default.func) in sdk.PROVIDERS
                    and default.args):
                provider = self.val(default.args[0])
                self.facts.providers.append(provider)
                found[arg.arg] = ("provided", provider)
        return found

    def _lambda(self, node: ast.Lambda, ctx: Any) -> None:
        scope = _Scope("lambda", self.scope.qual, "<lambda>")
        fscope = self._function_scope()
        scope.self_name, scope.cls = fscope.self_name, fscope.cls
        for arg in node.args.args:
            scope.locals[arg.arg] = ("hint", arg.arg)
        self.scopes.append(scope)
        self.visit(node.body, LAMBDA)
        self.scopes.pop()

    def _class(self, node: ast.ClassDef, ctx: Any) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        parent = self.scope
        qual = f"{parent.qual}.{node.name}" if parent.qual else node.name
        self.facts.classes[qual] = ClassFacts(node.name, [self.val(b) for b in node.bases])
        self.bind(node.name, ("def", self.modid, qual))
        self.scopes.append(_Scope("class", qual, node.name))
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    def _named(self, node: ast.NamedExpr, ctx: Any) -> None:
        self.visit(node.value, ("assign", node.target.id))
        self.bind(node.target.id, self.val(node.value))

    def _global(self, node: ast.Global | ast.Nonlocal, ctx: Any) -> None:
        func = self._function_scope().func
        if func is not None:
            func.cached_names.update(node.names)

    def _async_stmt(self, node: ast.AST, ctx: Any) -> None:
        self._function_scope().has_await = True
        self.generic(node)

    def _with(self, node: ast.With | ast.AsyncWith, ctx: Any) -> None:
        if isinstance(node, ast.AsyncWith):
            self._function_scope().has_await = True
        func = self._function_scope().func
        for item in node.items:
            if func is not None and isinstance(item.context_expr, (ast.Name, ast.Attribute)):
                func.closed.add(dotted_name(item.context_expr))
            self.visit(item.context_expr, WITH)
            if isinstance(item.optional_vars, ast.Name):
                self.bind(item.optional_vars.id, self.val(item.context_expr))
        for stmt in node.body:
            self.visit(stmt)

    # -- expressions -----------------------------------------------------------------------
    def _consume(self, node: ast.AST) -> None:
        if isinstance(node, ast.Starred):
            node = node.value
        if isinstance(node, ast.Name):
            for event in self._function_scope().pending.pop(node.id, ()):
                event.usage = "consumed"

    def _container(self, node: ast.AST, ctx: Any) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child, ctx)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp, ctx: Any) -> None:
        for generator in node.generators:
            self.visit(generator)
        self.visit(node.elt, ctx)

    def _comprehension_clause(self, node: ast.comprehension, ctx: Any) -> None:
        if node.is_async:
            self._function_scope().has_await = True
        self.generic(node)

    def _await(self, node: ast.Await, ctx: Any) -> None:
        scope = self._function_scope()
        scope.has_await = True
        self._consume(node.value)
        if isinstance(node.value, (ast.Call, ast.Name, ast.Attribute)):
            event = Event("await", node.lineno, node.col_offset + 1, dotted_name(node.value),
                          value=self.val(node.value), in_async=scope.is_async, func=scope.name,
                          end=(node.end_lineno or node.lineno, node.end_col_offset or 0))
            builder = self.builder_of(node.value)
            bound = self.val(node.value) if isinstance(node.value, ast.Name) else None
            if isinstance(bound, tuple) and bound[0] == "builder":  # `q = c.table(..)...; await q`
                builder = bound[1:]
            if builder is not None:  # `await client.table(...).select(...)`: no .execute()
                event.value, event.client_text, event.op = builder
            self.facts.events.append(event)
        self.visit(node.value, AWAIT)

    def _event(self, kind: str, node: ast.Call, scope: _Scope, text: str, **fields: Any) -> Event:
        return Event(kind, node.lineno, node.col_offset + 1, text, in_async=scope.is_async,
                     func=scope.name, owner=scope.qual if scope.kind != "module" else "",
                     end=(node.end_lineno or node.lineno, node.end_col_offset or 0),
                     thread_form=thread_form(node) if scope.is_async else "", **fields)

    def _call(self, node: ast.Call, ctx: Any) -> None:
        func = node.func
        terminal = terminal_name(func)
        scope = self._function_scope()
        owner = scope.func
        arg_ctx = ARG
        if terminal in sdk.OP_TERMINALS and (op := self.op_of(node)) is not None:
            event = self._event("op", node, scope, dotted_name(func) + "(…)", value=op[0], op=op[1],
                                client_text=op[2], call_text=op[3])
            self._record_usage(event, ctx, scope)
            scope.ops.append(event)
            if owner is not None:
                owner.ops.append(event)
                if terminal in _CLOSERS:
                    owner.closed.add(op[2])
            self.facts.events.append(event)
        elif terminal in sdk.LIBCALL_TERMINALS or terminal in self.aliases:
            event = self._event("libcall", node, scope, dotted_name(func), value=self.val(func),
                                op=terminal)
            self._arguments(event, node)
            if terminal in sdk.EXECUTOR_TERMINALS or self.aliases.get(terminal) in sdk.TO_THREAD:
                arg_ctx = EXECUTOR_ARG
                event.arg_texts = tuple(dotted_name(a) for a in node.args)
            self._record_usage(event, ctx, scope)
            if isinstance(ctx, tuple):
                event.client_text = ctx[1]  # the name the result is bound to
            if owner is not None:
                if terminal in sdk.FACTORY_TERMINALS or terminal in self.aliases:
                    owner.factories.append(event)
                if plain_callee(func):
                    owner.calls.append(event)  # a user function may be called `run` too
            self.facts.events.append(event)
        elif plain_callee(func) and terminal not in sdk.CLIENT_ENTRIES:
            if terminal in _CLOSERS and owner is not None and isinstance(func, ast.Attribute):
                owner.closed.add(dotted_name(func.value))
            event = self._event("call", node, scope, dotted_name(func), value=self.val(func))
            self._arguments(event, node)
            self._record_usage(event, ctx, scope)
            if owner is not None:
                owner.calls.append(event)
            self.facts.events.append(event)
        self.visit(func)
        looks_only = isinstance(func, ast.Name) and func.id in sdk.NON_CONSUMING
        if looks_only:
            arg_ctx = USE
        for arg in node.args:
            if not looks_only:
                self._consume(arg)
            self.visit(arg, arg_ctx)
        for keyword in node.keywords:
            if not looks_only:
                self._consume(keyword.value)
            self.visit(keyword.value, USE if looks_only else ARG)

    def _arguments(self, event: Event, node: ast.Call) -> None:
        event.args = tuple(None if isinstance(a, ast.Starred) else self.val(a) for a in node.args)
        event.starred = any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords)
        for keyword in node.keywords:
            if keyword.arg:
                event.keywords[keyword.arg] = self.val(keyword.value)

    def _record_usage(self, event: Event, ctx: Any, scope: _Scope) -> None:
        if isinstance(ctx, tuple):  # ("assign", name): is the name awaited later?
            event.usage = "pending"
            scope.pending.setdefault(ctx[1], []).append(event)
        elif ctx == RETURN and scope.is_async:
            event.usage = "return_async"
        else:
            event.usage = ctx


def walk_module(tree: ast.Module, modid: str, parts: tuple[str, ...], *,
                is_notebook: bool = False, root: str = "", display: str = "") -> ModuleFacts:
    """Walk a parsed module once; see the module docstring."""
    walker = ModuleWalker(modid, parts, is_notebook=is_notebook)
    walker.facts.root, walker.facts.display = root, display or modid
    return walker.walk(tree)
