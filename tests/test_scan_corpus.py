"""Every label in tests/scan_corpus/ holds: the exact set of findings per file, no more, no less."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.scan import ScanResult, scan

CORPUS = Path(__file__).parent / "scan_corpus"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".py", ".ipynb"))

Label = tuple[int | None, int, str, str]  # (cell, line, code, confidence)


def _labels_in(lines: list[str], cell: int | None) -> tuple[set[Label], bool]:
    labels: set[Label] = set()
    marked = False
    for number, line in enumerate(lines, start=1):
        if "# expect:" not in line:
            continue
        marked = True
        for item in line.split("# expect:", 1)[1].split(","):
            item = item.strip()
            if item and item != "none":
                code, _, confidence = item.partition(":")
                labels.add((cell, number, code, confidence or "high"))
    return labels, marked


def expected(path: Path) -> tuple[set[Label], bool]:
    """The labelled findings of a corpus file, and whether it carries any label at all."""
    if path.suffix == ".py":
        return _labels_in(path.read_text().splitlines(), None)
    labels: set[Label] = set()
    marked = False
    for number, cell in enumerate(json.loads(path.read_text())["cells"], start=1):
        if cell["cell_type"] == "code":
            found, cell_marked = _labels_in("".join(cell["source"]).split("\n"), number)
            labels |= found
            marked = marked or cell_marked
    return labels, marked


@pytest.fixture(scope="module")
def corpus_result() -> ScanResult:
    return scan(CORPUS)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_findings_match_labels_exactly(path: Path, corpus_result: ScanResult) -> None:
    labels, marked = expected(path)
    assert marked, f"{path.name} has no `# expect:` label: mark negatives with `# expect: none`"
    found = {(f.cell, f.line, f.code, f.confidence) for f in corpus_result
             if Path(f.path).name == path.name}
    assert sorted(found - labels, key=str) == [], "extra findings"
    assert sorted(labels - found, key=str) == [], "missing findings"


def test_corpus_parses_and_covers_every_rule(corpus_result: ScanResult) -> None:
    assert corpus_result.problems == []
    assert corpus_result.files_scanned == len(FILES)
    assert set(corpus_result.counts) == {f"KIT10{i}" for i in range(1, 9)}


def test_prefilter_changes_nothing(corpus_result: ScanResult) -> None:
    unfiltered = scan(CORPUS, prefilter=False)
    assert unfiltered.findings == corpus_result.findings
