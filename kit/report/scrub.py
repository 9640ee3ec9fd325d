"""Strip and mask secrets in everything the report runner writes.

    scrub_parameters({"target": "embedded", "token": "eyJhbGciOi..."})
    # {'target': 'embedded', 'token': '[secret removed]'}
    scrub_notebook(nb, known_secrets=[service_role_key])   # in place: cells, outputs, metadata

Keys reach notebooks only through environment variables, so nothing secret should be
here; this is the second line of defence: papermill copies parameters into the
``injected-parameters`` cell and ``metadata.papermill.parameters``, and any output may
print a key.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from kit.secrets import JWT_PATTERN, MASK, mask_text

REMOVED = "[secret removed]"
_SECRET_NAME = re.compile(r"(key|secret|token|passw|jwt|credential|bearer|auth)", re.IGNORECASE)
_KEY_SHAPED = re.compile(r"\bsb_(secret|publishable)_[A-Za-z0-9_-]{8,}|\bsbp_[A-Za-z0-9]{20,}"
                         r"|://[^/\s:@]+:[^/\s@]+@")


def looks_secret(value: object) -> bool:
    """True for JWTs and key-shaped strings: ``looks_secret("eyJa.eyJb.sig")``."""
    if not isinstance(value, str):
        return False
    return bool(re.search(JWT_PATTERN, value) or _KEY_SHAPED.search(value))


def secret_parameter(name: str, value: object) -> bool:
    """A parameter to strip: a key-shaped value, or a secret-sounding name with a value
    (``*_env`` names hold env var names, which are not secrets)."""
    if looks_secret(value):
        return True
    named_secret = bool(_SECRET_NAME.search(name)) and not name.lower().endswith("_env")
    return named_secret and isinstance(value, str) and bool(value)


def secret_parameter_values(params: Mapping[str, Any]) -> list[str]:
    """The values ``scrub_parameters`` strips: masked wherever else they show up too."""
    return [str(v) for k, v in params.items() if secret_parameter(k, v)]


def scrub_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters with secret-looking ones replaced by ``[secret removed]``."""
    return {k: (REMOVED if secret_parameter(k, v) else v) for k, v in params.items()}


def _variants(secret: str) -> list[str]:
    # the same secret as it appears raw, inside JSON strings and inside escaped HTML
    forms = {secret, json.dumps(secret)[1:-1], html.escape(secret), html.escape(secret, quote=False)}
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Mask JWT/key-shaped strings and every known secret (raw, JSON- or HTML-escaped)."""
    known = [s for s in known_secrets if s and len(s) >= 6]
    for secret in known:
        for form in _variants(secret):
            text = text.replace(form, MASK)
    text = mask_text(text, known)
    return _KEY_SHAPED.sub(lambda m: MASK if "://" not in m.group(0) else f"://{MASK}@", text)


_PARAM_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.+)$")


def _scrub_parameter_source(source: str, known: list[str]) -> str:
    lines = []
    for line in source.splitlines(keepends=True):
        match = _PARAM_LINE.match(line.rstrip("\n"))
        if match:
            indent, name, eq, value = match.groups()
            try:
                import ast

                literal = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                literal = value
            if secret_parameter(name, literal) or any(s in value for s in known):
                line = f"{indent}{name}{eq}{REMOVED!r}" + ("\n" if line.endswith("\n") else "")
        lines.append(line)
    return "".join(lines)


def scrub_notebook(nb: Any, known_secrets: Iterable[str] = ()) -> Any:
    """Scrub an nbformat notebook in place and return it: parameters cells, papermill
    metadata, then every string in every cell and output."""
    known = [s for s in known_secrets if s]
    meta = nb.metadata.get("papermill") if hasattr(nb, "metadata") else None
    if isinstance(meta, dict):
        for key in ("parameters", "default_parameters"):
            if isinstance(meta.get(key), dict):
                meta[key] = scrub_parameters(meta[key])
        if meta.get("environment_variables"):
            meta["environment_variables"] = {k: REMOVED for k in meta["environment_variables"]}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags:
            cell.source = _scrub_parameter_source(cell.source, known)
    _scrub_strings(nb, known)
    return nb


def _scrub_strings(node: Any, known: list[str]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        if isinstance(value, str):
            cleaned = scrub_text(value, known)
            if cleaned != value:
                node[key] = cleaned
        elif isinstance(value, (dict, list)):
            _scrub_strings(value, known)
