"""One registry shape for every pluggable part (papermill's ``PapermillEngines`` is the model).

    EXPLAINERS = Registry("explainer")
    @EXPLAINERS.register("rate_limited")
    def rate_limited(case): ...
    EXPLAINERS["rate_limited"]      # the function
    EXPLAINERS.get_or_fail("nope")  # UsageError: unknown explainer 'nope'. Fix: use one of: ...

A Registry is a read-only ``Mapping`` (insertion order kept) with ``add`` / ``register`` to
fill it. Names are unique unless ``replace=True`` is given; an unknown name raises
``UsageError`` listing the known ones. Used by explainers, the service-error catalogue,
diff modes and body renderers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from kit.errors import UsageError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Named parts of one kind: ``Registry("mode")``; ``add``, ``register``, ``get_or_fail``."""

    def __init__(self, kind: str, *, replace: bool = False) -> None:
        self.kind = kind
        self.replace = replace
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        """Add ``item`` as ``name``; a taken name raises UsageError (unless the registry replaces)."""
        if name in self._items and not self.replace:
            raise UsageError(f"a {self.kind} named {name!r} is already registered",
                             fix="pick another name or use the registered one")
        self._items[name] = item
        return item

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of ``add``: ``@REG.register("json")``."""
        def add(item: T) -> T:
            return self.add(name, item)
        return add

    def get_or_fail(self, name: str) -> T:
        """The part called ``name``; an unknown name raises UsageError listing the known ones."""
        try:
            return self._items[name]
        except KeyError:
            raise UsageError(f"unknown {self.kind} {name!r}",
                             fix=f"use one of: {', '.join(sorted(self._items))}") from None

    def __getitem__(self, name: str) -> T:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<Registry of {len(self)} {self.kind}s: {', '.join(self._items)}>"
