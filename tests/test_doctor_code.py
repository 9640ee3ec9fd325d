"""kit doctor reading the app's code: Python-version hazards by file and line, and the
environment variables it reads (set/unset, masked, URL and key that belong together).
JWTs are built at runtime; no interpreter is probed (an empty PATH), no network."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jwt

from kit.doctor import doctor
from kit.doctor.model import FAIL, INFO, OK, WARN
from kit.doctor.render import render_json

REF = "abcdefghijklmnopqrst"
OTHER_REF = "zyxwvutsrqponmlkjihg"
SIGNING = "doctor-tests-" + "s" * 32  # any secret: the doctor never checks signatures


def make_key(role: str, ref: str | None = REF, *, iss: str = "supabase", exp_in: int = 3600) -> str:
    claims = {"iss": iss, "role": role, "iat": int(time.time()), "exp": int(time.time()) + exp_in}
    if ref:
        claims["ref"] = ref
    return jwt.encode(claims, SIGNING, algorithm="HS256")


def app_with(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def run(app: Path, env: dict[str, str] | None = None, **kw):
    return doctor(app, env={"PATH": "", **(env or {})}, reachability=False, **kw)


HAZARDS_APP = {
    "routes.py": ("from __future__ import annotations\nfrom fastapi import FastAPI\napp = FastAPI()\n\n"
                  "@app.get('/items')\nasync def items(q: int | None = None):\n    return []\n\n"
                  "def helper(x: str | None) -> list[int]:\n    return []\n"),
    "plain.py": "def handler(value: dict[str, int] | None) -> None:\n    pass\n",
    "checks.py": "def is_text(x):\n    return isinstance(x, str | bytes)\n",
    "router.py": "def route(cmd):\n    match cmd:\n        case 'go':\n            return 1\n",
    "aliases.py": "type UserId = int\n\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n",
    "threads.py": ("import asyncio\ntry:\n    import tomllib\nexcept ImportError:\n    tomllib = None\n\n"
                   "async def load(f):\n    return await asyncio.to_thread(f)\n"),
}


def test_hazards_by_file_and_line_for_the_lowest_python(tmp_path: Path):
    report = run(app_with(tmp_path, HAZARDS_APP), python="3.8")
    found = {(c.name, c.where) for c in report.section("python") if c.status == FAIL}
    assert ("X | Y at runtime", "routes.py:6") in found        # FastAPI reads the signature
    assert ("X | Y at runtime", "plain.py:1") in found         # no __future__: evaluated at def
    assert ("X | Y at runtime", "checks.py:2") in found        # isinstance(x, str | bytes)
    assert ("builtin generics at runtime", "plain.py:1") in found
    assert ("match statement", "router.py:2") in found
    assert ("PEP 695 type parameters", "aliases.py:1") in found
    assert ("PEP 695 type parameters", "aliases.py:4") in found
    assert ("asyncio.to_thread (Python 3.9+)", "threads.py:8") in found
    # postponed annotations of a plain function are never evaluated; a guarded import is fine
    assert ("X | Y at runtime", "routes.py:9") not in found
    assert not any(name.startswith("tomllib") for name, _ in found)
    [union] = [c for c in report.section("python") if c.where == "routes.py:6"]
    assert "`int | None` evaluated by @app.get" in union.evidence
    assert "3.8 (--python)" in union.evidence


def test_no_hazard_once_the_lowest_python_has_the_feature(tmp_path: Path):
    files = {k: v for k, v in HAZARDS_APP.items() if k != "aliases.py"}
    files["pyproject.toml"] = '[project]\nname = "x"\nrequires-python = ">=3.11"\n'
    report = run(app_with(tmp_path, files))
    assert [c.status for c in report.section("python")] == [OK, OK]
    assert report.lowest_python == "3.11"


def test_python_version_declared_elsewhere(tmp_path: Path):
    app = app_with(tmp_path, {"environment.yml": "name: x\ndependencies:\n  - python=3.9\n  - pip\n",
                              "m.py": "def f():\n    match 1:\n        case _:\n            pass\n"})
    report = run(app)
    [check] = report.find("python", "match statement")
    assert check.status == FAIL and check.where == "m.py:2" and "environment.yml python" in check.evidence


CONFIG_APP = {
    "db.py": ("import os\nfrom supabase import create_client\n\n"
              "url = os.environ['SUPABASE_URL']\n"
              "client = create_client(url, os.environ['SUPABASE_SERVICE_ROLE_KEY'])\n"
              "browser_key = os.getenv('SUPABASE_ANON_KEY')\n"
              "mock = os.environ.get('USE_MOCK_LLM', 'false')\n"
              "schema = os.environ.get('SUPABASE_SCHEMA', 'public')\n"),
    "settings.py": ("from pydantic_settings import BaseSettings, SettingsConfigDict\n\n"
                    "class Settings(BaseSettings):\n"
                    "    model_config = SettingsConfigDict(env_prefix='ANALYTICS_')\n"
                    "    supabase_url: str\n    supabase_key: str\n"),
}


def test_keys_against_url_and_the_role_each_name_promises(tmp_path: Path):
    service, anon = make_key("service_role"), make_key("anon")
    env = {"SUPABASE_URL": f"https://{REF}.supabase.co",
           "SUPABASE_SERVICE_ROLE_KEY": anon,          # the reverse: anon where service is expected
           "SUPABASE_ANON_KEY": service,               # service_role where anon is expected
           "ANALYTICS_SUPABASE_URL": f"https://{REF}.supabase.co",
           "ANALYTICS_SUPABASE_KEY": make_key("anon", OTHER_REF)}
    report = run(app_with(tmp_path, CONFIG_APP), env)
    checks = {c.name: c for c in report.section("configuration")}
    assert checks["SUPABASE_SERVICE_ROLE_KEY role"].status == FAIL
    assert "holds the anon key" in checks["SUPABASE_SERVICE_ROLE_KEY role"].evidence
    assert checks["SUPABASE_SERVICE_ROLE_KEY role"].where == "db.py:5"  # the create_client call
    assert checks["SUPABASE_ANON_KEY role"].status == FAIL
    assert "bypasses Row Level Security" in checks["SUPABASE_ANON_KEY role"].evidence
    pair = checks["ANALYTICS_SUPABASE_URL + ANALYTICS_SUPABASE_KEY"]  # pydantic settings + prefix
    assert pair.status == FAIL
    assert f"the key belongs to project {OTHER_REF}, the URL is project {REF}" in pair.evidence
    assert checks["SUPABASE_URL"].status == OK and REF in checks["SUPABASE_URL"].evidence
    assert "role anon, project ref" in checks["SUPABASE_SERVICE_ROLE_KEY"].evidence
    assert checks["other variables read"].status == INFO
    assert "USE_MOCK_LLM (unset)" in checks["other variables read"].evidence
    text = str(report) + render_json(report) + report._repr_mimebundle_()["text/html"]
    for secret in (service, anon, env["ANALYTICS_SUPABASE_KEY"]):
        assert secret not in text and secret.split(".")[1] not in text


def test_a_key_and_url_fit_only_when_both_name_the_project(tmp_path: Path):
    """A key naming no project (every local stack's: the kit's, the CLI's) is not called a fit:
    another stack's key looks the same offline; the server decides (reachability)."""
    hosted = run(app_with(tmp_path / "hosted", CONFIG_APP),
                 {"SUPABASE_URL": f"https://{REF}.supabase.co", "SUPABASE_SERVICE_ROLE_KEY": make_key("service_role")})
    fit = {c.name: c for c in hosted.section("configuration")}["SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY"]
    assert fit.status == OK and f"both name project {REF}" in fit.evidence
    local = run(app_with(tmp_path / "local", CONFIG_APP),
                {"SUPABASE_URL": "http://127.0.0.1:54321",
                 "SUPABASE_SERVICE_ROLE_KEY": make_key("service_role", None, iss="kit")})
    unsure = {c.name: c for c in local.section("configuration")}["SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY"]
    assert unsure.status == INFO and "names no project" in unsure.evidence and "fits" not in unsure.evidence


def test_unset_variables_dotenv_local_and_expired_keys(tmp_path: Path):
    demo = make_key("service_role", None, iss="supabase-demo")
    app = app_with(tmp_path, {**CONFIG_APP, ".env": f"export SUPABASE_SERVICE_ROLE_KEY='{demo}'\n"})
    report = run(app, {"SUPABASE_URL": "http://127.0.0.1:54321",
                       "ANALYTICS_SUPABASE_URL": "http://localhost:54321",
                       "ANALYTICS_SUPABASE_KEY": make_key("anon", REF, exp_in=-60)})
    checks = {c.name: c for c in report.section("configuration")}
    assert checks["SUPABASE_SERVICE_ROLE_KEY"].evidence.startswith("set from .env: JWT, role service_role")
    local_pair = checks["SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY"]  # local demo key, local URL
    assert local_pair.status == INFO and "only the server can tell" in local_pair.evidence
    assert checks["SUPABASE_ANON_KEY"].status == FAIL  # os.getenv without default: None when unset
    assert checks["SUPABASE_SCHEMA"].status == INFO and "default applies" in checks["SUPABASE_SCHEMA"].evidence
    assert "not set" in checks["SUPABASE_ANON_KEY"].evidence and "export SUPABASE_ANON_KEY" in checks[
        "SUPABASE_ANON_KEY"].fix
    assert checks["ANALYTICS_SUPABASE_KEY expiry"].status == FAIL
    pair = checks["ANALYTICS_SUPABASE_URL + ANALYTICS_SUPABASE_KEY"]
    assert pair.status == FAIL and f"hosted project {REF}, the URL is a local stack" in pair.evidence
    assert demo not in str(report)


def test_url_holding_a_key_and_a_required_variable_unset(tmp_path: Path):
    key = make_key("anon")
    report = run(app_with(tmp_path, CONFIG_APP), {"SUPABASE_URL": key, "SUPABASE_SERVICE_ROLE_KEY": key})
    checks = {c.name: c for c in report.section("configuration")}
    pair = checks["SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY"]
    assert pair.status == FAIL and "holds a key, not a URL" in pair.evidence and "swap" in pair.fix
    assert checks["ANALYTICS_SUPABASE_URL"].status == FAIL  # a settings field without default
    assert key not in json.dumps(report.to_dict())
    assert sys.version_info >= (3, 10)


def test_get_type_hints_users_and_dependency_files_of_every_kind(tmp_path: Path):
    from kit.doctor.declared import declared_dependencies
    from kit.doctor.project import AppProject

    app = app_with(tmp_path, {
        "hints.py": ("from __future__ import annotations\nimport typing\n\nclass Row:\n"
                     "    id: int | None\n\ntyping.get_type_hints(Row)\n"),
        "requirements.txt": "-r requirements/base.txt\nhttpx>=0.28  # pinned\n--index-url https://x\n",
        "requirements/base.txt": "psycopg2-binary==2.9.9\n",
        "Pipfile": '[packages]\nrequests = "*"\nfastapi = {version = ">=0.100"}\n',
        "environment.yml": ("name: app\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.9\n"
                            "  - numpy=1.26\n  - pip\n  - pip:\n      - supabase>=2.30\n      - -e .\n"),
    })
    report = run(app)
    [check] = report.find("python", "X | Y at runtime")
    assert check.where == "hints.py:5" and "get_type_hints(Row)" in check.evidence
    assert "environment.yml python '3.9'" in check.evidence
    found, unreadable = declared_dependencies(AppProject.load(app, env={}))
    assert {str(d.requirement): d.source for d in found} == {
        "psycopg2-binary==2.9.9": "requirements/base.txt:1", "httpx>=0.28": "requirements.txt:2",
        "requests": "Pipfile:2", "fastapi>=0.100": "Pipfile:3", "numpy==1.26.*": "environment.yml:6",
        "supabase>=2.30": "environment.yml:9"}
    assert unreadable == []


def test_database_url_password_is_masked(tmp_path: Path):
    app = app_with(tmp_path, {"db.py": "import os\nDSN = os.environ['SUPABASE_DB_URL']\n"})
    report = run(app, {"SUPABASE_DB_URL": "postgresql://postgres:hunter2-secret@db.example:5432/postgres"})
    [check] = report.find("configuration", "SUPABASE_DB_URL")
    assert check.evidence == "set in the environment: postgresql://postgres:[masked]@db.example:5432/postgres"
    assert "hunter2-secret" not in str(report)


def test_terminal_progress_overwrites_one_line():
    import io

    from kit.doctor.cli import progress_printer

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    say = progress_printer("auto", screen)
    assert say is not None
    say("probing /usr/bin/python3")
    assert screen.getvalue() == "\r\x1b[2Kkit doctor: probing /usr/bin/python3"
    assert progress_printer("auto", io.StringIO()) is None and progress_printer("quiet", screen) is None


def test_test_files_are_left_out_and_factories_need_no_arguments(tmp_path: Path):
    from kit.doctor.examination import Examination, app_imports
    from kit.doctor.interpreter_checks import app_entry_point
    from kit.doctor.interpreters import Discovery
    from kit.doctor.project import AppProject

    app = app_with(tmp_path, {
        "tests/test_api.py": "import os\nimport pytest_mock\nTOKEN = os.environ['TEST_ONLY_TOKEN']\n",
        "conftest.py": "import hypothesis\nfrom fastapi import FastAPI\napp = FastAPI()  # a test app\n",
        "server.py": ("import httpx\nfrom fastapi import FastAPI\n\ndef build(settings):\n"
                      "    return FastAPI()\n\ndef create_app(debug=False):\n    return FastAPI()\n")})
    project = AppProject.load(app, env={})
    assert sorted(s.module for s in app_imports(project)) == ["fastapi", "httpx"]
    report = run(app)
    assert "TEST_ONLY_TOKEN" not in str(report)
    assert app_entry_point(Examination(project, Discovery(), {})) == (
        "server:create_app", "uvicorn --factory server:create_app")


KEYS_APP = {"db.py": ("import os\nfrom supabase import create_client\n\n"
                      "client = create_client(os.environ['SUPABASE_URL'], "
                      "os.environ['SUPABASE_SERVICE_ROLE_KEY'])\n")}


def test_missing_key_fix_names_the_targets_own_source(tmp_path: Path, stack, stack_dir: Path):
    def fix_for(app: Path, env: dict[str, str]) -> str:
        checks = {c.name: c for c in run(app, env).section("configuration")}
        assert checks["SUPABASE_SERVICE_ROLE_KEY"].status == FAIL
        return checks["SUPABASE_SERVICE_ROLE_KEY"].fix

    plain = app_with(tmp_path / "plain", KEYS_APP)
    # the kit's embedded stack (its folder named by KIT_STACK_DIR, its URL the app's)
    embedded = fix_for(plain, {"SUPABASE_URL": stack.url, "KIT_STACK_DIR": str(stack_dir)})
    assert "`kit stack status` prints the service_role key" in embedded and stack.url in embedded
    assert "supabase status" not in embedded
    # no URL set yet: the embedded stack the folder uses still tells
    assert "`kit stack status`" in fix_for(plain, {"KIT_STACK_DIR": str(stack_dir)})
    # a Supabase CLI project (supabase init made supabase/config.toml), or the CLI's API port
    cli_app = app_with(tmp_path / "cli", {**KEYS_APP, "supabase/config.toml": "project_id = 'x'\n"})
    cli = fix_for(cli_app, {"KIT_STACK_DIR": str(tmp_path / "no-stack")})
    assert "`supabase status -o env` prints it as SERVICE_ROLE_KEY" in cli and "kit stack" not in cli
    assert "supabase status -o env" in fix_for(
        plain, {"SUPABASE_URL": "http://127.0.0.1:54321", "KIT_STACK_DIR": str(tmp_path / "no-stack")})
    # hosted: the dashboard page of that project
    hosted = fix_for(plain, {"SUPABASE_URL": f"https://{REF}.supabase.co"})
    assert f"https://supabase.com/dashboard/project/{REF}/settings/api" in hosted
    assert "supabase status" not in hosted and "kit stack" not in hosted


def test_new_stdlib_names_under_a_version_test_and_in_test_files(tmp_path: Path):
    """tomllib behind ``sys.version_info >= (3, 11)`` runs only where it exists; in a test file
    it breaks the tests on the lowest Python, not the app: a warning, not a failure."""
    report = run(app_with(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.10"\n',
        "settings.py": ("import sys\nif sys.version_info >= (3, 11):\n    import tomllib\nelse:\n"
                        "    import tomli as tomllib\nif sys.version_info.minor < 11:\n    pass\n"
                        "elif True:\n    from typing import Self\n"),
        "tasks.py": "if not sys.version_info < (3, 9):\n    from asyncio import to_thread\n",
        "app.py": "from enum import StrEnum\n",
        "tests/test_config.py": "import tomllib\n"}))
    found = {c.where: c for c in report.section("python") if c.status in (FAIL, WARN)}
    assert set(found) == {"app.py:1", "tests/test_config.py:1"}
    assert found["app.py:1"].status == FAIL
    assert found["tests/test_config.py:1"].status == WARN
    assert "a test file uses tomllib" in found["tests/test_config.py:1"].evidence


def test_import_conditions_hold_per_interpreter():
    import ast

    from kit.doctor.import_guards import conditions, holds

    tree = ast.parse("import sys\nif sys.version_info[:2] >= (3, 11) and sys.platform.startswith('linux'):\n"
                     "    import a\nelse:\n    import b\nif sys.version_info.major == 3 or x:\n    import c\n")
    found = conditions(tree)
    linux_311 = {"python_full_version": "3.11.7", "sys_platform": "linux"}
    darwin_311 = {"python_full_version": "3.11.7", "sys_platform": "darwin"}
    assert holds(found[3], linux_311) is True and holds(found[5], linux_311) is False
    assert holds(found[3], darwin_311) is False and holds(found[5], darwin_311) is True
    assert holds(found[3], {"python_full_version": "3.10.2"}) is False  # the platform is not needed
    assert holds(found[7], linux_311) is True  # `or`: the first true operand decides...
    assert holds(found[7], {"python_full_version": "2.7.18", "sys_platform": "linux"}) is None  # ...else x
    assert holds((), {}) is True


def test_the_fix_for_a_missing_kit_installs_this_kit_never_pypis_kit() -> None:
    # `import kit` is this project, whose distribution is also named "kit": PyPI's kit is another one
    from kit.doctor import packages
    from kit.doctor.packages import _distribution_of

    checkout = Path(packages.__file__).resolve().parents[2]
    assert _distribution_of("kit") == f"-e {checkout}"
    assert _distribution_of("pytest_asyncio") == "pytest-asyncio"


def test_another_stacks_key_is_rejected_by_the_server_with_a_fix_that_reads(stack):
    from kit.doctor.key_source import KeySource
    from kit.doctor.reachability import service_checks
    from kit.stack.keys import new_keys

    foreign = new_keys().anon_key  # signed with another stack's JWT secret
    [rest, *_] = service_checks(stack.url, foreign, source=KeySource("embedded", f"the stack at {stack.url}"))
    assert rest.status == FAIL and "HTTP 401" in rest.evidence
    assert rest.fix == ("the key belongs to another project or stack, or expired: copy it again; "
                        f"`kit stack status` prints the anon or service_role key of the stack at {stack.url}")
    assert foreign not in str(rest)
