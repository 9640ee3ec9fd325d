"""What a scenario expects of a user's own class, checked before anything runs.

    kit.scenarios.storage_download.interface            # displays the methods, signatures, checks
    kit.scenarios.storage_download.interface.check(MyService)
    InterfaceError: 'MyService' has no 'download_image'. Fix: add `async def download_image(self,
    storage_path: str) -> bytes` (sync or async) ...

A method may be sync or async (the kit awaits an async one and runs a sync one in a thread, as
a caller on an event loop should); it must accept the arguments the scenario passes.
"""

from __future__ import annotations

import html
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kit.errors import UsageError

__all__ = ["Interface", "InterfaceError", "Method"]


class InterfaceError(UsageError, AttributeError):
    """A user's class lacks a method the scenario calls, or it takes other arguments."""


@dataclass(frozen=True)
class Method:
    """One method the scenario calls: ``name``, its signature as text, and what is checked."""

    name: str
    signature: str  # "(self, storage_path: str) -> bytes"
    checked: str  # what the scenario's checks assert about it

    @property
    def required(self) -> list[str]:
        """The parameters the scenario always passes (those without a default), ``self`` aside."""
        inside = self.signature[self.signature.index("(") + 1: self.signature.rindex(")")]
        return [p.split(":")[0].strip() for p in inside.split(",")
                if p.strip() and "=" not in p and p.split(":")[0].strip() != "self"]


@dataclass(frozen=True)
class Interface:
    """The constructor and methods a scenario uses on ``implementation=``'s class."""

    scenario: str
    constructor: str  # "(supabase: Client | AsyncClient, reference_bucket: str = ..., ...)"
    methods: tuple[Method, ...]

    def check(self, cls: type, instance: Callable[[], Any] | None = None) -> type:
        """``cls`` if it has every method, callable with the scenario's arguments; else
        InterfaceError naming the first one missing or mismatched. A method missing on the
        class is looked for on ``instance()`` (a class may set methods in ``__init__``)."""
        built: list[Any] = []
        for method in self.methods:
            found = getattr(cls, method.name, None)
            hint = (f"add `def {method.name}{method.signature}` (sync or async) to {cls.__name__}; "
                    f"see kit.scenarios.{self.scenario}.interface")
            if not callable(found) and instance is not None:
                built = built or [instance()]
                found = getattr(built[0], method.name, None)
                if callable(found):
                    continue
            if not callable(found):
                raise InterfaceError(f"{cls.__name__!r} has no {method.name!r}", fix=hint)
            try:
                signature = inspect.signature(found)
            except (TypeError, ValueError):
                continue
            arguments = ["self", *method.required] if _is_plain_function(cls, method.name) else method.required
            try:
                signature.bind(*arguments)
            except TypeError as exc:
                shown = signature.replace(return_annotation=inspect.Signature.empty)
                raise InterfaceError(f"{cls.__name__}.{method.name}{shown} cannot take the "
                                     f"scenario's arguments ({', '.join(method.required)}): {exc}",
                                     fix=hint) from None
        return cls

    def __repr__(self) -> str:
        return f"<Interface {self.scenario}: {', '.join(m.name for m in self.methods)}>"

    def __str__(self) -> str:
        lines = [f"class YourService:  # for kit.scenarios.{self.scenario}",
                 f"    def __init__(self{', ' if self.constructor.strip('()') else ''}"
                 f"{self.constructor.strip('()')}): ..."]
        lines += [f"    [async] def {m.name}{m.signature}: ...   # {m.checked}" for m in self.methods]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        rows = "".join(f"<tr><td><code>{html.escape(m.name + m.signature)}</code></td>"
                       f"<td>{html.escape(m.checked)}</td></tr>" for m in self.methods)
        body = (f"<p>What <code>implementation=</code> must provide for <b>{self.scenario}</b>: "
                f"built with <code>YourService{html.escape(self.constructor)}</code> (the client "
                "it asks for by annotation; options it does not accept are left out); each "
                "method sync or async.</p><table><tr><th>method</th><th>checked</th></tr>"
                f"{rows}</table>")
        return {"text/plain": str(self), "text/html": body}


def _is_plain_function(cls: type, name: str) -> bool:
    return inspect.isfunction(inspect.getattr_static(cls, name, None))
