"""Notebook parameters as the report runner sees them: what a notebook declares, what a
profile or ``-p NAME=VALUE`` gives, and one clear error when they do not match (pure).

    declared_parameters(Path("notebooks/01_storage_download.ipynb"))   # ['target', 'url_env', ...]
    parse_assignments(["concurrency=4", "modes=[sync, async]"])       # {'concurrency': 4, 'modes': [...]}
    check_parameters("01_storage_download", {"concurency": 4}, declared)   # ProfileError listing them

A notebook declares its parameters in the one cell tagged ``parameters`` (papermill's
convention): every simple assignment there is a parameter. papermill itself would inject an
unknown name silently and the notebook would run with its default.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kit.report.profiles import ProfileError

__all__ = ["check_parameters", "declared_parameters", "parse_assignments"]


def declared_parameters(notebook: Path) -> list[str]:
    """The names assigned in the notebook's ``parameters`` cell, in order (empty when it has none)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError) as exc:
        raise ProfileError(f"notebook {notebook} cannot be read ({type(exc).__name__})",
                           fix="check the profile's notebooks") from exc
    for cell in cells:
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell.get("source", []))
            try:
                tree = ast.parse(source)
            except SyntaxError as exc:
                raise ProfileError(f"the parameters cell of {notebook.name} is not valid Python "
                                   f"(line {exc.lineno})", fix="fix that cell") from exc
            names: dict[str, None] = {}
            for node in tree.body:
                targets = (node.targets if isinstance(node, ast.Assign)
                           else [node.target] if isinstance(node, ast.AnnAssign) else [])
                names.update({t.id: None for t in targets if isinstance(t, ast.Name)})
            return list(names)
    return []


def check_parameters(notebook: str, given: Mapping[str, Any], declared: Iterable[str]) -> None:
    """Raise ProfileError naming every parameter ``notebook`` does not declare, and the known ones."""
    known = list(declared)
    unknown = [name for name in given if name not in known]
    if unknown:
        import difflib

        hints = [f"{name!r} (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(
            name, known, n=1)) else repr(name) for name in unknown]
        raise ProfileError(f"notebook {notebook} has no parameter {', '.join(hints)}; its "
                           f"parameters: {', '.join(known) or '(none)'}",
                           fix="fix the name in the profile or in -p NAME=VALUE")


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["seed=3", "fault_profile=none"]`` → ``{"seed": 3, "fault_profile": "none"}``; values
    are read as YAML scalars or flow lists (``4``, ``true``, ``[a, b]``, ``"007"`` stays text)."""
    import yaml

    found: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ProfileError(f"-p {item!r} is not NAME=VALUE",
                               fix="e.g. -p concurrency=4 -p fault_profile=none")
        try:
            found[name] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            found[name] = text
    from kit.report.profiles import refuse_secret_parameters

    refuse_secret_parameters(found, "-p")
    return found
