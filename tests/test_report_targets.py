"""The "point it at my project" journey, end to end with real stacks and real kernels:

- a second kit stack in another folder stands in for a user's `supabase start` (with
  Supabase's PostgREST setting ``db-tx-end = commit``); its variables are exported the way
  ``supabase status -o env`` prints them, and the whole report runs with ``--profile local``;
- a user's package outside the repository is plugged in by import path from the folder
  ``kit report`` runs in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import kit
from kit.targets import Target

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def users_local_supabase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A second stack, in its own folder, answering like Supabase (tx=rollback ignored)."""
    folder = tmp_path_factory.mktemp("users-project") / "supabase" / ".kit" / "stack"
    before = os.environ.get("KIT_DB_TX_END")
    os.environ["KIT_DB_TX_END"] = "commit"
    try:
        target = kit.stack.start(folder)
    finally:
        if before is None:
            os.environ.pop("KIT_DB_TX_END")
        else:
            os.environ["KIT_DB_TX_END"] = before
    yield target
    kit.stack.stop(folder)


def _status_env(target: Target) -> str:
    """What ``supabase status -o env`` prints (NAME="value" lines)."""
    values = {"API_URL": target.url, "ANON_KEY": target.anon_key,
              "SERVICE_ROLE_KEY": target.service_role_key, "DB_URL": target.database_url}
    return "".join(f'{name}="{value}"\n' for name, value in values.items())


def test_whole_report_with_the_local_profile_against_a_users_local_supabase(
        users_local_supabase: Target, tmp_path: Path) -> None:
    with psycopg.connect(users_local_supabase.database_url, autocommit=True) as conn:
        # the user's own tables, one named like a checkpoint table: never touched by the kit
        conn.execute("create table public.chats (id text primary key, user_id text)")
        conn.execute("insert into public.chats values ('mine', 'me')")
        conn.execute("create table public.orders (id int primary key)")
    (tmp_path / "status.env").write_text(_status_env(users_local_supabase))
    out = tmp_path / "reports"
    script = (f'set -a; eval "$(cat status.env)"; set +a; exec "{sys.executable}" -m kit report '
              f'--profile local --out "{out}" --progress quiet')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "KIT_STACK"))}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "latest" / "summary.json").read_text())
    assert summary["target"] == {"kind": "local", "url": users_local_supabase.url}
    assert sorted(nb["name"] for nb in summary["notebooks"]) == NOTEBOOKS
    assert all(nb["status"] == "executed" and nb["checks"] for nb in summary["notebooks"])
    executed = (out / "latest" / "04_diff_your_own_call.ipynb").read_text()
    assert "/rest/v1/kit_chats" in executed  # the default operation used the scenario's kit_ table
    for path in (out / "latest").iterdir():
        text = path.read_text(errors="replace")
        assert users_local_supabase.service_role_key not in text and users_local_supabase.anon_key not in text
    with psycopg.connect(users_local_supabase.database_url) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'public'").fetchall()]
        functions = [r[0] for r in conn.execute("SELECT proname FROM pg_proc WHERE pronamespace = "
                                                "'public'::regnamespace").fetchall()]
        buckets = [r[0] for r in conn.execute("SELECT id FROM storage.buckets").fetchall()]
        chats = conn.execute("SELECT id, user_id FROM public.chats").fetchall()
    # every notebook's kit_ tables (00 and 04 included), functions and buckets are gone
    assert sorted(tables) == ["chats", "orders"], tables
    assert not [f for f in functions if f.startswith("kit_")] and not buckets, (functions, buckets)
    assert chats == [("mine", "me")]


def test_a_server_that_ignores_tx_rollback_is_reported_as_committed(users_local_supabase: Target,
                                                                     unique: str) -> None:
    local = kit.target("local", env={k.strip(): v.strip('"') for k, _, v in (
        line.partition("=") for line in _status_env(users_local_supabase).splitlines())})
    table = f"kit_probe_{unique}"
    with psycopg.connect(users_local_supabase.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, v text)")
        conn.execute("NOTIFY pgrst, 'reload schema'")
        report = kit.diff(lambda c: c.table(table).insert({"v": "x"}).execute(), target=local,
                          modes="sync,async")
        left = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        conn.execute(f"DROP TABLE {table}")
    assert left == 2 and not report.failed
    assert "0 of 2 database writes rolled back, 2 committed (the server ignored Prefer: " \
           "tx=rollback)" in report.verdict
    applied = [dict(ex.response_headers).get("preference-applied") for ex in report.capture]
    assert applied == ["return=representation"] * 2  # answered as PostgREST does; no tx= echoed


USER_SERVICE = '''
import asyncio


class MyAds:
    """A user's own ad service: sync SDK calls kept off the loop."""

    def __init__(self, supabase, reference_bucket="reference-ads", generated_bucket="generated-ads"):
        self.supabase = supabase
        self.generated_bucket = generated_bucket

    async def download_image(self, storage_path):
        bucket, _, path = storage_path.partition("/")
        return await asyncio.to_thread(self.supabase.storage.from_(bucket).download, path)

    async def get_image_as_base64(self, storage_path):
        import base64
        data = await self.download_image(storage_path)
        if not data.startswith(b"RIFF"):
            raise ValueError("not an image")
        return base64.b64encode(data).decode()

    async def upload_generated_ad(self, name, data, content_type):
        await asyncio.to_thread(self.supabase.storage.from_(self.generated_bucket).upload, name,
                                data, {"content-type": content_type})
        return name
'''


def test_a_users_package_outside_the_repo_is_plugged_in_by_import_path(
        stack: Target, stack_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "myproject"
    (project / "myapp" / "services").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'myapp'\n")
    (project / "myapp" / "__init__.py").write_text("")
    (project / "myapp" / "services" / "__init__.py").write_text("")
    (project / "myapp" / "services" / "ads.py").write_text(USER_SERVICE)
    scripts = project / "scripts"  # run from a subfolder: the project root is found
    scripts.mkdir()
    out = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "kit", "report", "--only", "01_storage_download",
                           "-p", "implementation=myapp.services.ads:MyAds", "-p", "concurrency=2",
                           "-p", "latency_ms=10", "--stack-dir", str(stack_dir), "--out", str(out),
                           "--progress", "quiet"],
                          cwd=scripts, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "latest" / "summary.json").read_text())
    checks = [c["name"] for c in summary["notebooks"][0]["checks"]]
    assert "myapp.services.ads:MyAds returns the exact image bytes under concurrency 2" in checks
    executed = json.loads((out / "latest" / "01_storage_download.ipynb").read_text())
    comparison = next(c for c in executed["cells"] if "comparison = scenario.compare" in "".join(c["source"]))
    table = "".join(o.get("data", {}).get("text/plain", "") if isinstance(o.get("data", {}).get("text/plain", ""), str)
                    else "".join(o["data"]["text/plain"]) for o in comparison["outputs"])
    assert "myapp.services.ads:MyAds" in table  # its own row beside the built-in variants


def test_a_process_that_ends_without_cleanup_leaves_nothing(users_local_supabase: Target,
                                                            tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "KIT_"))}
    env.update({"API_URL": users_local_supabase.url, "DB_URL": users_local_supabase.database_url,
                "SERVICE_ROLE_KEY": users_local_supabase.service_role_key or "",
                "ANON_KEY": users_local_supabase.anon_key})
    script = ("import kit\ns = kit.scenarios.llm_logging(kit.target('local'))\n"
              "print(sorted(s.setup()))\n")  # no cleanup() call: the process just ends
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and "kit_chats" in done.stdout, done.stderr[-2000:]
    with psycopg.connect(users_local_supabase.database_url) as conn:
        left = conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                            "table_schema = 'public' AND table_name LIKE 'kit%'").fetchall()
    assert left == []
