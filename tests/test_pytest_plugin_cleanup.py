"""The plugin leaves nothing behind in a database it does not own, and copies no one else's writes.

The user's project here is the ``plugin_stack`` (conftest.py) seen as ``--kit-target=remote``
(SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL), with two tables of its own and
their rows. Each run is ``python -m pytest`` in a subprocess on a small project, as a user
runs it: a normal run, one interrupted with Ctrl-C, one killed, and the run after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import kit

WAIT_S = 120.0  # how long to wait for a subprocess to reach a point: not a measurement

SUITE = '''
import os
import pathlib
import time

import psycopg
from supabase import create_client

PATIENTS = os.environ["KIT_TEST_PATIENTS"]


def logged(kit_db, email):
    return kit_db.execute("SELECT count(*) FROM kit_pytest.undo WHERE new_row->>'email' = %s "
                          "OR old_row->>'email' = %s", (email, email)).fetchone()[0]


def test_a_tests_writes_are_logged_no_one_elses(kit_db, kit_target, kit_clients):
    kit_db.execute(f"INSERT INTO {PATIENTS} (email, name) VALUES ('kit@example.test', 'Kit')")
    kit_clients.sync.table(PATIENTS).insert({"email": "zoe@example.test", "name": "Zoe"}).execute()
    kit_db.execute(f"UPDATE {PATIENTS} SET name = 'Renamed' WHERE email = 'ada@example.test'")
    with psycopg.connect(os.environ["SUPABASE_DB_URL"], autocommit=True) as other:
        other.execute(f"INSERT INTO {PATIENTS} (email, name) VALUES ('dora@example.test', 'Dora')")
    app = create_client(kit_target.url, kit_target.service_role_key)
    app.table(PATIENTS).insert({"email": "eve@example.test", "name": "Eve"}).execute()
    assert logged(kit_db, "kit@example.test") == 1 and logged(kit_db, "ada@example.test") == 1
    assert logged(kit_db, "zoe@example.test") == 1    # signed with SUPABASE_JWT_SECRET
    assert logged(kit_db, "dora@example.test") == 0   # another connection's write
    assert logged(kit_db, "eve@example.test") == 0    # a plain-key client on a remote target


def test_the_tests_writes_were_undone(kit_db):
    rows = kit_db.execute(f"SELECT email, name FROM {PATIENTS} ORDER BY email").fetchall()
    assert ("kit@example.test", "Kit") not in rows and ("ada@example.test", "Ada") in rows
    assert ("zoe@example.test", "Zoe") not in rows


def test_waits_when_asked(kit_db):
    marker = os.environ.get("KIT_TEST_MARKER")
    if marker:
        kit_db.execute(f"INSERT INTO {PATIENTS} (email, name) VALUES ('kit2@example.test', 'K')")
        pathlib.Path(marker).write_text("in the test")
        time.sleep(600)
'''


def _kit_objects(conn: psycopg.Connection) -> list[str]:
    """Every kit_pytest trigger, function and schema in the database."""
    return [r[0] for r in conn.execute("""
        SELECT 'trigger ' || tgname || ' on ' || tgrelid::regclass FROM pg_trigger
         WHERE tgname LIKE 'kit_pytest%'
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname LIKE 'kit_pytest%' OR p.proname LIKE 'kit_pytest%'
        UNION ALL
        SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname LIKE 'kit_pytest%'
        ORDER BY 1""").fetchall()]


def _rows(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    return conn.execute(f"SELECT email, name FROM {table} ORDER BY email").fetchall()


@pytest.fixture
def user_project(plugin_stack: Path, tmp_path: Path) -> Iterator[UserProject]:
    """The user's tables (names of their own, no kit_ prefix) and the remote env naming them."""
    target = kit.stack.status(plugin_stack)
    assert target.database_url and target.service_role_key
    suffix = uuid.uuid4().hex[:8]
    patients, visits = f"patients_{suffix}", f"visits_{suffix}"
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute(f"""
            CREATE TABLE public.{patients} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                            email text NOT NULL UNIQUE, name text);
            CREATE TABLE public.{visits} (id serial PRIMARY KEY,
                                          patient bigint REFERENCES public.{patients} (id));
            GRANT ALL ON public.{patients}, public.{visits} TO service_role;
            INSERT INTO public.{patients} (email, name)
            VALUES ('ada@example.test', 'Ada'), ('bob@example.test', 'Bob');
            NOTIFY pgrst, 'reload schema';
        """)
    (tmp_path / "test_suite.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n"
                                         "asyncio_default_fixture_loop_scope = function\n")
    env = {name: value for name, value in os.environ.items()
           if name not in ("SUPABASE_KEY", "SUPABASE_ANON_KEY", "API_URL", "KIT_STACK_DIR",
                           "JWT_SECRET")}
    env.update(SUPABASE_URL=target.url, SUPABASE_DB_URL=target.database_url,
               SUPABASE_SERVICE_ROLE_KEY=target.service_role_key, KIT_TEST_PATIENTS=patients,
               SUPABASE_JWT_SECRET=target.jwt_secret or "", PYTHONUNBUFFERED="1")
    yield UserProject(target.database_url, patients, tmp_path, env)
    with psycopg.connect(target.database_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE public.{visits}, public.{patients}")


@dataclass
class UserProject:
    db: str
    patients: str
    folder: Path
    env: dict[str, str]

    def pytest(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """``python -m pytest --kit-target=remote test_suite.py ARGS`` in the project, running."""
        return subprocess.Popen([sys.executable, "-m", "pytest", "--kit-target=remote",
                                 f"--basetemp={self.folder / 'bt'}", "test_suite.py", *args],
                                cwd=self.folder, env=self.env | env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for(path: Path, run: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        assert run.poll() is None, run.communicate()[0]
        assert time.monotonic() < deadline, f"the run never reached {path}"
        time.sleep(0.1)


def _wait_until_no_session_holds_the_lock(conn: psycopg.Connection) -> None:
    """The killed run's server connection ends when PostgreSQL notices; wait for it."""
    from kit.pytest.rollback import _IN_USE_LOCK

    deadline = time.monotonic() + WAIT_S
    while conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                       (_IN_USE_LOCK,)).fetchone()[0]:
        assert time.monotonic() < deadline, "the killed run's connection never ended"
        time.sleep(0.1)


def test_nothing_stays_in_the_users_database_after_any_end_of_a_run(user_project: UserProject,
                                                                     tmp_path: Path):
    patients = user_project.patients
    with psycopg.connect(user_project.db, autocommit=True) as conn:
        before = _rows(conn, patients)
        # a normal run: the test's writes undone, the others' kept and never logged
        run = user_project.pytest()
        out = run.communicate(timeout=WAIT_S)[0]
        assert run.returncode == 0, out
        assert _kit_objects(conn) == []
        after = _rows(conn, patients)
        assert after == sorted(before + [("dora@example.test", "Dora"), ("eve@example.test", "Eve")])
        conn.execute(f"DELETE FROM {patients} WHERE email IN ('dora@example.test', 'eve@example.test')")

        # Ctrl-C in the middle of a test: the session's finalizer still removes everything
        marker = tmp_path / "in-test"
        run = user_project.pytest("-k", "waits", KIT_TEST_MARKER=str(marker))
        _wait_for(marker, run)
        assert any(o.startswith("trigger kit_pytest_undo on " + patients) for o in _kit_objects(conn))
        run.send_signal(signal.SIGINT)
        out = run.communicate(timeout=WAIT_S)[0]
        assert "KeyboardInterrupt" in out and run.returncode == 2, out
        assert _kit_objects(conn) == []
        assert _rows(conn, patients) == before

        # killed: its objects stay, but log nothing of anyone else's; the next run removes them
        marker.unlink()
        run = user_project.pytest("-k", "waits", KIT_TEST_MARKER=str(marker))
        _wait_for(marker, run)
        run.kill()
        run.communicate(timeout=WAIT_S)
        _wait_until_no_session_holds_the_lock(conn)
        assert f"trigger kit_pytest_undo on {patients}" in _kit_objects(conn)
        conn.execute(f"INSERT INTO {patients} (email, name) VALUES ('carol@example.test', 'Carol')")
        conn.execute(f"DELETE FROM {patients} WHERE email = 'carol@example.test'")
        assert conn.execute("SELECT count(*) FROM kit_pytest.undo WHERE "
                            "coalesce(old_row, new_row)->>'email' = 'carol@example.test'"
                            ).fetchone()[0] == 0
        # every table of public has one (the stack is shared with other plugin tests)
        tables = [r[0] for r in conn.execute(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_trigger g JOIN pg_class c "
            "ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE g.tgname = 'kit_pytest_undo' ORDER BY 1").fetchall()]
        assert f"public.{patients}" in tables
        run = user_project.pytest("-k", "undone")
        out = run.communicate(timeout=WAIT_S)[0]
        assert run.returncode == 0, out
        assert (f"\nkit: removed what an interrupted pytest run left in the database: "
                f"{len(tables)} kit_pytest_undo triggers ({', '.join(tables)}) and the kit_pytest "
                "schema; not undone: 1 logged write of its last test\n") in out, out
        assert _kit_objects(conn) == []


def test_header_tagged_writes_are_undone_and_the_last_session_removes_the_objects(
        plugin_stack: Path):
    """PostgREST passes request headers to the database as ``request.headers`` (JSON, set
    transaction-locally): a write carrying ``x-kit-test`` is the test's; two sessions (two
    xdist workers) share the objects until the last one leaves."""
    from kit.pytest.rollback import UndoLog

    db = kit.stack.status(plugin_stack).database_url
    assert db
    table = f"notes_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE public.{table} (id serial PRIMARY KEY, body text)")
        first, second = UndoLog(db), UndoLog(db)
        with first.around_test(tag="t1"):
            with conn.transaction():
                conn.execute("SELECT set_config('request.headers', %s, true)",
                             ('{"x-kit-test": "t1", "accept": "*/*"}',))
                conn.execute(f"INSERT INTO {table} (body) VALUES ('the test''s')")
            conn.execute(f"INSERT INTO {table} (body) VALUES ('someone else''s')")
        assert conn.execute(f"SELECT body FROM {table}").fetchall() == [("someone else's",)]
        first.close()
        assert f"trigger kit_pytest_undo on {table}" in _kit_objects(conn)  # the second still runs
        second.close()
        assert _kit_objects(conn) == []
        conn.execute(f"DROP TABLE public.{table}")


def test_a_jwt_secret_from_the_env_is_used_only_when_it_verifies_the_key():
    import jwt

    from kit.pytest.fixtures import with_jwt_secret
    from kit.targets import Target

    secret = uuid.uuid4().hex * 2
    key = jwt.encode({"role": "service_role"}, secret, algorithm="HS256")
    remote = Target("remote", "https://abc.supabase.co", "", key,
                    key_source="env SUPABASE_SERVICE_ROLE_KEY")
    assert with_jwt_secret(remote, {"SUPABASE_JWT_SECRET": secret})[0].jwt_secret == secret
    assert with_jwt_secret(remote, {"JWT_SECRET": secret}) == (remote, "")  # local's name
    found, line = with_jwt_secret(remote, {"SUPABASE_JWT_SECRET": "not-" + secret})
    assert found == remote and line == (
        "kit: SUPABASE_JWT_SECRET does not verify the key from env SUPABASE_SERVICE_ROLE_KEY; "
        "ignored (kit_clients' writes are tagged by the x-kit-test header only)")
    assert secret not in line
