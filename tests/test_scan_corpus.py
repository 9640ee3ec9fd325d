"""Every label in tests/scan_corpus/ holds: the exact set of findings per file, no more, no less."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.scan import RULES, ScanResult, scan
from kit.scan.labels import read_labels

CORPUS = Path(__file__).parent / "scan_corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".py", ".ipynb"))


@pytest.fixture(scope="module")
def corpus_result() -> ScanResult:
    return scan(CORPUS)


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(CORPUS).as_posix() for p in FILES])
def test_corpus_file_findings_match_labels_exactly(path: Path, corpus_result: ScanResult) -> None:
    labels, marked = read_labels(path)
    assert marked, f"{path.name} has no `# expect:` label: mark negatives with `# expect: none`"
    found = {(f.cell, f.line, f.code, f.confidence) for f in corpus_result
             if Path(f.path).resolve() == path.resolve()}
    assert sorted(found - labels, key=str) == [], "extra findings"
    assert sorted(labels - found, key=str) == [], "missing findings"


def test_corpus_parses_and_covers_every_rule(corpus_result: ScanResult) -> None:
    assert corpus_result.problems == []
    assert corpus_result.files_scanned == len(FILES)
    # KIT104 only repeats the KIT102s inside its function, so it is folded into them...
    assert set(corpus_result.counts) == set(RULES.codes) - {"KIT104"}
    # ...and shows on its own when KIT102 is not selected
    assert scan(CORPUS, ignore=["KIT102"]).counts["KIT104"] >= 5


def test_prefilter_changes_nothing(corpus_result: ScanResult) -> None:
    unfiltered = scan(CORPUS, prefilter=False)
    assert unfiltered.findings == corpus_result.findings
