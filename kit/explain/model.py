"""What ``kit.explain`` returns: a cause, the evidence that proves it, a fix, a confidence.

Confidence is not a feeling: it is set by the most specific evidence a rule matched
(``CONFIDENCE``), the same scale for every rule:

==========  =====  ===========================================================================
code        0.95   a service's own error code read from a structured field (APIError.code,
                   StorageApiError.code, AuthApiError.code, a JSON error body) and found in the
                   catalogue
signature   0.9    an exception type with the SDK's exact message or the frame it was raised in
                   (``object X can't be used in 'await' expression`` raised in supabase_auth)
transport   0.85   an httpx transport error naming what failed (ConnectError + URL, ReadTimeout
                   + the configured timeout, Errno 24)
shape       0.75   a response's shape without a service code (an HTML page with its status and
                   title, 429 + Retry-After, a storage download served as text/plain)
circumstance 0.6   facts consistent with the cause that do not prove it (an empty list for
                   the anon role under RLS may also be no matching rows)
weak        0.5    a single loose signal (a Content-Type that does not match the bytes)
context     0.4    a service error in the captured exchanges while the exception given is
                   something else (an earlier request's error, or one the client handled)
unlisted    0.3    a service code the catalogue does not hold: the service and code are known,
                   the meaning is not
none        0.0    nothing matched: "not recognised", with the facts and where to look
==========  =====  ===========================================================================

A rule that reads the same evidence as another plus something more specific (the doubled
``/rest/v1`` in a path beside the PGRST205 it caused) adds ``MORE_SPECIFIC`` to outrank it.
"""

from __future__ import annotations

import html
import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.render.markup import details, esc, wrap

if TYPE_CHECKING:
    from kit.capture import Exchange
    from kit.explain.evidence import SameExchange

__all__ = ["CONFIDENCE", "MORE_SPECIFIC", "NOTEBOOKS", "Evidence", "Explanation", "Fix", "installed_versions"]

NOTEBOOKS = {
    "start": "notebooks/00_start_here.ipynb",
    "storage": "notebooks/01_storage_download.ipynb",
    "memory": "notebooks/02_memory_queue.ipynb",
    "llm": "notebooks/03_llm_logging.ipynb",
}
CONFIDENCE = {"code": 0.95, "signature": 0.9, "transport": 0.85, "shape": 0.75,
              "circumstance": 0.6, "weak": 0.5, "context": 0.4, "unlisted": 0.3, "none": 0.0}
MORE_SPECIFIC = 0.02
KIT_REPO = Path(__file__).resolve().parents[2]  # the checkout NOTEBOOKS' paths are relative to


def notebook_path(notebook: str | None) -> str | None:
    """A ``NOTEBOOKS`` path as an absolute path in the kit's repository, or None when the file
    is not there (an installed kit ships no notebooks): a relative path would not resolve
    from the user's folder."""
    found = KIT_REPO / notebook if notebook else None
    return str(found) if found is not None and found.is_file() else None
_PACKAGES = ("supabase", "postgrest", "storage3", "supabase_auth", "supabase_functions", "httpx")


def installed_versions() -> dict[str, str]:
    """``{"supabase": "2.34.1", "postgrest": "2.34.1", ...}`` from importlib.metadata."""
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@dataclass(frozen=True)
class Fix:
    """Code before and after, and a sentence on why the after is right."""

    before: str
    after: str
    note: str = ""


@dataclass(frozen=True, repr=False)
class Evidence:
    """The lines (masked text) and exchanges that prove a cause."""

    lines: tuple[str, ...] = ()
    exchanges: tuple[Exchange, ...] = ()

    def __repr__(self) -> str:
        return f"<Evidence {len(self.lines)} lines, {len(self.exchanges)} exchanges>"


@dataclass(frozen=True, repr=False)
class Explanation:
    """A diagnosis: ``e.cause``, ``e.evidence``, ``e.fix``, ``e.confidence`` (0–1), ``e.notebook``
    (in the kit's repository; ``e.walkthrough`` is its absolute path, None when it is absent).

    ``e.alternatives`` holds the other matching explanations, best first.
    """

    explainer: str
    title: str
    cause: str
    evidence: Evidence = field(default_factory=Evidence)
    fix: Fix | None = None
    confidence: float = 0.0
    notebook: str | None = None
    alternatives: tuple[Explanation, ...] = ()
    docs: str | None = None  # the service's documentation page for the matched code
    versions: dict[str, str] = field(default_factory=installed_versions, compare=False)

    @property
    def recognised(self) -> bool:
        return self.explainer != "not_recognised"

    @property
    def ranked(self) -> tuple[Explanation, ...]:
        """This explanation and its alternatives, best first."""
        return (self, *self.alternatives)

    @property
    def confidence_label(self) -> str:
        return "high" if self.confidence >= 0.8 else "medium" if self.confidence >= 0.5 else "low"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (masked) form for reports."""
        from kit.secrets import mask_text

        return {"explainer": self.explainer, "title": self.title, "cause": self.cause,
                "evidence": [mask_text(line) for line in self.evidence.lines],
                "exchanges": [same.line() for same in self._same_exchanges()],
                "fix": None if self.fix is None else {"before": self.fix.before,
                                                      "after": self.fix.after,
                                                      "note": self.fix.note},
                "confidence": self.confidence, "notebook": self.notebook,
                "walkthrough": self.walkthrough,
                "versions": self.versions, "docs": self.docs,
                "alternatives": [a.explainer for a in self.alternatives]}

    @property
    def walkthrough(self) -> str | None:
        """The absolute path of ``notebook`` in the kit's repository; None when it is not there."""
        return notebook_path(self.notebook)

    def __repr__(self) -> str:
        others = f", {len(self.alternatives)} alternatives" if self.alternatives else ""
        return (f"<Explanation {self.explainer} ({self.confidence_label} {self.confidence:.2f})"
                f": {self.title}{others}>")

    def text(self) -> str:
        """Plain-text form, for terminals and logs (masked): cause, evidence, fix, versions."""
        from kit.secrets import mask_text

        lines = [f"{self.title}  [{self.explainer}, confidence {self.confidence:.2f}]",
                 "", self.cause, "", "evidence:"]
        lines += [f"  {mask_text(line)}" for line in self.evidence.lines]
        lines += [f"  exchange: {same.line()}" for same in self._same_exchanges()]
        lines.append("  installed: " + ", ".join(f"{k} {v}" for k, v in self.versions.items()))
        if self.fix:
            lines += ["", f"fix: {self.fix.note}"]
            if self.fix.before:
                lines += ["before:", _indent(self.fix.before)]
            if self.fix.after:
                lines += ["after:" if self.fix.before else "code:", _indent(self.fix.after)]
        if self.docs:
            lines += ["", f"docs: {self.docs}"]
        if self.walkthrough:
            lines += [f"walkthrough: {self.walkthrough}"]
        lines += [f"also possible: {a.title} [{a.explainer}, {a.confidence:.2f}]"
                  for a in self.alternatives]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _same_exchanges(self) -> list[SameExchange]:
        """One entry per request, however many diff modes made it identically."""
        from kit.explain.evidence import same_exchanges

        return same_exchanges(self.evidence.exchanges)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text(), "text/html": wrap(self._html())}

    def _html(self) -> str:
        from kit.render.exchange import render_exchange

        badge = "kit-ok" if self.recognised else "kit-bad"
        parts = [f"<h3>{esc(self.title)}</h3>",
                 (f"<div class='{badge}'><code>{esc(self.explainer)}</code> · confidence "
                 f"{self.confidence_label} ({self.confidence:.2f})</div><p>{esc(self.cause)}</p>")]
        if self.evidence.lines:
            items = "".join(f"<li><code>{esc(line)}</code></li>" for line in self.evidence.lines)
            parts.append(f"<b>Evidence</b><ul>{items}</ul>")
        for same in self._same_exchanges()[:10]:
            parts.append(details(esc(same.line(), same.first.secrets),
                                 render_exchange(same.first, standalone=False)))
        if self.fix:
            parts.append(f"<b>Fix</b><p>{esc(self.fix.note)}</p>")
            if self.fix.before:
                parts.append(f"<div>before</div><pre>{esc(self.fix.before)}</pre>")
            if self.fix.after:
                parts.append(f"<div>{'after' if self.fix.before else 'code'}</div>"
                             f"<pre>{esc(self.fix.after)}</pre>")
        if self.docs:
            parts.append(f"<p>Documentation: <a href='{html.escape(self.docs)}'>"
                         f"{html.escape(self.docs)}</a></p>")
        if self.walkthrough:
            parts.append(f"<p>Walk through it in <code>{esc(self.walkthrough)}</code></p>")
        versions = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        parts.append(f"<div style='color:#666'>installed: {esc(versions)}</div>")
        if self.alternatives:
            rows = "".join(f"<li>{esc(a.title)} <code>{esc(a.explainer)}</code> "
                           f"({a.confidence:.2f})</li>" for a in self.alternatives)
            parts.append(f"<b>Also possible</b><ol>{rows}</ol>")
            parts += [details(esc(a.title), a._html()) for a in self.alternatives]
        return "".join(parts)


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.splitlines())
