"""Which stack the plugin's fixtures use, the migrations they apply, and what --help says.

The project is ``<tmp>/app-…`` beside the ``plugin_stack`` (conftest.py), ``<tmp>/.kit/stack``:
its nearest ``.kit/stack``, as a project's own stack is for ``python -m kit stack status``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import kit
from kit.pytest.fixtures import JWT_SECRET_ENV
from kit.targets import ENV_NAMES

pytest_plugins = ("pytester",)

SUITE = '''
import os
import pathlib

BOOKS = os.environ["KIT_TEST_BOOKS"]


def test_the_projects_stack_with_its_migrations(kit_clients, kit_stack):
    pathlib.Path("seen").write_text(kit_stack.stack_dir)
    rows = kit_clients.sync.table(BOOKS).select("title").order("id").execute().data
    assert rows == [{"title": "first"}, {"title": "second"}]


def test_fails(kit_clients):
    assert kit_clients.sync.table(BOOKS).select("title").execute().data == []
'''


def _run(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           f"--basetemp={project / 'bt'}", "--kit-migrations",
                           "supabase/migrations", "tests"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=240,
                          check=False)


def test_fixtures_use_the_nearest_stack_apply_migrations_once_and_name_the_stack_on_failure(
        plugin_stack: Path):
    target = kit.stack.status(plugin_stack)
    suffix = uuid.uuid4().hex[:8]
    books = f"books_{suffix}"
    project = plugin_stack.parent.parent / f"app-{suffix}"
    migrations = project / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "tests" / "test_books.py").write_text(SUITE)
    (project / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    # applied in name order, each once: 2 inserts rows a second run would collide with
    (migrations / "20261130000002_rows.sql").write_text(
        f"INSERT INTO public.{books} (id, title) VALUES (1, 'first'), (2, 'second');")
    (migrations / "20261130000001_books.sql").write_text(
        f"CREATE TABLE public.{books} (id int PRIMARY KEY, title text);\n"
        f"GRANT ALL ON public.{books} TO service_role;\nNOTIFY pgrst, 'reload schema';")
    elsewhere = "http://127.0.0.1:9"  # the app's API_URL names another stack
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "KIT_STACK"))}
    env["API_URL"], env["KIT_TEST_BOOKS"] = elsewhere, books
    for _ in range(2):
        done = _run(project, env)
        out = done.stdout + done.stderr
        assert re.search(r"1 failed, 1 passed", out), out
        assert (project / "seen").read_text() == str(plugin_stack)
        assert (f"kit: the kit fixtures used the embedded stack in {plugin_stack} at {target.url}, "
                f"but API_URL is {elsewhere} (another stack, other tables): --kit-stack-dir DIR "
                "picks the stack") in out
    # the stack was running before: kept running; the kit's lock is inside its folder
    assert kit.stack.status(plugin_stack).url == target.url
    assert sorted(p.name for p in plugin_stack.parent.iterdir()) == ["stack"]
    assert not (project / ".kit").exists()


def test_other_stack_line_only_when_the_env_names_another_api():
    from kit.pytest.sections import other_stack_line

    url = "http://127.0.0.1:40123"
    assert other_stack_line("/p/.kit/stack", url, {"API_URL": url + "/"}) == ""
    assert other_stack_line("/p/.kit/stack", url, {}) == ""
    line = other_stack_line("/p/.kit/stack", url, {"SUPABASE_URL": "https://abc.supabase.co",
                                                   "API_URL": url})
    assert line.startswith(f"kit: the kit fixtures used the embedded stack in /p/.kit/stack at {url}, "
                           "but SUPABASE_URL is https://abc.supabase.co (another stack")


def test_help_names_the_variables_each_target_reads(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    helped = " ".join(pytester.runpytest_subprocess("--help", timeout=120).stdout.str().split())
    option = helped.split("--kit-target={embedded,local,remote}", 1)[1].split("--kit-stack-dir=DIR", 1)[0]
    for kind in ("local", "remote"):
        names = ENV_NAMES[kind]
        said = option.split(f"{kind}: reads ", 1)[1].split(";", 1)[0].split(". ", 1)[0]
        for name in (names.url, names.key, names.anon_key, names.db_url, names.any_key,
                     JWT_SECRET_ENV[kind]):
            if name:
                assert name in said, (kind, name, said)
    assert "SUPABASE_" not in option.split("local: reads ", 1)[1].split(";", 1)[0]
    assert "the nearest .kit/stack" in helped and "--kit-private-stack" in helped
    group = helped.split("the Supabase sync/async kit", 1)[1].split("repeatable", 1)[0]
    assert "--kit-migrations" in group and "`" not in group  # plain text, as kit's own
