"""Report profiles: which target, which env vars carry its URL and keys, which notebooks.

    profile = load_profile("embedded")              # diagnostics/embedded.yaml
    profile = load_profile("ci/nightly.yaml")       # any YAML file
    profile.notebooks[0].parameters                 # {'concurrency': 8}

A profile (YAML)::

    target: embedded            # embedded | local | remote
    url_env: SUPABASE_URL       # env var that carries the URL to the kernels
    key_env: SUPABASE_SERVICE_ROLE_KEY
    anon_key_env: SUPABASE_ANON_KEY   # optional
    db_url_env: SUPABASE_DB_URL # optional: the database URL (scenarios create kit_ tables there)
    notebook_dir: ../notebooks  # relative to the profile file
    timeout: 600                # seconds per notebook
    jobs: 2                     # notebooks run at once
    notebooks:                  # omitted or "all": every *.ipynb in notebook_dir
      - 01_storage_download.ipynb
      - notebook: 02_memory_queue.ipynb
        parameters: {concurrency: 8, fault_profile: cloudflare_520}

Unset ``*_env`` settings take the target kind's documented names (``kit.targets.ENV_NAMES``:
local ``API_URL``, ``SERVICE_ROLE_KEY``, ``ANON_KEY``, ``DB_URL`` as ``supabase status -o env``
prints them; remote ``SUPABASE_URL``, ``SUPABASE_SERVICE_ROLE_KEY``, ``SUPABASE_ANON_KEY``,
``SUPABASE_DB_URL``). Keys are never parameters: a parameter value shaped like a key is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import UsageError

PROFILE_DIR = Path(__file__).resolve().parents[2] / "diagnostics"
TARGET_KINDS = ("embedded", "local", "remote")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_KEYS = ("url_env", "key_env", "anon_key_env", "db_url_env")
_KEYS = {"target", *_ENV_KEYS, "notebook_dir", "timeout", "jobs", "notebooks", "description"}


class ProfileError(UsageError):
    """A report profile is missing, unknown or malformed (exit code 3)."""


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook to run and the scenario parameters it gets."""

    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class Profile:
    """What a report runs against and what it runs: ``load_profile("embedded")``."""

    name: str
    target: str = "embedded"
    url_env: str = "SUPABASE_URL"
    key_env: str = "SUPABASE_SERVICE_ROLE_KEY"
    anon_key_env: str | None = None
    db_url_env: str | None = None
    notebooks: tuple[NotebookSpec, ...] = ()
    timeout: float = 600.0
    jobs: int = 2
    source: Path | None = None

    def target_parameters(self) -> dict[str, Any]:
        """The parameters every notebook gets: the target kind and env var *names*."""
        params: dict[str, Any] = {"target": self.target, "url_env": self.url_env,
                                  "key_env": self.key_env}
        if self.anon_key_env:
            params["anon_key_env"] = self.anon_key_env
        if self.db_url_env:
            params["db_url_env"] = self.db_url_env
        return params


def known_profiles(directory: Path = PROFILE_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_profile(name_or_file: str, directory: Path = PROFILE_DIR) -> Profile:
    """A profile by name (``diagnostics/<name>.yaml``) or by path to a YAML file.

    >>> load_profile("embedded").target      # doctest: +SKIP
    'embedded'
    """
    candidate = Path(name_or_file).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise ProfileError(f"profile file {candidate} does not exist",
                               fix=f"pass an existing YAML file or one of: "
                                   f"{', '.join(known_profiles(directory))}")
        path = candidate.resolve()
    else:
        path = directory / f"{name_or_file}.yaml"
        if not path.is_file():
            known = ", ".join(known_profiles(directory)) or "(none)"
            raise ProfileError(f"unknown profile {name_or_file!r}; known profiles: {known}")
    return parse_profile(path.read_text(), name=path.stem, source=path)


def parse_profile(text: str, *, name: str, source: Path | None = None,
                  cwd: Path | None = None) -> Profile:
    """A profile from YAML text; relative paths resolve against the profile's folder."""
    import yaml

    where = f"profile {source or name}"
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"{where} is not valid YAML ({str(exc).splitlines()[0]})",
                           fix="fix the YAML syntax") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{where} must be a mapping of settings", fix="see diagnostics/embedded.yaml")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ProfileError(f"{where} has unknown setting(s) {', '.join(unknown)}; "
                           f"known: {', '.join(sorted(_KEYS))}")
    target = str(data.get("target", "embedded"))
    if target not in TARGET_KINDS:
        raise ProfileError(f"{where}: unknown target {target!r}; known: {', '.join(TARGET_KINDS)}")
    env_names = {k: data[k] for k in _ENV_KEYS if data.get(k) is not None}
    for key, value in env_names.items():
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            raise ProfileError(f"{where}: {key} must be the NAME of an environment variable, "
                               f"got {_shown(value)}", fix=f"e.g. {key}: SUPABASE_URL")
    base = source.parent if source else (cwd or Path.cwd())
    notebook_dir = (base / str(data.get("notebook_dir", "notebooks"))).resolve()
    timeout = _positive(data.get("timeout", 600), "timeout", where)
    jobs = int(_positive(data.get("jobs", 2), "jobs", where))
    specs = _notebooks(data.get("notebooks", "all"), notebook_dir, where)
    from kit.targets import ENV_NAMES

    defaults = ENV_NAMES[target]
    return Profile(name=name, target=target, url_env=env_names.get("url_env", defaults.url),
                   key_env=env_names.get("key_env", defaults.key),
                   anon_key_env=env_names.get("anon_key_env", defaults.anon_key),
                   db_url_env=env_names.get("db_url_env", defaults.db_url),
                   notebooks=tuple(specs), timeout=timeout, jobs=jobs, source=source)


def _shown(value: object) -> str:
    from kit.report.scrub import looks_secret

    return "(a secret-looking value)" if looks_secret(value) else repr(value)


def _positive(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ProfileError(f"{where}: {key} must be a positive number, got {value!r}")
    return float(value)


def _notebooks(entries: Any, notebook_dir: Path, where: str) -> list[NotebookSpec]:
    if entries in (None, "all"):
        return [NotebookSpec(p) for p in sorted(notebook_dir.glob("*.ipynb"))]
    if not isinstance(entries, list):
        raise ProfileError(f"{where}: notebooks must be a list or \"all\"")
    specs = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"notebook": entry}
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise ProfileError(f"{where}: each notebooks entry needs `notebook: FILE.ipynb`, "
                               f"got {_shown(entry)}")
        params = entry.get("parameters") or {}
        if not isinstance(params, dict):
            raise ProfileError(f"{where}: parameters of {entry['notebook']} must be a mapping")
        refuse_secret_parameters(params, f"{where}, notebook {entry['notebook']}")
        specs.append(NotebookSpec((notebook_dir / str(entry["notebook"])).resolve(), dict(params)))
    return specs


def refuse_secret_parameters(params: dict[str, Any], where: str) -> None:
    """Raise ProfileError when a parameter value is shaped like a key or token."""
    from kit.report.scrub import looks_secret

    for key, value in params.items():
        if looks_secret(value):
            raise ProfileError(f"{where}: parameter {key!r} holds a key-shaped value",
                               fix="keys reach notebooks only through environment variables: "
                                   "name them with key_env / anon_key_env")


def select_notebooks(profile: Profile, only: list[str] | None) -> list[NotebookSpec]:
    """The profile's notebooks, narrowed by ``--only`` (file names or stems)."""
    if not only:
        return list(profile.notebooks)
    by_name = {spec.name: spec for spec in profile.notebooks}
    by_name.update({spec.path.name: spec for spec in profile.notebooks})
    chosen = []
    for wanted in only:
        key = Path(wanted).name
        if key not in by_name and Path(key).stem not in by_name:
            known = ", ".join(s.name for s in profile.notebooks) or "(none)"
            raise ProfileError(f"--only {wanted!r} is not a notebook of profile "
                               f"{profile.name}; known: {known}")
        chosen.append(by_name.get(key) or by_name[Path(key).stem])
    return chosen
