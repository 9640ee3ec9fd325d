"""Output formats of a scan, on a registry: text, json, sarif (2.1.0), html. Pure functions.

    render(result, "sarif")     # a SARIF 2.1.0 log as a JSON string
    FORMATS.names               # ['text', 'json', 'sarif', 'html']
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kit.errors import UsageError
from kit.scan.model import RULES

if TYPE_CHECKING:
    from kit.scan.result import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "kit-scan"
TOOL_URI = "notebooks/00_start_here.ipynb"


class UnknownFormat(UsageError):
    """An output format name that is not registered."""


class FormatRegistry:
    def __init__(self) -> None:
        self._renderers: dict[str, Callable[[ScanResult], str]] = {}

    def register(self, name: str) -> Callable[[Callable[[ScanResult], str]],
                                              Callable[[ScanResult], str]]:
        def add(renderer: Callable[[ScanResult], str]) -> Callable[[ScanResult], str]:
            self._renderers[name] = renderer
            return renderer
        return add

    def __getitem__(self, name: str) -> Callable[[ScanResult], str]:
        try:
            return self._renderers[name]
        except KeyError:
            raise UnknownFormat(f"unknown format {name!r}",
                                fix=f"use one of {', '.join(self._renderers)}") from None

    @property
    def names(self) -> list[str]:
        return list(self._renderers)


FORMATS = FormatRegistry()


def render(result: ScanResult, name: str = "text") -> str:
    """The result in one of FORMATS: ``render(result, "json")``."""
    return FORMATS[name](result)


def summary_line(result: ScanResult) -> str:
    files = f"{result.files_scanned} file{'s' * (result.files_scanned != 1)} scanned"
    found = f"{len(result.findings)} finding{'s' * (len(result.findings) != 1)}"
    counts = ", ".join(f"{code}×{n}" for code, n in result.counts.items())
    errors = f", {len(result.problems)} could not be parsed" if result.problems else ""
    return f"{found}{f' ({counts})' if counts else ''} in {files}{errors}"


@FORMATS.register("text")
def render_text(result: ScanResult) -> str:
    out = []
    for f in result.findings:
        low = " [low confidence: client kind guessed from its name]" if f.confidence == "low" else ""
        out.append(f"{f.location} {f.code} {f.message}{low}. Fix: {f.fix}")
    for p in result.problems:
        out.append(f"{p.location} error: cannot parse: {p.message} (the scan went on without it)")
    out.append(summary_line(result))
    return "\n".join(out)


@FORMATS.register("json")
def render_json(result: ScanResult) -> str:
    return json.dumps({"files_scanned": result.files_scanned, "rules": result.codes,
                       "findings": [f.to_dict() for f in result.findings],
                       "errors": [p.to_dict() for p in result.problems]}, indent=2)


def _sarif_rule(code: str) -> dict[str, Any]:
    rule = RULES[code]
    return {"id": rule.code, "name": rule.name, "shortDescription": {"text": rule.title},
            "fullDescription": {"text": f"{rule.title}. Fix: {rule.fix}"},
            "help": {"text": f"Fix: {rule.fix}. See {rule.help_uri}"},
            "helpUri": rule.help_uri, "defaultConfiguration": {"level": rule.level}}


@FORMATS.register("sarif")
def render_sarif(result: ScanResult) -> str:
    codes = list(RULES.codes)
    results = []
    for f in result.findings:
        rule = RULES[f.code]
        where = f"cell {f.cell} line {f.line}: " if f.cell is not None else ""
        results.append({
            "ruleId": f.code, "ruleIndex": codes.index(f.code),
            "level": rule.level if f.confidence == "high" else "note",
            "message": {"text": f"{where}{f.message}. Fix: {f.fix}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path.replace("\\", "/")},
                "region": {"startLine": f.line, "startColumn": f.col}}}],
            "properties": {"confidence": f.confidence,
                           **({"notebookCell": f.cell} if f.cell is not None else {})},
        })
    notifications = [{"level": "error", "message": {"text": f"cannot parse: {p.message}"},
                      "locations": [{"physicalLocation": {
                          "artifactLocation": {"uri": p.path.replace("\\", "/")},
                          "region": {"startLine": p.line, "startColumn": p.col}}}]}
                     for p in result.problems]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": TOOL_NAME, "informationUri": TOOL_URI, "version": "0.1.0",
                            "rules": [_sarif_rule(code) for code in codes]}},
        "invocations": [{"executionSuccessful": not result.problems,
                         "toolExecutionNotifications": notifications}],
        "results": results}]}
    return json.dumps(log, indent=2)


@FORMATS.register("html")
def render_html(result: ScanResult) -> str:
    head = ("<tr><th>where</th><th>rule</th><th>confidence</th><th>finding</th>"
            "<th>source</th><th>fix</th></tr>")
    rows = []
    for f in result.findings:
        rule = RULES[f.code]
        rows.append(
            f"<tr><td><code>{html.escape(f.location)}</code></td>"
            f"<td><a href=\"{html.escape(rule.help_uri)}\" title=\"{html.escape(rule.title)}\">"
            f"{f.code}</a></td><td>{f.confidence}</td><td>{html.escape(f.message)}</td>"
            f"<td><pre style=\"margin:0\">{html.escape(f.source)}</pre></td>"
            f"<td>{html.escape(f.fix)}</td></tr>")
    for p in result.problems:
        rows.append(f"<tr><td><code>{html.escape(p.location)}</code></td><td>parse</td><td></td>"
                    f"<td>cannot parse: {html.escape(p.message)}</td><td></td><td></td></tr>")
    table = f"<table>{head}{''.join(rows)}</table>" if rows else ""
    return (f"<div class=\"kit-scan\"><p><b>kit scan</b>: {html.escape(summary_line(result))}"
            f"</p>{table}</div>")
