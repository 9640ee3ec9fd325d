"""Rendered SELECTs, reused across requests of the same shape (pure apart from its dict).

A request's *shape* is the parsed request with every value replaced by a numbered ``Slot``:
``?select=*&id=eq.7`` and ``?select=*&id=eq.8`` share one shape, so the SQL is built and
rendered once and later requests only bind their values (still as parameters):

    cache = ReadCache()
    statement = cache.statement(key_parts, request, lambda shape: read_statement(table, shape, ...))
    statement = cache.statement(key_parts, Shape.of(request), ...)   # a Shape made once, reused

A ``Shape`` is a request's shape and values, made once per distinct query string (the handlers
keep them beside the parsed query), with equal shapes shared, so a cache lookup hashes an int.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from psycopg import sql

from kit.stack.rest.grammar import Condition, EmbedOptions, Logic, Request
from kit.stack.rest.sql_builder import Statement


@dataclass(frozen=True)
class Slot:
    """Stands for the request's ``index``-th value while a shape's SQL is built."""

    index: int


def template(request: Request) -> tuple[Request, list[Any]]:
    """``(shape, values)``: the request with its values replaced by slots, and the values."""
    values: list[Any] = []

    def slot(value: Any) -> Any:
        if value is None:
            return None
        values.append(value)
        return Slot(len(values) - 1)

    def condition(cond: Condition) -> Condition:
        if isinstance(cond, Logic):
            return replace(cond, conditions=tuple(condition(c) for c in cond.conditions))
        if cond.operator == "is":  # is.null / is.true ... are SQL keywords, part of the shape
            return cond
        value = tuple(slot(v) for v in cond.value) if isinstance(cond.value, tuple) else slot(cond.value)
        return replace(cond, value=value)

    def options(opts: EmbedOptions) -> EmbedOptions:
        return replace(opts, where=tuple(condition(c) for c in opts.where),
                       limit=slot(opts.limit), offset=slot(opts.offset))

    shape = replace(request, where=tuple(condition(c) for c in request.where),
                    limit=slot(request.limit), offset=slot(request.offset),
                    embedded=tuple((label, options(o)) for label, o in request.embedded))
    return shape, values


class Shape:
    """A request, its shape and its values, ready to key the statement cache: equal shapes are
    one object (interned), hashed once."""

    __slots__ = ("_hash", "request", "shape", "values")
    _interned: ClassVar[dict[Request, Request]] = {}

    def __init__(self, request: Request) -> None:
        shape, values = template(request)
        if len(self._interned) >= 4096:
            self._interned.clear()
        self.request = request
        self.shape = self._interned.setdefault(shape, shape)
        self.values = values
        self._hash = hash(self.shape)

    @classmethod
    def of(cls, request: Request | Shape) -> Shape:
        return request if isinstance(request, Shape) else cls(request)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and (self.shape is other.shape or self.shape == other.shape)


class ReadCache:
    """Up to ``size`` rendered statements, least recently used dropped first."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._rendered: OrderedDict[Hashable, tuple[sql.SQL, dict[str, Any]]] = OrderedDict()

    def statement(self, key: tuple[Hashable, ...], request: Request | Shape,
                  build: Callable[[Request], Statement]) -> Statement:
        shaped = Shape.of(request)
        values = shaped.values
        full_key = (*key, shaped)
        rendered = self._rendered.get(full_key)
        if rendered is None:
            built = build(shaped.shape)
            rendered = (sql.SQL(built.query.as_string(None)), built.params)
            self._rendered[full_key] = rendered
            if len(self._rendered) > self.size:
                self._rendered.popitem(last=False)
        query, params = rendered
        return Statement(query, {name: values[v.index] if isinstance(v, Slot) else v
                                 for name, v in params.items()})
