"""kit scan --fix / --diff: libcst rewrites that keep comments, never write what does not
compile, and turn the corpus' broken apps into ones that run against the embedded stack."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from kit.scan import scan
from kit.scan.cli import main
from kit.scan.fix import fix_paths, fix_source
from kit.scan.model import Finding
from kit.scan.values import thread_form
from kit.targets import Target

CORPUS = Path(__file__).parent / "scan_corpus"
RUNNABLE = ["fixable_app.py", "fixable_worker.py"]

APP = '''"""doc"""
from supabase import acreate_client, create_client

client = create_client("u", "k")


def helper(x):
    return client.table("t").select("*").eq("x", x).execute()


async def handler(x):
    # a comment that must survive
    rows = client.table("t").select("*").execute().data  # trailing comment
    await client.auth.sign_out()
    res = await helper(x)
    other = await acreate_client("u", "k")
    other.table("t").insert({}).execute()
    await other.table("t").select("*")
    return rows, res
'''

FIXED = '''"""doc"""
import asyncio

from supabase import acreate_client, create_client

client = create_client("u", "k")


def helper(x):
    return client.table("t").select("*").eq("x", x).execute()


async def handler(x):
    # a comment that must survive
    rows = (await asyncio.to_thread(lambda: client.table("t").select("*").execute())).data  # trailing comment
    await asyncio.to_thread(client.auth.sign_out)
    res = await asyncio.to_thread(helper, x)
    other = await acreate_client("u", "k")
    await other.table("t").insert({}).execute()
    await other.table("t").select("*").execute()
    return rows, res
'''


def test_fix_rewrites_every_kind_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP)
    (tmp_path / "before.py").write_text(APP)
    report = fix_paths([path])
    assert path.read_text() == FIXED
    assert len(report.result) == 0 and report.edits == 7  # two rounds: KIT101 drop, then wrap
    assert report.fixed == len(scan(tmp_path / "before.py")) == 5  # findings, as the scan counts
    assert repr(report) == "<FixReport 5 fixed in 1 files, 0 remaining>"


FORMS = '''import asyncio

from supabase import create_client

sb = create_client("u", "k")


def shared():
    return sb


def helper(*args):
    return sb.storage.from_("b").download(*args)


class Base:
    def fetch(self, row):
        return row


class Repo(Base):
    async def load(self, key):
        return super().fetch(sb.rpc("f", {"k": key}).execute())


async def handler(x):
    rows = sb.table("orders").select("*").order("id").execute()
    sb.auth.sign_out()
    helper(x, key=x.id)
    helper(str(x))
    helper(sb.table("t").select("*").execute().data)
    shared().auth.get_user()
    helper(await asyncio.sleep(0, x))
    return rows
'''
FORMS_FIXED = FORMS.replace(
    '''super().fetch(sb.rpc("f", {"k": key}).execute())''',
    '''super().fetch(await asyncio.to_thread(lambda: sb.rpc("f", {"k": key}).execute()))''').replace(
    '''    rows = sb.table("orders").select("*").order("id").execute()
    sb.auth.sign_out()
    helper(x, key=x.id)
    helper(str(x))
    helper(sb.table("t").select("*").execute().data)
    shared().auth.get_user()
    helper(await asyncio.sleep(0, x))''', '''    rows = await asyncio.to_thread(lambda: sb.table("orders").select("*").order("id").execute())
    await asyncio.to_thread(sb.auth.sign_out)
    await asyncio.to_thread(helper, x, key=x.id)
    await asyncio.to_thread(lambda: helper(str(x)))
    await asyncio.to_thread(lambda: helper(sb.table("t").select("*").execute().data))
    await asyncio.to_thread(lambda: shared().auth.get_user())
    await asyncio.to_thread(helper, await asyncio.sleep(0, x))''')


def test_to_thread_moves_the_whole_call_off_the_loop_unless_callee_and_arguments_are_plain(
        tmp_path: Path) -> None:
    path = tmp_path / "forms.py"
    path.write_text(FORMS)
    fixes = {f.line: f.fix for f in scan(path)}
    # each finding's Fix shows the form --fix writes
    assert "`await asyncio.to_thread(lambda: sb.table(…)….execute(…))` (the whole call" in fixes[27]
    assert "`await asyncio.to_thread(sb.auth.sign_out)`," in fixes[28]
    assert "`await asyncio.to_thread(helper, …)`," in fixes[29]
    assert "`await asyncio.to_thread(lambda: helper(…))`" in fixes[30]
    report = fix_paths([path])
    assert path.read_text() == FORMS_FIXED
    # the call on line 31 and the one in its argument are both off the loop, in one lambda
    assert len(report.result) == 0 and report.fixed == 9


@pytest.mark.parametrize(("call", "form"), [
    ("helper(x, k=y.z)", "args"), ("client.auth.sign_out()", "bare"),
    ("sb.table('t').select('*').execute()", "lambda"), ("clients[0].auth.get_user()", "lambda"),
    ("helper(str(x))", "lambda"), ("helper(x, k=make())", "lambda"),
    ("helper(await make())", "args"), ("super().fetch(make())", "args"),
    ("helper(y := make())", "args"), ("make().execute(await x)", "args"),
])
def test_thread_form_keeps_only_what_can_move_into_a_lambda(call: str, form: str) -> None:
    tree = ast.parse(f"async def f():\n    {call}\n")
    assert thread_form(tree.body[0].body[0].value) == form  # type: ignore[attr-defined]


CALL = '''
client = create_client("u", "k")


async def handler():
    return client.table("t").select("*").execute()
'''
# (imports before the fix, imports after it): isort's place (ruff I001 passes on each result)
LAYOUTS = {
    "stdlib block, future and docstring kept first": (
        '"""Doc."""\n\nfrom __future__ import annotations\n\nimport json\nimport os\n'
        "from typing import Any\n\nfrom supabase import create_client\n",
        '"""Doc."""\n\nfrom __future__ import annotations\n\nimport asyncio\nimport json\n'
        "import os\nfrom typing import Any\n\nfrom supabase import create_client\n"),
    "after a stdlib name that sorts first": (
        "import abc\n\nfrom supabase import create_client\n",
        "import abc\nimport asyncio\n\nfrom supabase import create_client\n"),
    "a stdlib section of its own, before third party": (
        '"""Doc."""\nfrom __future__ import annotations\n\nfrom supabase import create_client\n',
        '"""Doc."""\nfrom __future__ import annotations\n\nimport asyncio\n\n'
        "from supabase import create_client\n"),
    "plain imports before from-imports, local last": (
        "from os import path\n\nimport supabase\nfrom supabase import create_client\n\n"
        "from . import local\n",
        "import asyncio\nfrom os import path\n\nimport supabase\nfrom supabase import create_client"
        "\n\nfrom . import local\n"),
    "an alias is reused": (
        "import asyncio as aio\n\nfrom supabase import create_client\n",
        "import asyncio as aio\n\nfrom supabase import create_client\n"),
    "a from-import is reused": (
        "from asyncio import to_thread as off_loop\n\nfrom supabase import create_client\n",
        "from asyncio import to_thread as off_loop\n\nfrom supabase import create_client\n"),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_asyncio_is_imported_where_isort_puts_it(tmp_path: Path, layout: str) -> None:
    before, after = LAYOUTS[layout]
    path = tmp_path / "app.py"
    path.write_text(before + CALL)
    assert fix_paths([path]).fixed == 1
    text = path.read_text()
    assert text.startswith(after + "\n") and text.count("import asyncio") <= 1
    call = "aio.to_thread" if " as aio" in before else "off_loop" if "off_loop" in before else \
        "asyncio.to_thread"
    assert f"return await {call}(lambda: client.table" in text
    assert len(scan(path)) == 0  # the name it reused is understood as off the loop


def test_a_module_without_imports_gets_its_block_and_spacing() -> None:
    text = '"""Doc."""\n\n\nasync def handler(fetch):\n    return fetch()\n'
    wrap = Finding("x.py", 5, 12, "KIT102", "m", "f", edit="to_thread", end_line=5, end_col=19)
    assert fix_source(text, [wrap]) == (
        '"""Doc."""\n\nimport asyncio\n\n\nasync def handler(fetch):\n'
        "    return await asyncio.to_thread(fetch)\n", 1)


def test_diff_writes_nothing_and_exits_like_ruff(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "app.py"
    path.write_text(APP)
    assert main([str(path), "--diff"]) == 1
    captured = capsys.readouterr()
    assert path.read_text() == APP
    assert captured.out.startswith(f"--- {path}\n+++ {path}\n@@")
    assert "+    await asyncio.to_thread(client.auth.sign_out)\n" in captured.out
    assert captured.err.strip() == "Would fix 5 errors."  # the 5 findings a plain scan reports
    assert main([str(path), "--fix", "--diff"]) == 1  # ruff: --diff wins, nothing is written
    assert capsys.readouterr().out == captured.out and path.read_text() == APP
    assert main([str(path), "--fix"]) == 0
    assert "Found 5 errors (5 fixed, 0 remaining)." in capsys.readouterr().err
    assert main([str(path), "--diff"]) == 0 and capsys.readouterr().out == ""
    assert main([str(path), "--fix", "--diff"]) == 0 and capsys.readouterr().err.strip() == \
        "Would fix 0 errors."


def test_a_fix_that_reveals_another_counts_the_finding_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "one.py"  # KIT101 (await on a sync call): dropping it reveals a KIT102
    path.write_text("from supabase import create_client\n\nclient = create_client('u', 'k')\n\n\n"
                    "async def handler():\n    return await client.auth.get_user()\n")
    assert [f.code for f in scan(path)] == ["KIT101"]
    assert main([str(path), "--diff"]) == 1
    assert capsys.readouterr().err.strip() == "Would fix 1 error."
    assert main([str(path), "--fix"]) == 0
    assert "Found 1 error (1 fixed, 0 remaining)." in capsys.readouterr().err
    assert "return await asyncio.to_thread(client.auth.get_user)" in path.read_text()


def test_fix_exits_1_when_findings_remain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "left.py").write_text(  # KIT110 has no safe rewrite
        "from fastapi import APIRouter\nfrom supabase import create_client\nr = APIRouter()\n\n\n"
        "@r.get('/')\ndef route():\n    c = create_client('u', 'k')\n    return c\n")
    assert main([str(tmp_path), "--fix"]) == 1
    assert "Found 1 error (0 fixed, 1 remaining)." in capsys.readouterr().err


def test_a_rewrite_that_would_not_compile_is_not_made() -> None:
    text = "async def f(c):\n    g = lambda: c.table('t').select('*').execute()\n    return g\n"
    # an add_await on the call inside a sync lambda would be `await` outside an async function
    bogus = Finding("x.py", 2, 17, "KIT103", "m", "f", edit="add_await", end_line=2, end_col=52)
    assert fix_source(text, [bogus]) == (text, 0)
    assert fix_source("def f(:\n", [bogus]) == ("def f(:\n", 0)


def _run(path: Path, stack: Target, table: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPABASE_URL": stack.url, "SUPABASE_KEY": stack.service_role_key or "",
           "KIT_TABLE": table}
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", str(path)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", RUNNABLE)
def test_fixed_corpus_apps_scan_clean_and_run_against_the_stack(
        name: str, tmp_path: Path, stack: Target, db_url: str) -> None:
    path = tmp_path / name
    shutil.copy(CORPUS / name, path)
    with psycopg.connect(db_url, autocommit=True) as conn:
        tables = []
        for _ in range(2):
            tables.append(f"kit_scan_fix_{uuid.uuid4().hex[:8]}")
            conn.execute(f"create table public.{tables[-1]} (id serial primary key, text text, "  # type: ignore[arg-type]
                         "archived boolean not null default false)")
    try:
        broken = _run(path, stack, tables[0])
        assert broken.returncode != 0 and "TypeError" in broken.stderr
        found = len(scan(path))
        report = fix_paths([path])
        assert report.fixed == found >= 2 and len(scan(path)) == 0
        assert "# expect:" in path.read_text()  # comments survive
        fixed = _run(path, stack, tables[1])
        assert fixed.returncode == 0, fixed.stderr
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"drop table public.{tables[0]}, public.{tables[1]}")  # type: ignore[arg-type]


def _write_notebook(path: Path, *cells: tuple[str, str]) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    for kind, source in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if kind == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept\n")]
            cell.metadata["tags"] = ["mine"]
        notebook.cells.append(cell)
    path.write_text(nbformat.writes(notebook) + "\n")
    return path


def test_fix_rewrites_notebook_cells_and_keeps_outputs_magics_and_other_cells(tmp_path: Path) -> None:
    import nbformat

    path = _write_notebook(
        tmp_path / "debug.ipynb",
        ("markdown", "# Debugging the upload"),
        ("code", "from supabase import acreate_client, create_client\nsync = create_client('u', 'k')"),
        ("code", "async def load(key):\n    # why is it slow?\n    return sync.table('t').select('*').eq('k', key).execute()"),
        ("code", "other = await acreate_client('u', 'k')\nawait other.table('t').select('*')"),
        ("code", "%time x = 1\nasync def again():\n    return sync.table('t').select('*').execute()"))
    before = scan(path)
    assert [(f.cell, f.code) for f in before] == [(3, "KIT102"), (4, "KIT109"), (5, "KIT102")]
    original = path.read_text()

    shown = fix_paths([path], write=False)
    assert path.read_text() == original and shown.fixed == 2
    assert f"--- {path}:cell 3" in shown.diff and "+import asyncio" in shown.diff
    assert "cell 5" not in shown.diff and '"outputs"' not in shown.diff

    report = fix_paths([path])
    assert [(f.cell, f.code) for f in report.result] == [(5, "KIT102")]  # the magic cell is left alone
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    cells = [c.source for c in notebook.cells]
    assert cells[2] == ("import asyncio\n\n\nasync def load(key):\n    # why is it slow?\n"
                        "    return await asyncio.to_thread(lambda: sync.table('t').select('*').eq('k', key).execute())")
    assert cells[3] == "other = await acreate_client('u', 'k')\nawait other.table('t').select('*').execute()"
    assert cells[4] == nbformat.reads(original, as_version=4).cells[4].source
    assert all(c.outputs[0].text == "kept\n" and c.metadata["tags"] == ["mine"]
               for c in notebook.cells if c.cell_type == "code")


def test_a_notebook_that_imports_asyncio_in_an_earlier_cell_gets_no_second_import(tmp_path: Path) -> None:
    import nbformat

    path = _write_notebook(
        tmp_path / "nb.ipynb",
        ("code", "import asyncio as aio\nfrom supabase import create_client\nc = create_client('u', 'k')"),
        ("code", "async def a():\n    return c.table('t').select('*').execute()"),
        ("code", "async def b():\n    await c.auth.sign_out()"))
    report = fix_paths([path])
    assert len(report.result) == 0 and report.fixed == 2
    cells = [c.source for c in nbformat.read(path, as_version=4).cells]
    assert cells[1] == "async def a():\n    return await aio.to_thread(lambda: c.table('t').select('*').execute())"
    assert "import" not in cells[2] and "aio.to_thread(c.auth.sign_out)" in cells[2]


def test_fix_and_diff_name_each_notebook_cell_left_for_its_ipython_syntax(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_notebook(
        tmp_path / "nb.ipynb",
        ("code", "from supabase import create_client\nc = create_client('u', 'k')"),
        ("code", "async def a():\n    return c.table('t').select('*').execute()"),
        ("markdown", "Timing it:"),
        ("code", "%time x = 1\nasync def b():\n    return c.auth.get_user()"),
        ("code", "%%capture out\nasync def d():\n    return c.auth.sign_out()"),
        ("code", "files = !ls\nasync def e():\n    return c.storage.list_buckets()"),
        ("code", "c.auth?\n%time y = 2"))  # IPython syntax, but nothing to fix: not named
    skipped = ["nb.ipynb:cell 4: not rewritten (IPython syntax: %time); fix it by hand",
               "nb.ipynb:cell 5: not rewritten (IPython syntax: %%capture); fix it by hand",
               "nb.ipynb:cell 6: not rewritten (IPython syntax: !ls); fix it by hand"]
    assert main([str(path), "--diff"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["Would fix 1 error.", *(f"{tmp_path}/{line}" for line in skipped)]
    assert main([str(path), "--fix"]) == 1
    captured = capsys.readouterr()
    assert "finding" not in captured.out  # one summary, ruff's, not the plain scan's too
    assert [line.split(" KIT102 ")[0] for line in captured.out.splitlines()] == [
        f"{path}:cell {n} line 3:12" for n in (4, 5, 6)]
    assert captured.err.splitlines() == ["Found 4 errors (1 fixed, 3 remaining).",
                                         *(f"{tmp_path}/{line}" for line in skipped)]


THREADED = '''import asyncio

import anyio
from supabase import AsyncClient


async def save(db: AsyncClient, row: dict) -> None:
    await db.table("t").insert(row).execute()


async def handler(db: AsyncClient, row: dict) -> list:
    res = await asyncio.to_thread(db.table("t").select("*").eq("id", 1).execute)
    await asyncio.to_thread(save, db, row=row)
    await asyncio.get_running_loop().run_in_executor(None, save, db, row)
    await asyncio.to_thread(lambda: db.auth.sign_out())
    await anyio.to_thread.run_sync(save, db, row, cancellable=True)
    task = asyncio.create_task(asyncio.to_thread(db.auth.get_user))
    await asyncio.to_thread(lambda r: save(db, r), row)
    return [res, task]
'''


def test_fix_awaits_async_work_handed_to_a_thread_directly(tmp_path: Path) -> None:
    path = tmp_path / "threaded.py"
    path.write_text(THREADED)
    assert [f.line for f in scan(path) if f.code == "KIT108"] == [12, 13, 14, 15, 16, 17, 18]
    report = fix_paths([path])
    assert path.read_text() == THREADED.replace(
        'asyncio.to_thread(db.table("t").select("*").eq("id", 1).execute)',
        'db.table("t").select("*").eq("id", 1).execute()').replace(
        "asyncio.to_thread(save, db, row=row)", "save(db, row=row)").replace(
        "asyncio.get_running_loop().run_in_executor(None, save, db, row)", "save(db, row)").replace(
        "asyncio.to_thread(lambda: db.auth.sign_out())", "db.auth.sign_out()")
    # anyio's keywords are its own, a task's result is not awaited here, a lambda takes `row`
    assert report.fixed == 4 and [f.line for f in report.result] == [16, 17, 18]
