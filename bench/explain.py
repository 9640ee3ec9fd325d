"""Bench kit.explain on the labelled failure corpus (tests/explain_corpus*.py).

    .venv/bin/python bench/explain.py            # a fresh embedded stack in a temporary folder
    .venv/bin/python bench/explain.py --json     # the figures as JSON

Every case makes a real failure through the real supabase-py clients (the embedded stack, the
broken-edge test server, fault rules, a subprocess out of file descriptors) and kit.explain
names a cause. Figures:

- accuracy: the share of cases whose explanation id equals the label
- confident-wrong: a wrong cause given at confidence >= 0.5 (the answer that makes a user stop
  looking; the goal is 0)
- honest unknowns: "not recognised" answers (confidence 0), split into those the corpus labels
  as unknown (right) and those it labels with a cause (a miss, but not a wrong cause)
- the rest of the misses: a wrong cause at confidence < 0.5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
from collections import Counter
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import edge_server
from explain_corpus import CASES, CorpusEnv, CorpusError, run_corpus

import kit
from kit.explain import CATALOGUE

CONFIDENT = 0.5


def score(results: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """Accuracy, confident-wrong and honest-unknown counts of ``run_corpus``'s results (pure)."""
    right, confident_wrong, unknown_right, unknown_missed, low_wrong, broken = [], [], [], [], [], []
    by_kind: Counter[str] = Counter()
    right_by_kind: Counter[str] = Counter()
    for case_id, (item, why) in results.items():
        by_kind[item.kind] += 1
        if isinstance(why, CorpusError):
            broken.append(f"{case_id}: {why}")
            continue
        if why.explainer == item.label:
            right.append(case_id)
            right_by_kind[item.kind] += 1
            if item.label == "not_recognised":
                unknown_right.append(case_id)
        elif not why.recognised:
            unknown_missed.append(case_id)
        elif why.confidence >= CONFIDENT:
            confident_wrong.append(f"{case_id}: {why.explainer} ({why.confidence:.2f}), "
                                   f"label {item.label}")
        else:
            low_wrong.append(f"{case_id}: {why.explainer} ({why.confidence:.2f})")
    total = len(results)
    exercised = sorted({why.explainer for _, why in results.values()
                        if not isinstance(why, CorpusError) and why.explainer in CATALOGUE})
    size = len({entry.key for entry in CATALOGUE.values()})
    return {"catalogue_exercised": exercised, "catalogue_size": size, "cases": total, "right": len(right), "accuracy": round(len(right) / total, 4),
            "confident_wrong": confident_wrong, "honest_unknowns_labelled_unknown": unknown_right,
            "honest_unknowns_missed": unknown_missed, "wrong_below_0.5": low_wrong,
            "could_not_produce": broken,
            "by_kind": {kind: f"{right_by_kind[kind]}/{n}" for kind, n in sorted(by_kind.items())}}


async def measure(stack_dir: Path) -> dict[str, Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), edge_server._Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="edge-server", daemon=True).start()
    target = kit.stack.start(stack_dir)
    try:
        import explain_corpus_cases  # noqa: F401  (registers the cases)

        env = await CorpusEnv.build(target, f"http://127.0.0.1:{server.server_address[1]}")
        try:
            return score(await run_corpus(env, CASES))
        finally:
            await env.close()
    finally:
        server.shutdown()
        kit.stack.stop(stack_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kit-bench-explain-") as folder:
        figures = asyncio.run(measure(Path(folder) / "stack"))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"corpus: {figures['cases']} real failures, kinds {figures['by_kind']}")
    print(f"accuracy: {figures['right']}/{figures['cases']} = {figures['accuracy']:.1%}")
    print(f"confident-wrong (wrong cause at confidence >= {CONFIDENT}): "
          f"{len(figures['confident_wrong'])}")
    for line in figures["confident_wrong"]:
        print(f"  {line}")
    print(f"honest unknowns: {len(figures['honest_unknowns_labelled_unknown'])} labelled unknown "
          f"(right), {len(figures['honest_unknowns_missed'])} with a known label (missed)")
    print(f"catalogue entries chosen for a real answer: {len(figures['catalogue_exercised'])} of "
          f"{figures['catalogue_size']} ({', '.join(figures['catalogue_exercised'])})")
    for key in ("honest_unknowns_missed", "wrong_below_0.5", "could_not_produce"):
        for line in figures[key]:
            print(f"  {key}: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
