"""The stack process: up/status/down/reset/logs/migrate, through the CLI and the Python API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

import kit
from kit.errors import MigrationError, StackError, StackNotRunning, UsageError
from kit.stack.postgres import Cluster
from kit.stack.state import resolve_data_dir, resolve_schemas


def run_kit(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KIT_STACK_DIR"}
    return subprocess.run([sys.executable, "-m", "kit", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, input=stdin, timeout=120)


def postgres_processes(pgdata: Path) -> list[int]:
    """The postmaster running on ``pgdata`` (its pid file names it; as root its command line
    shows /proc/self/fd/3, not the path), and any process whose command line names the path."""
    import psutil

    found = [pid] if (pid := Cluster(pgdata, pgdata.parent / "postgres.json").running_pid()) else []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if cmdline and cmdline[0].endswith("postgres") and str(pgdata) in " ".join(cmdline):
            found.append(proc.info["pid"])
    return found


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory):
    """A second stack, owned by this module, so lifecycle tests can stop and restart it."""
    project = tmp_path_factory.mktemp("project")
    up = run_kit("stack", "up", "--json", cwd=project)
    assert up.returncode == 0, up.stderr
    yield project, json.loads(up.stdout)
    run_kit("stack", "down", cwd=project)


def test_status_prints_url_keys_and_database_like_supabase_status(own_stack):
    project, info = own_stack
    text = run_kit("stack", "status", cwd=project)
    assert text.returncode == 0
    for label in ("API URL", "DB URL", "anon key", "service_role key", "JWT secret"):
        assert f"{label}: " in text.stdout
    assert info["ANON_KEY"] in text.stdout and info["API_URL"] in text.stdout
    assert httpx.get(info["API_URL"] + "/_kit/health").json()["ok"] is True


def test_status_o_env_is_a_dotenv_a_shell_can_source_with_the_json_values(own_stack, tmp_path):
    project, info = own_stack
    out = run_kit("stack", "status", "-o", "env", cwd=project)
    assert out.returncode == 0
    names = [line.split("=", 1)[0] for line in out.stdout.splitlines()]
    assert names == sorted(info) and all(line.split("=", 1)[1].startswith('"') for line in out.stdout.splitlines())
    (tmp_path / ".env").write_text(out.stdout)
    sourced = subprocess.run(["bash", "-c", "set -a; . ./.env; env -0"], cwd=tmp_path, capture_output=True,
                             text=True, check=True, env={"PATH": os.environ["PATH"]}).stdout
    env = dict(item.split("=", 1) for item in sourced.split("\0") if "=" in item)
    assert {name: env[name] for name in info} == info


def test_up_reuses_the_running_stack(own_stack):
    project, info = own_stack
    again = run_kit("stack", "up", "--json", cwd=project)
    assert again.returncode == 0
    assert json.loads(again.stdout)["API_URL"] == info["API_URL"]


def test_a_notebook_folder_below_the_project_finds_the_same_stack(own_stack):
    project, info = own_stack
    (project / "notebooks").mkdir(exist_ok=True)
    assert resolve_data_dir(env={}, cwd=project / "notebooks") == project / ".kit" / "stack"
    found = run_kit("stack", "status", "--json", cwd=project / "notebooks")
    assert json.loads(found.stdout)["API_URL"] == info["API_URL"]


def test_a_stopped_stack_in_a_parent_folder_is_reused_not_duplicated(tmp_path):
    (tmp_path / ".kit" / "stack").mkdir(parents=True)
    (tmp_path / ".kit" / "stack" / "keys.json").write_text("{}")
    (tmp_path / "notebooks").mkdir()
    assert resolve_data_dir(env={}, cwd=tmp_path / "notebooks") == tmp_path / ".kit" / "stack"
    assert resolve_data_dir(env={}, cwd=tmp_path.parent) == tmp_path.parent / ".kit" / "stack"


def test_data_and_keys_survive_down_and_up(own_stack):
    project, info = own_stack
    with psycopg.connect(info["DB_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.survivor (id int primary key)")
        conn.execute("INSERT INTO public.survivor VALUES (7) ON CONFLICT DO NOTHING")
    assert run_kit("stack", "down", cwd=project).stdout.strip() == "stack stopped"
    assert run_kit("stack", "status", cwd=project).returncode == 1
    assert postgres_processes(project / ".kit" / "stack" / "pg") == []  # down stops PostgreSQL too
    up = run_kit("stack", "up", "--json", cwd=project)
    assert up.returncode == 0, up.stderr
    after = json.loads(up.stdout)
    assert after["ANON_KEY"] == info["ANON_KEY"]
    assert after["SERVICE_ROLE_KEY"] == info["SERVICE_ROLE_KEY"]
    assert after["API_URL"] == info["API_URL"]  # the port too: an exported SUPABASE_URL still works
    with psycopg.connect(after["DB_URL"]) as conn:
        assert conn.execute("SELECT id FROM public.survivor").fetchall() == [(7,)]


def test_a_restart_whose_last_port_is_taken_moves_and_says_so(own_stack):
    project, info = own_stack
    last = urlsplit(info["API_URL"]).port
    assert run_kit("stack", "down", cwd=project).returncode == 0
    with socket.socket() as squatter:  # another program took the port meanwhile
        squatter.bind(("127.0.0.1", last))
        squatter.listen()
        up = run_kit("stack", "up", "--json", cwd=project)
    assert up.returncode == 0, up.stderr
    moved = json.loads(up.stdout)["API_URL"]
    assert urlsplit(moved).port != last
    note = [line for line in up.stderr.splitlines() if line.startswith("kit: started")]
    assert len(note) == 1 and f"at {moved}; port {last} was taken" in note[0]
    assert run_kit("stack", "down", cwd=project).returncode == 0  # the port is free again:
    again = run_kit("stack", "up", "--json", cwd=project)        # back to the URL users exported
    assert json.loads(again.stdout)["API_URL"] == info["API_URL"]


def test_logs_show_the_stack_log(own_stack):
    project, _ = own_stack
    out = run_kit("stack", "logs", "-n", "5", cwd=project)
    assert "stack up at http://127.0.0.1:" in out.stdout


def test_migrate_applies_once_and_rolls_back_a_failing_file(own_stack, tmp_path):
    project, info = own_stack
    good = tmp_path / "001_memory.sql"
    good.write_text("CREATE TABLE IF NOT EXISTS public.conversations (id text primary key);\n"
                    "INSERT INTO public.conversations VALUES ('chat-1') ON CONFLICT DO NOTHING;\n")
    first = run_kit("stack", "migrate", str(good), cwd=project)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split()[0] == "applied"
    second = run_kit("stack", "migrate", str(good), cwd=project)
    assert second.stdout.split()[0] == "skipped"

    bad = tmp_path / "002_bad.sql"
    bad.write_text("CREATE TABLE public.half_done (id int);\nSELECT * FROM no_such_table;\n")
    failed = run_kit("stack", "migrate", str(bad), cwd=project)
    assert failed.returncode == 2
    assert "002_bad.sql failed and was rolled back" in failed.stderr
    assert failed.stderr.count("\n") == 1  # one line
    with psycopg.connect(info["DB_URL"]) as conn:
        assert conn.execute("SELECT to_regclass('public.half_done')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM public.conversations").fetchone() == (1,)


def test_migrate_missing_file_is_one_clear_error(own_stack, tmp_path):
    project, _ = own_stack
    out = run_kit("stack", "migrate", str(tmp_path / "nope.sql"), cwd=project)
    assert out.returncode == 2
    assert "nope.sql does not exist" in out.stderr


def test_bootstrap_is_idempotent_and_creates_supabase_roles_and_auth_functions(stack, sql):
    from kit.stack.database import SQL_DIR

    for path in sorted(SQL_DIR.glob("*.sql")):  # applying twice more changes nothing and fails nothing
        sql(path.read_text())
        sql(path.read_text())
    roles = {r[0]: r[1] for r in sql("SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname IN "
                                     "('anon','authenticated','service_role','authenticator')")}
    assert roles == {"anon": False, "authenticated": False, "service_role": True, "authenticator": False}
    row = sql("SELECT set_config('request.jwt.claims', %s, false), auth.uid()::text, auth.role(), "
              "auth.jwt() ->> 'email'",
              ('{"sub": "6f1c1a7e-2f7e-4d0e-9a43-3d1b6f1d2a11", "role": "authenticated", '
               '"email": "a@example.com"}',)).fetchone()
    assert row[1:] == ("6f1c1a7e-2f7e-4d0e-9a43-3d1b6f1d2a11", "authenticated", "a@example.com")


def test_ping_db_is_a_round_trip_on_the_login_roles_pool_and_ping_is_not(stack, sql):
    """The benchmark's two floors (bench/stack.py): /_kit/ping/db really reads the database, as
    the request pool's login role, never as the superuser; /_kit/ping never does."""
    answer = httpx.get(f"{stack.url}/_kit/ping/db")
    assert answer.status_code == 200 and answer.json()["ok"] is True
    pid = answer.json()["backend_pid"]
    [(user,)] = sql("SELECT usename FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchall()
    assert user == "authenticator"
    assert httpx.get(f"{stack.url}/_kit/ping").json() == {"ok": True}


def test_python_api_start_reuses_and_status_raises_when_stopped(tmp_path):
    folder = tmp_path / ".kit" / "stack"
    with pytest.raises(StackNotRunning, match="python -m kit stack up"):
        kit.stack.status(folder)
    target = kit.stack.start(folder, schemas="public,kit_api")
    try:
        assert "eyJ" not in repr(target) and target.url in repr(target)
        assert kit.stack.start(folder).url == target.url
        with pytest.raises(UsageError, match="already running"):
            kit.stack.start(folder, port=1)
        with pytest.raises(UsageError, match="exposing public, kit_api"):
            kit.stack.start(folder, schemas=["public"])
        refused = httpx.get(f"{target.url}/rest/v1/anything", timeout=60, headers={
            "apikey": target.anon_key, "Accept-Profile": "graphql_public"})
        assert (refused.status_code, refused.json()["hint"]) == (
            406, "Only the following schemas are exposed: public, kit_api")
    finally:
        assert kit.stack.stop(folder) is True
    assert kit.stack.stop(folder) is False


START_AND_PRINT = "import sys, kit; t = kit.stack.start(sys.argv[1]); print(t.url)"


def test_two_processes_starting_one_fresh_directory_share_one_stack(tmp_path):
    folder = tmp_path / ".kit" / "stack"
    env = {k: v for k, v in os.environ.items() if k != "KIT_STACK_DIR"}
    procs = [subprocess.Popen([sys.executable, "-c", START_AND_PRINT, str(folder)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        urls = [proc.communicate(timeout=120)[0].strip() for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0]
        assert urls[0] == urls[1] and urls[0].startswith("http://127.0.0.1:")
        assert len(postgres_processes(folder / "pg")) == 1  # one server; the second reused it
        assert (folder / "start.lock").exists()
    finally:
        assert kit.stack.stop(folder) is True
    assert postgres_processes(folder / "pg") == []


def test_reset_says_what_it_deletes_and_deletes_only_the_data_dir(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "keep.txt").write_text("user file")
    assert run_kit("stack", "up", cwd=project).returncode == 0
    refused = run_kit("stack", "reset", cwd=project, stdin="n\n")
    assert refused.returncode == 3 and "--yes" in refused.stderr
    assert "reset will stop the stack and delete:" in refused.stdout
    assert (project / ".kit" / "stack").exists()
    done = run_kit("stack", "reset", "--yes", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"deleted {project / '.kit' / 'stack'}" in done.stdout
    assert not (project / ".kit" / "stack").exists()
    assert (project / "keep.txt").read_text() == "user file"


def test_reset_refuses_a_directory_that_is_not_a_stack(tmp_path):
    foreign = tmp_path / "important"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    with pytest.raises(UsageError, match="does not look like a kit stack directory"):
        kit.stack.reset(foreign)
    with pytest.raises(UsageError, match="is not empty and not a kit stack directory"):
        kit.stack.start(foreign)
    assert sorted(p.name for p in foreign.iterdir()) == ["thesis.tex"]


def test_bad_stack_paths_are_one_line_with_the_path_and_exit_3(tmp_path):
    a_file = tmp_path / "not a dir"
    a_file.write_text("x")
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_text("x")
    cases = {a_file: "is a file, not a directory", a_file / "below": "is not usable: Not a directory",
             foreign: "is not empty and not a kit stack directory"}
    for folder, says in cases.items():
        out = run_kit("stack", "up", "--data-dir", str(folder), cwd=tmp_path)
        assert (out.returncode, out.stdout) == (3, ""), out.stderr
        assert out.stderr.count("\n") == 1 and str(folder) in out.stderr and says in out.stderr
        assert "Traceback" not in out.stderr
    assert a_file.read_text() == "x" and sorted(p.name for p in foreign.iterdir()) == ["cat.jpg"]


def test_a_stack_directory_on_a_read_only_filesystem_is_one_line_and_exit_3(tmp_path):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(readonly)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("mounting a read-only tmpfs needs root with CAP_SYS_ADMIN")
    try:
        for folder in (readonly, readonly / "stack"):
            out = run_kit("stack", "up", "--data-dir", str(folder), cwd=tmp_path)
            assert (out.returncode, out.stderr.count("\n")) == (3, 1), out.stderr
            assert f"{folder} is not usable: Read-only file system" in out.stderr
    finally:
        subprocess.run(["umount", str(readonly)], check=True)


def test_credentials_of_kit_database_url_never_reach_errors_logs_or_files(tmp_path):
    folder = tmp_path / "stack"
    env = {**os.environ, "KIT_DATABASE_URL": "postgresql://kit:s3cret-Pa55@127.0.0.1:1/nowhere"}
    out = subprocess.run([sys.executable, "-m", "kit", "stack", "up", "--data-dir", str(folder)],
                         env=env, text=True, capture_output=True, timeout=120)
    assert out.returncode == 2 and "127.0.0.1:1" in out.stderr
    written = "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
    assert "s3cret-Pa55" not in out.stderr + out.stdout + written
    assert (folder.stat().st_mode & 0o077) == 0 and (folder / "keys.json").stat().st_mode & 0o077 == 0


def test_kill_9_recovery_private_socket_and_no_trust_on_a_long_path_with_spaces(tmp_path):
    """kill -9 of the stack, then of PostgreSQL: `up` recovers each time, `down` really stops it,
    `reset` deletes only what the stack made; the socket of a long path is private; no `trust`;
    no directory above the stack directory changes mode."""
    import signal
    import time

    project = tmp_path / ("a folder with spaces " + "x" * 60)
    folder = project / ".kit" / "stack"
    project.mkdir()
    parents = {p: p.stat().st_mode for p in project.parents}
    up = run_kit("stack", "up", "--json", cwd=project)
    assert up.returncode == 0, up.stderr
    info = json.loads(up.stdout)
    socket_dir = Path(json.loads((folder / "postgres.json").read_text())["socket_dir"])
    assert socket_dir != folder / "pg" and socket_dir.stat().st_mode & 0o077 == 0
    assert "trust" not in (folder / "pg" / "pg_hba.conf").read_text().split("#")[-1]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(info["DB_URL"].replace(info["DB_URL"].split("@")[0], "postgresql://postgres"))
    with psycopg.connect(info["DB_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE survivor (id int)")
        conn.execute("INSERT INTO survivor VALUES (9)")
    assert (folder / "state.json").stat().st_mode & 0o077 == 0
    (folder / "my notes.txt").write_text("mine")

    def api_works(url: str) -> bool:
        return httpx.get(url + "/rest/v1/survivor", headers={"apikey": info["SERVICE_ROLE_KEY"]},
                         timeout=30).json() == [{"id": 9}]

    for victim in ("stack", "postgres"):
        stack_pid = json.loads((folder / "state.json").read_text())["pid"]
        [pg_pid] = postgres_processes(folder / "pg")
        os.kill(stack_pid if victim == "stack" else pg_pid, signal.SIGKILL)
        time.sleep(0.5)
        again = run_kit("stack", "up", "--json", cwd=project)
        assert again.returncode == 0, again.stderr
        assert api_works(json.loads(again.stdout)["API_URL"])
        if victim == "stack":
            assert postgres_processes(folder / "pg") == [pg_pid]  # the old server was reused
    assert run_kit("stack", "down", cwd=project).stdout.strip() == "stack stopped"
    assert postgres_processes(folder / "pg") == [] and not socket_dir.exists()
    assert {p: p.stat().st_mode for p in project.parents} == parents
    done = run_kit("stack", "reset", "--yes", cwd=project)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in folder.iterdir()] == ["my notes.txt"]


def test_reset_never_deletes_under_a_running_server(own_stack, monkeypatch):
    project, _ = own_stack
    folder = project / ".kit" / "stack"
    monkeypatch.setattr(kit.stack.process, "stop", lambda folder: False)  # a server that will not stop
    with pytest.raises(StackError, match="PostgreSQL still runs on"):
        kit.stack.reset(folder)
    assert (folder / "pg" / "PG_VERSION").exists() and (folder / "keys.json").exists()


def test_migration_error_is_a_kit_error_with_a_fix():
    err = MigrationError("migration x failed", fix="correct it")
    assert isinstance(err, kit.KitError) and str(err) == "migration x failed. Fix: correct it"


def test_cli_usage_errors_exit_3(tmp_path):
    assert run_kit("stack", "frobnicate", cwd=tmp_path).returncode == 3
    assert run_kit(cwd=tmp_path).returncode == 3
    bad = run_kit("stack", "up", "--schemas", "public,,api", cwd=tmp_path)
    assert (bad.returncode, bad.stderr.count("\n")) == (3, 1) and "--schemas" in bad.stderr
    assert not (tmp_path / ".kit").exists()


def test_schemas_come_from_the_argument_the_setting_or_supabase_default():
    assert resolve_schemas(None, env={}) == ("public", "graphql_public")
    assert resolve_schemas(None, env={"KIT_STACK_SCHEMAS": "api, public"}) == ("api", "public")
    assert resolve_schemas(["x"], env={"KIT_STACK_SCHEMAS": "api"}) == ("x",)
    for bad in ("", " , ", "a\x00b", "s" * 64):
        with pytest.raises(UsageError, match="bad schema list"):
            resolve_schemas(bad, env={})
