"""Configuration: the environment variables the app's code reads, whether they are set
(values never shown), and whether its Supabase URL and key belong together.

    reads = env_reads(app)        # [EnvRead("SUPABASE_URL", "main.py:5", required=True), ...]
    configuration_checks(ex)

Reads are found in the code: ``os.environ["X"]``, ``os.environ.get("X")``, ``os.getenv("X")``,
``environ.get``/``setdefault``, python-decouple's ``config("X")``, and the fields of
pydantic ``BaseSettings`` classes (their ``env_prefix`` included). Values come from the
environment, then from the app's ``.env`` file (python-dotenv and uvicorn ``--env-file``
read it; the environment wins, as ``load_dotenv`` does by default).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from kit.doctor.examination import Examination
from kit.doctor.key_source import supabase_target
from kit.doctor.model import FAIL, INFO, OK, DoctorCheck
from kit.doctor.project import AppProject, all_nodes
from kit.doctor.supabase_keys import KeyFacts, expected_role, key_facts, mismatch, url_ref
from kit.secrets import mask_url

__all__ = ["EnvRead", "configuration_checks", "configured_values", "dotenv_values", "env_reads",
           "supabase_pairs"]

SECTION = "configuration"
_SETTINGS_BASES = {"BaseSettings"}
_CLIENT_FACTORIES = {"create_client", "acreate_client", "create_async_client", "Client", "AsyncClient"}


@dataclass(frozen=True)
class EnvRead:
    name: str
    where: str
    required: bool  # no default given: unset means KeyError / None / a validation error


def _const(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or \
        (isinstance(node, ast.Name) and node.id == "environ")


def _read_of(node: ast.AST) -> tuple[str, bool] | None:
    """(variable, required) when ``node`` reads one environment variable."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value) and _const(node.slice):
        return _const(node.slice), True  # type: ignore[return-value]
    if not isinstance(node, ast.Call) or not node.args or _const(node.args[0]) is None:
        return None
    func, name = node.func, _const(node.args[0])
    has_default = len(node.args) > 1 or any(k.arg == "default" for k in node.keywords)
    if isinstance(func, ast.Attribute) and func.attr in ("get", "setdefault", "pop") and _is_environ(func.value):
        return name, not has_default  # type: ignore[return-value]
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if called in ("getenv", "config") and (called == "getenv" or not isinstance(func, ast.Attribute)):
        return name, not has_default  # type: ignore[return-value]
    return None


def _settings_reads(tree: ast.Module, app: AppProject, path) -> Iterator[EnvRead]:
    for node in all_nodes(tree):
        if not isinstance(node, ast.ClassDef) or not any(
                getattr(b, "id", getattr(b, "attr", "")) in _SETTINGS_BASES for b in node.bases):
            continue
        prefix = ""
        for item in ast.walk(node):
            if isinstance(item, ast.keyword) and item.arg == "env_prefix" and _const(item.value) is not None:
                prefix = _const(item.value) or ""
            if isinstance(item, ast.Assign) and any(getattr(t, "id", "") == "env_prefix" for t in item.targets):
                prefix = _const(item.value) or prefix
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and \
                    item.target.id != "model_config":
                yield EnvRead(f"{prefix}{item.target.id}".upper(), app.where(path, item), item.value is None)


def env_reads(app: AppProject) -> list[EnvRead]:
    """Every environment variable the app's code reads (test files left out), first place first."""
    found: dict[str, EnvRead] = {}
    for path, tree in app.runtime_trees().items():
        for node in all_nodes(tree):
            read = _read_of(node)
            if read and read[0] not in found:
                found[read[0]] = EnvRead(read[0], app.where(path, node), read[1])
        for setting in _settings_reads(tree, app, path):
            found.setdefault(setting.name, setting)
    return sorted(found.values(), key=lambda r: r.name)


def dotenv_values(app: AppProject) -> dict[str, str]:
    """KEY=VALUE lines of the app's ``.env`` (``export`` and quotes allowed)."""
    values: dict[str, str] = {}
    try:
        text = (app.root / ".env").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    for line in text.splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if match and not line.lstrip().startswith("#"):
            values[match.group(1)] = match.group(2).strip("'\"")
    return values


def configured_values(app: AppProject) -> dict[str, str]:
    """What the app will see: the environment, then its ``.env`` for what the environment lacks."""
    return {**dotenv_values(app), **app.env}


def _names_in(node: ast.AST, aliases: dict[str, str]) -> str | None:
    read = _read_of(node)
    if read:
        return read[0]
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):  # settings.supabase_url
        return node.attr.upper()
    return None


def supabase_pairs(app: AppProject, names: set[str]) -> list[tuple[str, str, str]]:
    """(url variable, key variable, where) from client factories, then by shared prefix."""
    pairs: list[tuple[str, str, str]] = []
    for path, tree in app.runtime_trees().items():
        aliases = {t.id: read[0] for n in all_nodes(tree) if isinstance(n, ast.Assign)
                   for t in n.targets if isinstance(t, ast.Name) and (read := _read_of(n.value))}
        for node in all_nodes(tree):
            if isinstance(node, ast.Call) and len(node.args) >= 2 and \
                    getattr(node.func, "id", getattr(node.func, "attr", "")) in _CLIENT_FACTORIES:
                url, key = _names_in(node.args[0], aliases), _names_in(node.args[1], aliases)
                if url and key:
                    pairs.append((url, key, app.where(path, node)))
    for url in sorted(n for n in names if n.endswith("URL") and "SUPABASE" in n):
        stem = url.removesuffix("URL")
        for key in sorted(n for n in names if n.startswith(stem) and "KEY" in n):
            if not any(p[:2] == (url, key) for p in pairs):
                pairs.append((url, key, "names share a prefix"))
    return pairs


def _is_supabase(name: str, value: str | None) -> bool:
    return "SUPABASE" in name or bool(value and (value.startswith(("sb_secret_", "sb_publishable_"))
                                                 or ".supabase.co" in value))


def _describe(name: str, value: str) -> str:
    if name.endswith("URL") or value.startswith(("http://", "https://")):
        return mask_url(value)
    facts = key_facts(value)
    return facts.describe() if facts.kind != "unknown" or "KEY" in name else f"set ({len(value)} characters)"


def _pair_check(url_var: str, key_var: str, where: str, values: dict[str, str],
                app: AppProject) -> list[DoctorCheck]:
    url, key = values.get(url_var), values.get(key_var)
    if not url or not key:
        return []
    source = supabase_target(app, url)
    from kit.errors import TargetError
    from kit.targets import _valid_url

    name = f"{url_var} + {key_var}"
    try:
        _valid_url(url, url_var)
    except TargetError as exc:
        return [DoctorCheck(SECTION, name, FAIL, exc.problem, exc.fix, where)]
    facts = key_facts(key)
    if facts.kind == "unknown":
        return [DoctorCheck(SECTION, name, FAIL, f"{key_var} is not a Supabase key ({len(key)} "
                            "characters, neither a JWT nor an sb_ key)",
                            f"copy the anon or service_role key into {key_var}: "
                            f"{source.source_of(key_var)}", where)]
    checks = []
    if facts.expired:
        checks.append(DoctorCheck(SECTION, f"{key_var} expiry", FAIL, facts.describe(),
                                  f"copy a current key into {key_var}", where))
    wrong = mismatch(facts, url)
    if wrong:
        checks.append(DoctorCheck(SECTION, name, FAIL, f"{wrong} ({key_var}: {facts.describe()}; "
                                  f"{url_var}: {mask_url(url)})",
                                  f"take both from the same project: {source.source_of(key_var)}",
                                  where))
    expected = expected_role(key_var)
    if expected == "anon" and facts.role == "service_role":
        checks.append(DoctorCheck(SECTION, f"{key_var} role", FAIL, f"{key_var} holds a service_role key "
                                  "where its name promises the anon key: it bypasses Row Level Security, "
                                  "and anything shipped to a browser or app with it can read and write "
                                  "every table", f"put the anon (publishable) key in {key_var}; keep the "
                                  "service_role key in a server-only variable", where))
    elif expected == "service_role" and facts.role == "anon":
        checks.append(DoctorCheck(SECTION, f"{key_var} role", FAIL, f"{key_var} holds the anon key where "
                                  "its name promises the service_role key: Row Level Security applies, so "
                                  "reads come back empty and writes fail with 'new row violates row-level "
                                  "security policy' (42501)", f"put the service_role (secret) key in "
                                  f"{key_var}", where))
    elif expected is None and facts.role == "service_role":
        checks.append(DoctorCheck(SECTION, f"{key_var} role", INFO, f"{key_var} holds a service_role "
                                  "key: it bypasses Row Level Security", "fine on a server; never send it "
                                  "to a browser or a mobile app", where))
    if not checks:
        checks.append(_key_names_url(name, facts, url, where))
    return checks


def _key_names_url(name: str, facts: KeyFacts, url: str, where: str) -> DoctorCheck:
    """OK only when the key itself names the URL's project; a key that names none (every local
    stack's) is not contradicted, but whether the server accepts it only the server can tell."""
    ref = url_ref(url)
    if facts.ref and ref and facts.ref == ref:
        return DoctorCheck(SECTION, name, OK, f"the key ({facts.describe()}) and the URL "
                           f"{mask_url(url)} both name project {ref}", "", where)
    return DoctorCheck(SECTION, name, INFO, f"nothing in the key ({facts.describe()}) contradicts the "
                       f"URL {mask_url(url)}, but it names no project: only the server can tell whether "
                       "it signed this key", "the reachability checks ask it (not with --no-network)",
                       where)


def _url_beside(variable: str, app: AppProject, values: dict[str, str]) -> str | None:
    """The Supabase URL the app uses with ``variable`` (its pair's URL, else any it reads)."""
    names = {r.name for r in env_reads(app)}
    paired = [u for u, k, _ in supabase_pairs(app, names) if variable in (u, k) and values.get(u)]
    urls = paired or sorted(n for n in names if n.endswith("URL") and "SUPABASE" in n and values.get(n))
    return values[urls[0]] if urls and urls[0] != variable else None


def configuration_checks(ex: Examination, env: dict[str, str] | None = None) -> list[DoctorCheck]:
    app = ex.app
    values = configured_values(app)
    reads = env_reads(app)
    checks, others = [], []
    for read in reads:
        value = values.get(read.name)
        source = "" if value is None else " from .env" if read.name not in app.env else " in the environment"
        if not _is_supabase(read.name, value):
            others.append(f"{read.name} ({'set' if value is not None else 'unset'})")
            continue
        if (value is None or not value.strip()) and not read.required:
            checks.append(DoctorCheck(SECTION, read.name, INFO, f"read at {read.where} with a default; "
                                      "not set, so the code's default applies", "", read.where))
        elif value is None or not value.strip():
            checks.append(DoctorCheck(SECTION, read.name, FAIL, f"read at {read.where} without a default "
                                      "but not set (neither in the environment nor in .env)",
                                      f"export {read.name}=... ("
                                      f"{supabase_target(app, _url_beside(read.name, app, values)).source_of(read.name)})",
                                      read.where))
        else:
            checks.append(DoctorCheck(SECTION, read.name, OK, f"set{source}: {_describe(read.name, value)}",
                                      "", read.where))
    if others:
        checks.append(DoctorCheck(SECTION, "other variables read", INFO, ", ".join(others)))
    for url_var, key_var, where in supabase_pairs(app, {r.name for r in reads}):
        checks += _pair_check(url_var, key_var, where, values, app)
    if not reads:
        checks.append(DoctorCheck(SECTION, "environment variables", INFO,
                                  "the app's code reads no environment variable the doctor can see"))
    return checks
