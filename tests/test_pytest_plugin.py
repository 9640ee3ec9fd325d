"""The pytest plugin, proven by running pytest in a subprocess on small example suites.

One embedded stack serves every run here (``--kit-stack-dir``, the ``plugin_stack`` fixture of
conftest.py); the xdist test starts its own, to see the workers share it and the controller
stop it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytest_plugins = ("pytester",)
REPO = Path(__file__).resolve().parents[1]

INI = """
[pytest]
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
addopts = -p no:cacheprovider
"""

# An app of the same kind as seeds/002, named differently from examples/pytest.
MEDIA = '''
import asyncio

from supabase import acreate_client


class Covers:
    def __init__(self, client, bucket="covers"):
        self.client = client
        self.bucket = bucket

    async def fetch_cover(self, name):
        return self.client.storage.from_(self.bucket).download(name)

    async def fetch_cover_to_thread(self, name):
        return await asyncio.to_thread(self.client.storage.from_(self.bucket).download, name)


async def shelf_client(url, key):
    return await acreate_client(url, key)   # the app builds its own client


async def shelf_titles(client):
    result = await client.table("shelf").select("title").execute()
    return result.data
'''

SCHEMA = '''
import psycopg
import pytest


@pytest.fixture(scope="session", autouse=True)
def schema(kit_stack):
    with psycopg.connect(kit_stack.database_url, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE IF NOT EXISTS public.shelf (id int PRIMARY KEY, title text NOT NULL);
            GRANT ALL ON public.shelf TO anon, authenticated, service_role;
            TRUNCATE public.shelf;
            INSERT INTO public.shelf VALUES (1, 'kept'), (2, 'changed in a test');
            INSERT INTO storage.buckets (id, name) VALUES ('covers', 'covers')
            ON CONFLICT (id) DO NOTHING;
        """)
'''

TESTS = '''
import time

import pytest
import pytest_asyncio

from app.media import Covers, shelf_client, shelf_titles

SLOW = {"match": {"service": "storage", "method": "GET"}, "effect": {"latency": 0.6}}
EDGE = {"match": {"service": "rest", "table": "shelf"},
        "effect": {"html_page": "cloudflare-522", "status": 200}}


@pytest.fixture
def cover(kit_clients):
    kit_clients.sync.storage.from_("covers").upload("c.png", b"cover", {"upsert": "true"})
    return "c.png"


@pytest.mark.asyncio
async def test_blocking_download(kit_clients, kit_faults, cover):
    kit_faults.add(SLOW)
    assert await Covers(kit_clients.sync).fetch_cover(cover) == b"cover"


@pytest.mark.asyncio
async def test_download_in_a_thread(kit_clients, kit_faults, cover):
    kit_faults.add(SLOW)
    assert await Covers(kit_clients.sync).fetch_cover_to_thread(cover) == b"cover"


def test_deliberately_sync(kit_clients, kit_faults, cover):
    kit_faults.add(SLOW)
    time.sleep(0.6)
    assert kit_clients.sync.storage.from_("covers").download(cover) == b"cover"


@pytest_asyncio.fixture
async def app_client(kit_target):
    # built outside the test body: acreate_client, and the first .table() that builds the
    # REST client, block the loop themselves (each loads the CA bundle)
    client = await shelf_client(kit_target.url, kit_target.service_role_key)
    client.postgrest
    return client


@pytest.mark.asyncio
async def test_edge_page_from_a_fault(app_client, kit_faults):
    kit_faults.add(EDGE)
    assert await shelf_titles(app_client)


@pytest.mark.anyio
async def test_anyio_blocking(anyio_backend):
    time.sleep(0.6)


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_edge_502_raises(kit_clients, kit_faults):
    kit_faults.add({"match": {"service": "rest", "table": "shelf"},
                    "effect": {"html_page": "kong-502", "status": 502}})
    kit_clients.sync.table("shelf").select("*").execute()


@pytest.mark.asyncio
async def test_forgets_an_await(kit_clients):
    kit_clients.async_.table("shelf").select("*").execute()
'''

ROLLBACK = '''
import pytest
from supabase import create_client


def test_writes(kit_clients, kit_db, kit_target):
    kit_clients.sync.table("shelf").insert({"id": 3, "title": "rest insert"}).execute()
    kit_clients.sync.table("shelf").update({"title": "rest update"}).eq("id", 2).execute()
    kit_clients.sync.table("shelf").delete().eq("id", 1).execute()
    kit_db.execute("INSERT INTO shelf VALUES (4, 'kit_db insert')")
    app = create_client(kit_target.url, kit_target.service_role_key)
    app.table("shelf").insert({"id": 5, "title": "app client insert"}).execute()
    assert len(kit_db.execute("SELECT * FROM shelf").fetchall()) == 4


def test_rows_are_back(kit_db):
    rows = kit_db.execute("SELECT id, title FROM shelf ORDER BY id").fetchall()
    assert rows == [(1, "kept"), (2, "changed in a test")]
'''


def _failure_blocks(out: str) -> dict[str, str]:
    """Each failing test's report, by test name (pytest's ``___ name ___`` headers)."""
    parts = re.split(r"^_{3,} (test_\S+) _{3,}$\n", out, flags=re.MULTILINE)
    blocks = dict(zip(parts[1::2], parts[2::2], strict=True))
    return {name: re.split(r"^={5,}", block, flags=re.MULTILINE)[0] for name, block in blocks.items()}


def _line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def _suite(pytester: pytest.Pytester, mode: str = "strict") -> None:
    pytester.makeini(INI.format(mode=mode))
    (pytester.path / "app").mkdir()
    (pytester.path / "app" / "__init__.py").write_text("")
    (pytester.path / "app" / "media.py").write_text(MEDIA)
    pytester.makeconftest(SCHEMA)
    pytester.makepyfile(test_media=TESTS, test_rollback=ROLLBACK)


def test_stalls_capture_and_rollback_in_strict_mode(pytester: pytest.Pytester, plugin_stack: Path):
    _suite(pytester)
    result = pytester.runpytest_subprocess("--kit-stalls=300", "--kit-capture",
                                           f"--kit-stack-dir={plugin_stack}", timeout=240)
    out = result.stdout.str()
    result.assert_outcomes(passed=5, failed=4)
    # the sync download on the loop: its duration and the line chain, app line → SDK line
    line = _line_of(MEDIA, "return self.client.storage.from_(self.bucket).download(name)")
    blocks = _failure_blocks(out)
    failed = {name: block.split("\n", 1)[0] for name, block in blocks.items()
              if block.startswith("kit: ")}
    assert set(failed) == {"test_blocking_download", "test_anyio_blocking",
                           "test_edge_page_from_a_fault"}, out  # failed by the kit
    # a test that fails on its own (APIError from an edge page) gets the kit's section
    own = blocks["test_edge_502_raises"]
    assert "APIError" in own and "Captured kit call" in own
    assert re.search(r"#\d+ GET /rest/v1/shelf\?select=(\*|%2A) → 502 text/html", own), own
    assert "flags: fault_injected, html_error_page" in own and "Fix:" in own
    assert re.fullmatch(rf"kit: the event loop stalled \d+ ms \(threshold 300 ms\) at "
                        rf"app/media.py:{line} fetch_cover → storage3/_sync/file_api.py:\d+ "
                        rf"download", failed["test_blocking_download"])
    # explained from the samples: the SDK frame makes it a sync supabase call, fixed on its own line
    assert "fixed:\n    return await asyncio.to_thread(lambda: self.client.storage.from_(" \
           "self.bucket).download(name))" in blocks["test_blocking_download"]
    assert "sync supabase call" in " ".join(blocks["test_blocking_download"].split())
    # a time.sleep in the test itself: no SDK frame was sampled, so no supabase call is claimed
    slept = " ".join(blocks["test_anyio_blocking"].split())
    assert "No supabase SDK frame was sampled" in slept and "sync supabase call inside" not in slept
    # anyio's plugin runs the same watch
    assert re.fullmatch(r"kit: the event loop stalled \d+ ms \(threshold 300 ms\) at "
                        r"test_media.py:\d+ test_anyio_blocking", failed["test_anyio_blocking"])
    # the HTML 200 page from the fault, through a client the app built itself
    site = _line_of(MEDIA, 'result = await client.table("shelf")')
    assert failed["test_edge_page_from_a_fault"].startswith(
        "kit: an HTML page arrived where JSON was expected (html_where_json_expected)")
    assert f"at app/media.py:{site} shelf_titles" in out
    assert "Fix:" in out and "Captured kit call" in out and "cloudflare" in out
    assert "eyJ" not in out  # keys and tagged JWTs are masked
    # the terminal summary
    summary = out.split("kit: event loop and Supabase traffic", 1)[1]
    assert f"app/media.py:{line} fetch_cover → storage3/_sync/file_api.py" in summary
    assert "html_where_json_expected: GET /rest/v1/shelf?select=title → 200" in summary
    assert re.search(r"1×\s+AsyncQueryRequestBuilder.execute\s+test_media.py::test_forgets_an_await",
                     summary), summary
    assert "3 failed by kit" in summary


def test_warn_mode_reports_without_failing(pytester: pytest.Pytester, plugin_stack: Path):
    _suite(pytester)
    result = pytester.runpytest_subprocess("--kit-stalls-warn", "--kit-stalls=300",
                                           f"--kit-stack-dir={plugin_stack}",
                                           "test_media.py", "-k", "blocking", timeout=240)
    result.assert_outcomes(passed=2)
    summary = result.stdout.str().split("kit: event loop and Supabase traffic", 1)[1]
    assert re.search(r"\d+ ms\s+1×\s+app/media.py:\d+ fetch_cover → storage3/_sync/file_api.py",
                     summary)
    assert "failed by kit" not in summary


def test_inert_unless_asked_marks_ask_for_one_test_and_no_kit_turns_it_off(
        pytester: pytest.Pytester):
    pytester.makeini(INI.format(mode="auto"))
    pytester.makepyfile(test_blocking="""
        import time
        import pytest

        async def test_unmarked():
            time.sleep(0.6)

        @pytest.mark.kit_stalls(ms=300)
        async def test_marked():
            time.sleep(0.6)

        @pytest.mark.kit_stalls(ms=300)
        def test_marked_but_sync():
            time.sleep(0.6)

        @pytest.mark.kit_stalls(msec=5)
        async def test_bad_mark():
            pass
        """)
    asked = pytester.runpytest_subprocess(timeout=120)
    asked.assert_outcomes(passed=2, failed=2)
    assert "@pytest.mark.kit_stalls takes ms=, fail= and enabled= only (got ['msec'])" in \
        asked.stdout.str()
    assert re.search(r"_ test_marked _+\nkit: the event loop stalled \d+ ms \(threshold 300 ms\) "
                     r"at test_blocking.py:\d+ test_marked", asked.stdout.str())
    pytester.makepyfile(test_blocking="""
        import time

        async def test_unmarked():
            time.sleep(0.6)
        """)
    inert = pytester.runpytest_subprocess(timeout=120)
    inert.assert_outcomes(passed=1)
    assert "kit:" not in inert.stdout.str()  # no failure, section or summary of the kit
    off = pytester.runpytest_subprocess("-p", "no:kit", "--kit-stalls=100", timeout=120)
    assert "unrecognized arguments: --kit-stalls=100" in off.stderr.str()
    ambiguous = pytester.runpytest_subprocess("--kit-stalls", "test_blocking.py", timeout=120)
    assert "--kit-stalls takes a number of milliseconds, got 'test_blocking.py'; write " \
           "--kit-stalls=100" in ambiguous.stderr.str()


def test_xdist_workers_share_one_stack_that_the_run_stops(pytester: pytest.Pytester):
    pytester.makeini(INI.format(mode="auto"))
    seen = pytester.path / "seen"
    pytester.makeconftest("""
        import psycopg
        import pytest

        @pytest.fixture(scope="session", autouse=True)
        def marks_table(kit_stack):
            with psycopg.connect(kit_stack.database_url, autocommit=True) as conn:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(42)")
                    conn.execute("CREATE TABLE IF NOT EXISTS public.marks (n int)")
        """)
    pytester.makepyfile(test_shared=f"""
        import os
        import time
        import pytest

        async def test_blocks():
            time.sleep(0.6)

        @pytest.mark.parametrize("n", range(6))
        def test_stack(kit_stack, kit_db, worker_id, n):
            with open({str(seen)!r}, "a") as out:
                out.write(f"{{worker_id}} {{kit_stack.url}} {{os.getpid()}}\\n")
            kit_db.execute("INSERT INTO marks VALUES (%s)", (n,))
            # each test's row is undone after it: at most the other worker's test's row is here
            assert kit_db.execute("SELECT count(*) FROM marks").fetchone()[0] <= 2
        """)
    result = pytester.runpytest_subprocess("-n", "2", "--kit-stalls-warn", "--kit-stalls=300",
                                           "--kit-private-stack", timeout=240)
    result.assert_outcomes(passed=7)
    # the workers' findings reach the controller's summary
    summary = result.stdout.str().split("kit: event loop and Supabase traffic", 1)[1]
    assert re.search(r"\d+ ms\s+1×\s+test_shared.py:\d+ test_blocks\s+test_shared.py::test_blocks",
                     summary), summary
    rows = [line.split() for line in seen.read_text().splitlines()]
    assert {worker for worker, _, _ in rows} == {"gw0", "gw1"}
    urls = {url for _, url, _ in rows}
    assert len(urls) == 1
    assert len({pid for _, _, pid in rows}) == 2
    with pytest.raises(httpx.ConnectError):  # the controller stopped it after the run
        httpx.get(f"{urls.pop()}/_kit/health", timeout=2.0)


def test_examples_pytest_passes_with_the_plugin(pytester: pytest.Pytester, plugin_stack: Path):
    """examples/pytest: the tiny app and its tests, as a user runs them (its own pyproject)."""
    example = REPO / "examples" / "pytest"
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             f"--basetemp={pytester.path / 'basetemp'}",
                             f"--kit-stack-dir={plugin_stack}",
                             # the example's own 100 ms, raised: this machine may be loaded
                             "--kit-stalls=250"],
                            cwd=example, capture_output=True, text=True, timeout=240, check=False)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert re.search(r"4 passed, 2 xfailed", out), out
    assert "app/ads.py:22 download_blocking → storage3/_sync/file_api.py" in out
    assert "html_where_json_expected" in out


def test_summary_groups_stalls_by_line_and_names_the_tests():
    from kit.pytest.summary import RunSummary

    where = "app/x.py:3 fetch → storage3/_sync/file_api.py:498 download"
    summary = RunSummary()
    summary.add("t.py::a", {"watched": True, "stalls": [{"ms": 312.4, "at": where}],
                            "other_stalls": 1, "exchanges": 2, "flagged": []}, failed_by_kit=True)
    summary.add("t.py::b", {"watched": True, "stalls": [{"ms": 150.0, "at": where},
                                                        {"ms": 120.0, "at": where}],
                            "other_stalls": 0, "exchanges": None,
                            "flagged": [{"flags": ["html_where_json_expected"],
                                         "exchange": "GET /rest/v1/t → 200 text/html", "at": ""}]},
                failed_by_kit=False)
    summary.add("t.py::sync", {"watched": False, "stalls": [], "exchanges": 0, "flagged": []},
                failed_by_kit=False)
    summary.add_unawaited("t.py::c", "coroutine 'AsyncQueryRequestBuilder.execute' was never awaited")
    summary.add_unawaited("", "some other warning")
    assert summary.lines() == [
        "2 async tests watched for stalls; 2 tests captured (2 Supabase exchanges); 1 failed by kit",
        "stalls by line (longest, count, tests):",
        f"      312 ms  3×  {where}",
        "               t.py::a",
        "               t.py::b (2×)",
        "1 stalls outside user and SDK code (event loop machinery, GC or the machine); not failed on",
        "HTML where JSON or bytes were expected:",
        "  1×  html_where_json_expected: GET /rest/v1/t → 200 text/html",
        "        t.py::b",
        "coroutines never awaited:",
        "  1×  AsyncQueryRequestBuilder.execute",
        "        t.py::c",
    ]


@pytest.mark.parametrize(("value", "message"), [
    ("tests/", "--kit-stalls takes a number of milliseconds, got 'tests/'"),
    ("0", "--kit-stalls=0: the threshold must be > 0 ms"),
    ("-5", "--kit-stalls=-5: the threshold must be > 0 ms"),
])
def test_bad_thresholds_name_the_value_and_the_fix(value: str, message: str):
    import argparse

    from kit.pytest.options import milliseconds

    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
        milliseconds(value)


def test_a_stall_is_blamed_on_user_or_sdk_code_not_on_the_kits_helpers_or_the_loop():
    from kit.loop import FrameInfo, Stall
    from kit.pytest.stalls import blames_code

    loop = FrameInfo("/usr/lib/python3.11/asyncio/base_events.py", 1922, "_run_once", "stdlib")
    test = FrameInfo("tests/test_app.py", 12, "test_download", "user", True)
    app = FrameInfo("app/media.py", 13, "fetch_cover", "user", True)
    sdk = FrameInfo("storage3/_sync/file_api.py", 498, "download", "sdk")
    helper = FrameInfo("kit/pytest/fixtures.py", 120, "add", "kit")

    def stall(*stack: FrameInfo, user: FrameInfo | None, sdk_frame: FrameInfo | None) -> Stall:
        return Stall(0.0, 0.3, stack, user, sdk_frame, 3)

    assert blames_code(stall(loop, test, app, sdk, user=app, sdk_frame=sdk))
    assert blames_code(stall(loop, test, user=test, sdk_frame=None))            # time.sleep in a test
    assert blames_code(stall(loop, sdk, user=None, sdk_frame=sdk))              # SDK callback on the loop
    assert not blames_code(stall(loop, test, helper, sdk, user=test, sdk_frame=sdk))  # kit_faults.add
    assert not blames_code(stall(loop, user=None, sdk_frame=None))              # the loop itself


USER_SUITE = '''
import psycopg
import pytest


@pytest.fixture(scope="session", autouse=True)
def notes(kit_stack):
    with psycopg.connect(kit_stack.database_url, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE IF NOT EXISTS public.notes (
                id serial PRIMARY KEY, owner uuid NOT NULL DEFAULT auth.uid(), body text);
            ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS own_notes ON public.notes;
            CREATE POLICY own_notes ON public.notes TO authenticated
                USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
            GRANT ALL ON public.notes TO authenticated, service_role;
            GRANT USAGE ON SEQUENCE public.notes_id_seq TO authenticated, service_role;
        """)


def test_user_writes_and_reads_only_their_notes(kit_user, kit_db):
    kit_db.execute("INSERT INTO notes (owner, body) VALUES (gen_random_uuid(), 'someone else')")
    kit_user.clients.sync.table("notes").insert({"body": "mine"}).execute()
    rows = kit_user.clients.sync.table("notes").select("owner, body").execute().data
    assert rows == [{"owner": kit_user.id, "body": "mine"}]
    assert kit_user.email.startswith("kit-user-") and "password" not in repr(kit_user)


async def test_async_client_acts_as_the_user_too(kit_user):
    await kit_user.clients.async_.table("notes").insert({"body": "async"}).execute()
    rows = (await kit_user.clients.async_.table("notes").select("body").execute()).data
    assert rows == [{"body": "async"}]


def test_users_and_their_rows_are_gone(kit_db):
    assert kit_db.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    assert kit_db.execute("SELECT count(*) FROM auth.users WHERE email LIKE 'kit-user-%'"
                          ).fetchone()[0] == 0
'''


def test_kit_user_signs_in_through_auth_and_acts_under_rls(pytester: pytest.Pytester,
                                                           plugin_stack: Path):
    pytester.makeini(INI.format(mode="auto"))
    pytester.makepyfile(test_users=USER_SUITE)
    result = pytester.runpytest_subprocess(f"--kit-stack-dir={plugin_stack}", timeout=240)
    result.assert_outcomes(passed=3)
