"""kit scan on real trees: newer grammar, symlinks, FIFOs, notebooks, columns, vendored dirs,
monorepos. Pure files under tmp_path; no server."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kit.scan import scan
from kit.scan.cli import main

SYNC_DB = "from supabase import create_client\n\nclient = create_client('u', 'k')\n"
ASYNC_DB = ("from supabase import acreate_client\n\n\nasync def make():\n"
            "    return await acreate_client('u', 'k')\n")
HANDLER = ("import asyncio\nfrom app.db import client\n\n\nasync def handler():\n"
           "    await asyncio.sleep(0)\n    client.table('t').select('*').execute()\n")


def _notebook(path: Path, cells: list[str], language: str = "python") -> Path:
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "k", "display_name": "k", "language": language}},
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": source} for source in cells]}))
    return path


def test_python_312_and_313_syntax_parses_and_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "new.py").write_text(
        "from supabase import Client\n\n"
        "type Rows[T = dict] = list[T]\n\n\n"
        "class Repo[T = int]:\n"
        "    def __init__(self, db: Client) -> None:\n        self.db = db\n\n"
        "    async def get[U](self, key: U) -> str:\n"
        "        name = 'x'\n"
        "        self.db.table('t').select('*').execute()\n"
        "        return f\"{name + f\"{'nested'}\"}\"\n")
    result = scan(tmp_path)
    assert result.problems == []
    assert [(f.line, f.code) for f in result] == [(12, "KIT102")]


def test_a_file_no_grammar_reads_names_both_grammars(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("async def f(:\n    pass\n")
    result = scan(tmp_path)
    [problem] = result.problems
    assert "neither Python 3." in problem.message and "libcst" in problem.message
    assert result.exit_code == 2


def test_dangling_symlink_is_one_notice_and_the_scan_goes_on(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SYNC_DB + "\n\nasync def f():\n    await client.auth.sign_out()\n")
    (tmp_path / "gone.py").symlink_to(tmp_path / "nowhere.py")
    result = scan(tmp_path)
    assert [n.message for n in result.notices] == ["dangling symlink: skipped"]
    assert [f.code for f in result] == ["KIT101"] and result.exit_code == 1


def test_symlink_to_a_scanned_file_is_not_scanned_twice(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SYNC_DB + "\n\nasync def f():\n    await client.auth.sign_out()\n")
    (tmp_path / "alias.py").symlink_to(tmp_path / "app.py")
    result = scan(tmp_path)
    assert result.files_scanned == 1 and len(result) == 1


def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "ok.py").write_text("import asyncio\n")
    result = scan(tmp_path)
    assert [(Path(n.path).name, n.message) for n in result.notices] == [("pipe.py", "a FIFO: skipped")]
    assert result.exit_code == 0


def test_notebook_of_another_kernel_is_skipped_with_a_note(tmp_path: Path) -> None:
    _notebook(tmp_path / "r.ipynb", ["library(async)\nawait <- function(x) x"], language="R")
    result = scan(tmp_path)
    assert result.problems == [] and len(result) == 0
    assert result.notices[0].message.endswith("is a r notebook: skipped")


def test_python_cell_magics_keep_their_code_other_languages_do_not(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "nb.ipynb", [
        "from supabase import create_client\nc = create_client('u', 'k')",
        "%%time\nawait c.table('t').select('*').execute()",
        "%%capture out\nawait c.auth.sign_out()",
        "%%bash\nawait c.auth.sign_out() (",
    ])
    result = scan(path)
    assert result.problems == []
    assert [(f.cell, f.line, f.code) for f in result] == [(2, 2, "KIT101"), (3, 2, "KIT101")]


def test_columns_count_characters_not_utf8_bytes(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        SYNC_DB + "\n\nasync def f():\n    note = 'héllo wörld'; await client.auth.sign_out()\n",
        encoding="utf-8")
    [finding] = scan(tmp_path)
    line = (tmp_path / "app.py").read_text(encoding="utf-8").splitlines()[finding.line - 1]
    assert line[finding.col - 1:].startswith("await client.auth.sign_out()")
    assert finding.end_col - finding.col == len("await client.auth.sign_out()")


def test_vendored_directories_are_skipped_unless_asked(tmp_path: Path,
                                                        capsys) -> None:
    bug = SYNC_DB + "\n\nasync def f():\n    await client.auth.sign_out()\n"
    for vendored in (".venv/lib", "venv", "lib/site-packages/pkg", "node_modules/x", "build"):
        (tmp_path / vendored).mkdir(parents=True)
        (tmp_path / vendored / "vendored.py").write_text(bug)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mine.py").write_text(bug)
    assert [Path(f.path).name for f in scan(tmp_path)] == ["mine.py"]
    assert len(scan(tmp_path, include_vendored=True)) == 6
    assert main([str(tmp_path), "--include-vendored", "--format", "json"]) == 1
    assert len(json.loads(capsys.readouterr().out)["findings"]) == 6


def test_monorepo_services_with_the_same_module_names_are_not_confused(tmp_path: Path) -> None:
    for service, db in (("billing", SYNC_DB), ("chat", ASYNC_DB)):
        root = tmp_path / "services" / service
        (root / "app").mkdir(parents=True)
        (root / "pyproject.toml").write_text(f"[project]\nname = '{service}'\n")
        (root / "app" / "__init__.py").write_text("")
        (root / "app" / "db.py").write_text(db)
        (root / "app" / "routes.py").write_text(HANDLER)
    found = [(Path(f.path).parts[-3], f.code) for f in scan(tmp_path)]
    # billing's client is sync: blocking; chat's `client` is not defined in its app/db.py
    assert found == [("billing", "KIT102")]
    (tmp_path / "services" / "chat" / "app" / "db.py").write_text(
        "from supabase import AsyncClient\n\nclient: AsyncClient = AsyncClient('u', 'k')\n")
    found = sorted((Path(f.path).parts[-3], f.code) for f in scan(tmp_path))
    assert found == [("billing", "KIT102"), ("chat", "KIT103")]
