"""Output formats of a scan, on a registry: text, json, sarif (2.1.0), html. Pure functions.

    render(result, "sarif")     # a SARIF 2.1.0 log as a JSON string
    FORMATS.names               # ['text', 'json', 'sarif', 'html']
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kit.errors import UsageError
from kit.scan.model import RULES, Finding, ParseProblem, docs_url

if TYPE_CHECKING:
    from kit.scan.result import ScanResult

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "kit-scan"
TOOL_PAGE = "README.md"


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


def _problem(message: str) -> str:
    return message if message.startswith("cannot read") else f"cannot parse: {message}"


def summary_line(result: ScanResult) -> str:
    files = f"{result.files_scanned} file{'s' * (result.files_scanned != 1)} scanned"
    found = f"{len(result.findings)} finding{'s' * (len(result.findings) != 1)}"
    counts = ", ".join(f"{code}×{n}" for code, n in result.counts.items())
    errors = f", {len(result.problems)} could not be parsed" if result.problems else ""
    return f"{found}{f' ({counts})' if counts else ''} in {files}{errors}"


@FORMATS.register("text")
def render_text(result: ScanResult) -> str:
    return "\n".join([*finding_lines(result), summary_line(result)])


def finding_lines(result: ScanResult) -> list[str]:
    """The text format without its summary line: findings, parse problems, notes."""
    out = []
    for f in result.findings:
        low = " [low confidence: client kind guessed from its name]" if f.confidence == "low" else ""
        out.append(f"{f.location} {f.code} {f.message}{low}. Fix: {f.fix}")
    for p in result.problems:
        out.append(f"{p.location} error: {_problem(p.message)} (the scan went on without it)")
    for n in result.notices:
        out.append(f"{n.path}: note: {n.message}")
    return out


@FORMATS.register("json")
def render_json(result: ScanResult) -> str:
    return json.dumps({"files_scanned": result.files_scanned, "rules": result.codes,
                       "findings": [f.to_dict() for f in result.findings],
                       "errors": [p.to_dict() for p in result.problems],
                       "notices": [n.to_dict() for n in result.notices]}, indent=2)


def _sarif_rule(code: str) -> dict[str, Any]:
    rule = RULES[code]
    return {"id": rule.code, "name": rule.name, "shortDescription": {"text": rule.title},
            "fullDescription": {"text": f"{rule.title}. Fix: {rule.fix}"},
            "help": {"text": f"Fix: {rule.fix}. See {rule.help_uri}"},
            "helpUri": rule.help_url, "defaultConfiguration": {"level": rule.level}}


def _artifact(path: str, base: Path) -> dict[str, Any]:
    """A percent-encoded URI relative to SRCROOT (the working directory) when the file is
    below it, else an absolute ``file:`` URI."""
    absolute = Path(path).absolute()
    try:
        relative = absolute.relative_to(base)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": "SRCROOT"}


def _location(path: str, base: Path, region: dict[str, Any] | None) -> dict[str, Any]:
    where: dict[str, Any] = {"artifactLocation": _artifact(path, base)}
    if region:
        where["region"] = region
    return {"physicalLocation": where}


def _region(f: Finding | ParseProblem) -> dict[str, Any] | None:
    """Lines and columns of the file as stored: for a notebook, the cell's source line inside
    the .ipynb JSON (what a code-scanning UI opens), or no region when that cannot be said
    exactly; never the line of the cell shown as a line of the JSON."""
    if f.cell is not None:
        if f.file_region is None:
            return None
        start_line, start_col, end_line, end_col = f.file_region
        region = {"startLine": start_line, "startColumn": start_col}
        if end_line:
            region.update(endLine=end_line, endColumn=end_col)
        return region
    region = {"startLine": f.line, "startColumn": f.col}
    if getattr(f, "end_line", 0):
        region.update(endLine=f.end_line, endColumn=f.end_col)  # type: ignore[union-attr]
    return region


def _cell_properties(f: Finding | ParseProblem) -> dict[str, int]:
    if f.cell is None:
        return {}
    return {"notebookCell": f.cell, "notebookCellLine": f.line, "notebookCellColumn": f.col}


@FORMATS.register("sarif")
def render_sarif(result: ScanResult) -> str:
    codes = list(RULES.codes)
    base = Path.cwd()
    results = []
    for f in result.findings:
        rule = RULES[f.code]
        where = f"cell {f.cell} line {f.line}: " if f.cell is not None else ""
        results.append({
            "ruleId": f.code, "ruleIndex": codes.index(f.code),
            "level": rule.level if f.confidence == "high" else "note",
            "message": {"text": f"{where}{f.message}. Fix: {f.fix}"},
            "locations": [_location(f.path, base, _region(f))],
            "properties": {"confidence": f.confidence, **_cell_properties(f)},
        })
    notifications = [
        {"level": "error", "message": {"text": _problem(p.message)},
         "locations": [_location(p.path, base, _region(p))],
         **({"properties": _cell_properties(p)} if p.cell is not None else {})}
        for p in result.problems]
    notifications += [{"level": "note", "message": {"text": n.message},
                       "locations": [{"physicalLocation": {
                           "artifactLocation": _artifact(n.path, base)}}]}
                      for n in result.notices]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": TOOL_NAME, "informationUri": docs_url(TOOL_PAGE),
                            "version": "0.1.0", "rules": [_sarif_rule(code) for code in codes]}},
        "originalUriBaseIds": {"SRCROOT": {"uri": base.as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
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
                    f"<td>{html.escape(_problem(p.message))}</td><td></td><td></td></tr>")
    table = f"<table>{head}{''.join(rows)}</table>" if rows else ""
    return (f"<div class=\"kit-scan\"><p><b>kit scan</b>: {html.escape(summary_line(result))}"
            f"</p>{table}</div>")
