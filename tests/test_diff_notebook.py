"""The same kit.diff code from a papermill-run notebook: sync cell, top-level await, watch_loop."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import nbformat
import psycopg
import pytest

import kit
from kit.targets import Target

CELLS = [
    ("STACK_DIR = ''\nOUT = ''\nTABLE = ''\nBUCKET = ''\nOBJECT = ''", ["parameters"]),
    ("import json, time\nimport kit\ntarget = kit.stack.start(STACK_DIR)", []),
    (("report = kit.diff(lambda c: c.storage.from_(BUCKET).download(OBJECT), target=target,\n"
      "                  modes='sync,blocking,to_thread', concurrency=3)\nreport"), []),
    (("awaited = await kit.adiff(lambda c: c.table(TABLE).select('*').execute(), target=target,\n"
      "                          modes='sync,async,to_thread,unawaited')\nawaited"), []),
    ("with kit.watch_loop() as w:\n    time.sleep(0.1)\nw", []),
    (("with open(OUT, 'w') as f:\n"
      "    json.dump({'sync_cell': report.summary(), 'await_cell': awaited.summary(),\n"
      "               'watch': w.report.to_dict()}, f)"), []),
]


@pytest.mark.slow
def test_diff_in_a_papermill_notebook(stack: Target, stack_dir: Path, db_url: str,
                                      tmp_path: Path) -> None:
    import papermill

    table, bucket = f"nb_{uuid.uuid4().hex[:8]}", f"nb-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create table public.{table} (id int primary key, v text)")
        conn.execute(f"insert into public.{table} values (1, 'one')")
    c = kit.clients(stack)
    c.sync.storage.create_bucket(bucket, options={"public": False})
    c.sync.storage.from_(bucket).upload("blob.bin", os.urandom(3_000_000),
                                        {"content-type": "application/octet-stream"})
    c.close()
    notebook = nbformat.v4.new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in CELLS]
    source, executed, out = tmp_path / "diff.ipynb", tmp_path / "diff.out.ipynb", tmp_path / "out.json"
    nbformat.write(notebook, source)
    papermill.execute_notebook(str(source), str(executed), kernel_name="python3", progress_bar=False,
                               parameters={"STACK_DIR": str(stack_dir), "OUT": str(out),
                                           "TABLE": table, "BUCKET": bucket, "OBJECT": "blob.bin"})
    result = json.loads(out.read_text())
    modes = {m["mode"]: m for m in result["sync_cell"]["modes"]}
    assert modes["blocking"]["equal_to_baseline"] and modes["to_thread"]["equal_to_baseline"]
    stalls = [s for s in modes["blocking"]["stalls"] if s["sync_sdk_call"]]
    assert stalls, modes["blocking"]
    assert stalls[0]["sdk_frame"]["file"] == "storage3/_sync/file_api.py"
    assert "download(OBJECT)" in stalls[0]["user_frame"]["source"]  # the notebook cell's line
    awaited = {m["mode"]: m for m in result["await_cell"]["modes"]}
    assert awaited["async"]["equal_to_baseline"] and awaited["to_thread"]["equal_to_baseline"]
    assert awaited["unawaited"]["outcome"] == "coroutine" and awaited["unawaited"]["exchanges"] == 0
    watch = result["watch"]["stalls"]
    assert watch and watch[0]["user_frame"]["source"] == "time.sleep(0.1)"
    text = executed.read_text()
    assert "<DiffReport 3 modes" in text and "cannot be called from a running event loop" not in text
    assert stack.service_role_key not in text
