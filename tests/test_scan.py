"""kit.scan: CLI, formats, notebooks, ignores, selection, display; no supabase server needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kit.scan
from kit.scan import RULES, UnknownRule, scan
from kit.scan.cli import main
from kit.scan.formats import FORMATS, UnknownFormat, render
from kit.scan.notebook import NotebookSource

BROKEN = '''from supabase import create_client

client = create_client("u", "k")


async def handler():
    await client.table("a").select("*").execute()
    client.storage.from_("b").download("x")
'''


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(BROKEN)
    return path


def _notebook(tmp_path: Path, *cells: tuple[str, str]) -> Path:
    data = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": kind, "metadata": {}, "source": source,
                       **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                      for kind, source in cells]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(data))
    return path


def test_text_output_and_exit_code_1_on_findings(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(broken)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{broken}:7:5 KIT101 `await client.table(…).select(…).execute(…)`")
    assert "Fix: drop the `await`" in lines[0]
    assert lines[1].startswith(f"{broken}:8:5 KIT102 sync supabase call")
    assert lines[-1] == "2 findings (KIT101×1, KIT102×1) in 1 file scanned"


def test_exit_code_0_when_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.py").write_text("import asyncio\n\nasync def f():\n    await asyncio.sleep(0)\n")
    assert main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "0 findings in 1 file scanned"


def test_parse_error_is_reported_scan_goes_on_and_exit_is_2(
        broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (broken.parent / "bad.py").write_text("async def f(:\n    pass\n")
    assert main([str(broken.parent)]) == 2
    out = capsys.readouterr().out
    assert f"{broken.parent / 'bad.py'}:1:13 error: cannot parse: invalid syntax" in out
    assert "KIT101" in out and "KIT102" in out  # the other file was still scanned


def test_usage_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.py")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"kit scan: no such file or directory: {tmp_path / 'missing.py'}. "
        "Fix: pass existing .py / .ipynb files or directories")
    assert main([str(tmp_path), "--select", "KIT999"]) == 2
    err = capsys.readouterr().err
    assert "unknown rule 'KIT999'" in err and "KIT101, KIT102" in err
    assert main([]) == 2  # argparse: PATH is required


def test_select_and_ignore_by_code_and_prefix(broken: Path) -> None:
    assert [f.code for f in scan(broken, select=["KIT101"])] == ["KIT101"]
    assert [f.code for f in scan(broken, ignore=["KIT101"])] == ["KIT102"]
    assert [f.code for f in scan(broken, select=["kit10"], ignore=["KIT102"])] == ["KIT101"]
    with pytest.raises(UnknownRule, match="use one of KIT101"):
        scan(broken, ignore=["E501"])


def test_cli_select_accepts_comma_lists(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(broken), "--select", "KIT102,KIT104", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in data["findings"]] == ["KIT102"]
    assert data["rules"] == ["KIT102", "KIT104"]


def test_json_format_fields(broken: Path) -> None:
    data = json.loads(render(scan(broken), "json"))
    first = data["findings"][0]
    assert (first["line"], first["col"], first["code"], first["confidence"]) == (7, 5, "KIT101", "high")
    assert first["help_uri"] == "notebooks/03_llm_logging.ipynb"
    assert first["source"] == 'await client.table("a").select("*").execute()'
    assert data["errors"] == [] and data["files_scanned"] == 1


def test_sarif_structure(broken: Path) -> None:
    (broken.parent / "bad.py").write_text("client = (\n")
    log = json.loads(render(scan(broken.parent), "sarif"))
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == RULES.codes
    assert all(r["helpUri"].endswith(".ipynb") and r["shortDescription"]["text"]
               and r["defaultConfiguration"]["level"] in ("error", "warning") for r in rules)
    result = run["results"][0]
    assert result["ruleId"] == "KIT101" and rules[result["ruleIndex"]]["id"] == "KIT101"
    assert result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"].endswith("app.py")
    assert region["region"] == {"startLine": 7, "startColumn": 5, "endLine": 7, "endColumn": 50}
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"][
        "artifactLocation"]["uri"].endswith("bad.py")


def test_unknown_format_lists_known() -> None:
    with pytest.raises(UnknownFormat, match="use one of text, json, sarif, html"):
        FORMATS["xml"]


def test_notebook_magics_top_level_await_and_cell_locations(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path, ("markdown", "# title"),
        ("code", "%load_ext autoreload\n!pip list\nimport asyncio\nfrom supabase import create_client"),
        ("code", "%%bash\necho hi ("),
        ("code", "c = create_client('u', 'k')\nfiles = !ls\nawait c.table('a').select('*').execute()"),
        ("code", "asyncio.run(asyncio.sleep(0))"))
    result = scan(path)
    assert result.problems == []
    assert [(f.cell, f.line, f.col, f.code) for f in result] == [(4, 3, 1, "KIT101"), (5, 1, 1, "KIT105")]
    assert result[0].location == f"{path}:cell 4 line 3:1"


def test_notebook_findings_at_the_same_line_of_two_cells_stay_in_their_own_cells(tmp_path: Path) -> None:
    handler = "async def {name}():\n    return c.table('t').select('*').execute()"
    path = _notebook(tmp_path, ("code", "from supabase import create_client\nc = create_client('u', 'k')"),
                     ("code", handler.format(name="first")), ("markdown", "between"),
                     ("code", handler.format(name="second")))
    result = scan(path)
    assert [(f.cell, f.line, f.code) for f in result] == [(2, 2, "KIT102"), (4, 2, "KIT102")]
    assert "`async def first`" in result[0].message and "`async def second`" in result[1].message
    assert "`async def` at cell 4 line 1 awaits nothing else" in result[1].message


def test_notebook_cell_that_does_not_parse_is_reported_others_scanned(tmp_path: Path) -> None:
    path = _notebook(tmp_path, ("code", "import asyncio"), ("code", "def broken(:\n  pass"),
                     ("code", "asyncio.run(asyncio.sleep(0))"))
    result = scan(path)
    assert [(p.cell, p.line) for p in result.problems] == [(2, 1)]
    assert [(f.cell, f.code) for f in result] == [(3, "KIT105")]
    assert result.exit_code == 2


def test_not_a_notebook_is_a_parse_problem(tmp_path: Path) -> None:
    (tmp_path / "x.ipynb").write_text("{not json, but it mentions supabase")
    result = scan(tmp_path)
    assert len(result.problems) == 1 and "is not a Jupyter notebook" in result.problems[0].message


def test_notebook_source_locates_lines() -> None:
    nb = NotebookSource.from_json(json.dumps({"cells": [
        {"cell_type": "code", "source": ["a = 1\n", "b = 2"]},
        {"cell_type": "markdown", "source": "text"},
        {"cell_type": "code", "source": "x?\n%time y = 1\nz = %env HOME"}]}))
    assert nb.lines == ["a = 1", "b = 2", "pass", "pass", "z = None"]
    assert [nb.locate(n) for n in (1, 2, 3, 5)] == [(1, 1), (1, 2), (3, 1), (3, 3)]


def test_result_displays_itself(broken: Path) -> None:
    result = scan(broken)
    assert repr(result) == "<ScanResult 1 files, 2 findings (KIT101×1, KIT102×1), 0 parse errors>"
    bundle = result._repr_mimebundle_()
    assert bundle["text/plain"] == render(result, "text")
    html = bundle["text/html"]
    assert html.count("<tr>") == 3 and "notebooks/03_llm_logging.ipynb" in html
    assert "client.storage.from_(&quot;b&quot;).download(&quot;x&quot;)" in html  # source excerpt


def test_to_frame(broken: Path) -> None:
    frame = scan(broken).to_frame()
    assert list(frame.columns) == ["path", "cell", "line", "col", "code", "confidence",
                                   "message", "fix", "source"]
    assert frame["code"].tolist() == ["KIT101", "KIT102"]
    assert frame["line"].tolist() == [7, 8]


def test_files_that_cannot_hold_a_finding_are_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def f(:\n")  # no keyword: never parsed, not reported
    (tmp_path / "helper.py").write_text("from supabase import AsyncClient\n"
                                        "def make():\n    return AsyncClient('u', 'k')\n")
    # no keyword either, but it uses a client-bearing name exported by helper.py
    (tmp_path / "user.py").write_text("from helper import make\n\n"
                                      "def log():\n    make().table('t').insert({}).execute()\n")
    result = scan(tmp_path)
    assert result.problems == [] and result.files_scanned == 3
    assert [(Path(f.path).name, f.line, f.code) for f in result] == [("user.py", 4, "KIT103")]
    assert len(scan(tmp_path, prefilter=False).problems) == 1


def test_scan_needs_a_path() -> None:
    with pytest.raises(kit.scan.UnknownRule.__mro__[1], match="nothing to scan"):
        scan()


def test_rules_registry_unknown_code_lists_known() -> None:
    with pytest.raises(UnknownRule, match="unknown rule 'KIT1'. Fix: use one of KIT101, KIT102"):
        RULES["KIT1"]
    assert all(rule.help_uri.startswith("notebooks/0") and rule.fix for rule in RULES)


def test_python_m_kit_scan_runs_the_cli(broken: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "kit", "scan", str(broken), "--format", "sarif"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["runs"][0]["results"][0]["ruleId"] == "KIT101"


def test_kit_facade_scan_is_callable_and_keeps_the_package(broken: Path) -> None:
    import kit

    result = kit.scan(broken)
    assert [f.code for f in result] == ["KIT101", "KIT102"]
    assert kit.scan.RULES is RULES and "scan" in kit.__all__


def test_low_confidence_is_stated(tmp_path: Path) -> None:
    (tmp_path / "svc.py").write_text(
        "async def f(supabase):\n    supabase.storage.from_('b').download('x')\n")
    result = scan(tmp_path)
    assert [(f.line, f.code, f.confidence) for f in result] == [(2, "KIT102", "low")]
    assert "`async def` at line 1 awaits nothing else" in result[0].message  # KIT104 folded in
    assert "[low confidence: client kind guessed from its name]" in render(result, "text")
    sarif = json.loads(render(result, "sarif"))
    assert {r["level"] for r in sarif["runs"][0]["results"]} == {"note"}


def test_ignore_on_the_call_silences_the_folded_kit104_too(tmp_path: Path) -> None:
    body = ("from supabase import create_client\n\nc = create_client('u', 'k')\n\n\n"
            "async def f():\n    c.table('t').select('*').execute(){}\n")
    (tmp_path / "a.py").write_text(body.format("  # kit: ignore[KIT102]"))
    assert len(scan(tmp_path)) == 0
    (tmp_path / "a.py").write_text(body.format(""))
    assert [f.code for f in scan(tmp_path)] == ["KIT102"]
    assert [f.code for f in scan(tmp_path, select=["KIT104"])] == ["KIT104"]
    (tmp_path / "a.py").write_text(body.format("  # kit: ignore[KIT104]"))
    assert [f.code for f in scan(tmp_path)] == ["KIT102"]


def test_an_async_clients_method_handed_to_a_thread_says_await_it_directly(tmp_path: Path) -> None:
    (tmp_path / "svc.py").write_text(
        "import asyncio\nfrom supabase import acreate_client\n\n\nasync def f(oid):\n"
        "    sb = await acreate_client('u', 'k')\n"
        "    await asyncio.to_thread(sb.table('o').select('*').eq('id', oid).execute)\n"
        "    await asyncio.to_thread(sb.storage.from_('b').download, 'p')\n")
    first, second = scan(tmp_path)
    assert (first.code, first.line, second.line) == ("KIT108", 7, 8)
    assert "is given `sb.table(…)….execute`, an async method: the client is an AsyncClient " \
           "(from acreate_client())" in first.message
    assert "coroutine '….execute' was never awaited" in first.message
    assert first.fix == "await the call directly, no thread needed: `await sb.table(…)….execute()`"
    assert second.fix.endswith("`await sb.storage.from_(…).download(…)`")


def test_two_kit102_on_one_line_are_both_reported(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from supabase import create_client\n\nc = create_client('u', 'k')\n\n\n"
        "def helper(rows):\n    return c.table('t').insert(rows).execute()\n\n\n"
        "async def f():\n    helper(c.table('t').select('*').execute().data)\n")
    assert [(f.code, f.col) for f in scan(tmp_path)] == [("KIT102", 5), ("KIT102", 12)]


def test_the_annotation_a_client_comes_from_reads_with_its_article(tmp_path: Path) -> None:
    path = tmp_path / "handlers.py"
    path.write_text("import asyncio\nfrom supabase import AsyncClient, Client\n\n\n"
                    "async def handler(sb: AsyncClient, c: Client):\n"
                    "    c.table('t').select('*').execute()\n"
                    "    await asyncio.to_thread(sb.table('t').select('*').execute)\n")
    messages = " ".join(f.message for f in scan(path))
    assert "from a `Client` annotation" in messages and "from an `AsyncClient` annotation" in messages
