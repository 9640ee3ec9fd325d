"""The plugin's fixtures: a stack, a target, recording clients, faults and a database connection.

    async def test_download(kit_clients, kit_faults, kit_db):
        kit_db.execute("insert into ads (id, path) values (1, 'a.webp')")
        kit_faults.add({"match": {"service": "storage"}, "effect": {"latency": 0.3}})
        await AdService(kit_clients.async_).download_image(1)

``kit_stack`` (session) is the embedded stack: the project's nearest ``.kit/stack`` (started
there if needed), ``--kit-stack-dir``'s, or a private one with ``--kit-private-stack``; shared
by xdist workers (``kit.pytest.shared_stack``). ``kit_target`` is where the tests point (the stack,
or ``--kit-target=local|remote``); every test that uses it, directly or through
``kit_clients``, ``kit_faults`` or ``kit_db``, has its REST writes undone afterwards
(``kit.pytest.rollback``). ``kit_user`` signs a new user in through the target's Auth
(``kit.pytest.user``). Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import psycopg

    from kit.clients import Clients
    from kit.faults.client import ActiveFaults, FaultsClient
    from kit.faults.rules import RulesLike
    from kit.pytest.rollback import UndoLog
    from kit.pytest.user import SignedInUser
    from kit.targets import Target


@pytest.fixture(scope="session")
def kit_stack(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """The embedded stack for the whole run, shared by xdist workers: the project's (nearest
    ``.kit/stack``), ``--kit-stack-dir``'s or, with ``--kit-private-stack``, the run's own;
    ``--kit-migrations`` applied to it."""
    from kit.pytest import shared_stack

    root = shared_stack.stack_dir(request.config, tmp_path_factory)
    migrations = shared_stack.migration_files(request.config.getoption("kit_migrations", None) or [])
    target = shared_stack.acquire(root, migrations)
    yield target
    if not shared_stack.is_xdist_worker(request.config):
        shared_stack.release(root)


@pytest.fixture(scope="session")
def _kit_run_target(request: pytest.FixtureRequest) -> Target:
    kind = request.config.getoption("kit_target", "embedded")
    if kind == "embedded":
        return request.getfixturevalue("kit_stack")
    from kit.errors import UsageError
    from kit.targets import target

    if request.config.getoption("kit_migrations", None):
        raise UsageError(f"--kit-migrations applies to the embedded stack, not --kit-target={kind}",
                         fix="apply migrations to that project with its own tools, or drop the option")
    found, problem = with_jwt_secret(target(kind), os.environ)
    if problem:
        say(request.config, problem)
    return found


JWT_SECRET_ENV = {"local": "JWT_SECRET", "remote": "SUPABASE_JWT_SECRET"}


def with_jwt_secret(found: Target, environ: Mapping[str, str]) -> tuple[Target, str]:
    """``found`` with the JWT secret of its kind's variable (``JWT_SECRET``, what ``supabase
    status -o env`` prints; ``SUPABASE_JWT_SECRET``), so kit clients sign the test's tag into
    their JWT; and a line to say when that secret does not verify the target's key ("" else)."""
    name = JWT_SECRET_ENV.get(found.kind, "")
    secret = environ.get(name, "").strip()
    if found.jwt_secret or not secret:
        return found, ""
    import jwt

    try:
        jwt.decode(found.key, secret, algorithms=["HS256"],
                   options={"verify_aud": False, "verify_exp": False})
    except jwt.PyJWTError:
        return found, (f"kit: {name} does not verify the key from {found.key_source or 'the env'}; "
                       "ignored (kit_clients' writes are tagged by the x-kit-test header only)")
    return dataclasses.replace(found, jwt_secret=secret), ""


@pytest.fixture
def _kit_tag() -> str:
    """This test's tag: its writes carry it (JWT claim ``kit_test``) so they can be undone."""
    return uuid.uuid4().hex


@pytest.fixture(scope="session")
def _kit_undo_log(request: pytest.FixtureRequest, _kit_run_target: Target) -> Iterator[UndoLog | None]:
    """The session's undo log; its finalizer removes the kit's triggers and schema (the last
    session's does), after failures and Ctrl-C too."""
    if not _kit_run_target.database_url:  # a remote project: no database access, no undo
        yield None
        return
    from kit.pytest.rollback import UndoLog
    from kit.pytest.shared_stack import is_xdist_worker

    # untagged writes are undone only on the kit's own stack, one test at a time: elsewhere
    # they may be anyone's
    untagged = _kit_run_target.is_embedded and not is_xdist_worker(request.config)
    undo_log = UndoLog(_kit_run_target.database_url, untagged=untagged)
    request.addfinalizer(undo_log.close)
    if undo_log.removed_leftovers is not None:
        say(request.config, undo_log.removed_leftovers.line())
    yield undo_log


def say(config: pytest.Config, line: str) -> None:
    """One line on the terminal now (on a line of its own), past pytest's output capture."""
    import sys

    capman = config.pluginmanager.getplugin("capturemanager")
    terminal = config.pluginmanager.getplugin("terminalreporter")
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        if terminal is not None:
            terminal.write_line(line)
        else:  # an xdist worker: no terminal of its own
            print(line, file=sys.stderr, flush=True)


@pytest.fixture
def kit_target(_kit_run_target: Target, _kit_undo_log: UndoLog | None,
               _kit_tag: str) -> Iterator[Target]:
    """The target of this test; its REST writes are undone when the test ends."""
    if _kit_undo_log is None:
        yield _kit_run_target
        return
    with _kit_undo_log.around_test(tag=_kit_tag):
        yield _kit_run_target


TAG_HEADER = "x-kit-test"


def tagged_bearer(target: Target, tag: str) -> str | None:
    """A service_role JWT for ``target`` with the claim ``kit_test: tag`` (None without a secret)."""
    if not target.jwt_secret or not target.service_role_key:
        return None
    import jwt

    claims = jwt.decode(target.service_role_key, options={"verify_signature": False})
    return jwt.encode({**claims, "kit_test": tag}, target.jwt_secret, algorithm="HS256")


@pytest.fixture
def kit_clients(kit_target: Target, _kit_tag: str) -> Iterator[Clients]:
    """``kit.Clients``: a sync and an async supabase client (service_role), recording into
    ``kit_clients.capture``; their writes carry this test's tag."""
    from kit.clients import clients

    token = tagged_bearer(kit_target, _kit_tag)
    headers = {TAG_HEADER: _kit_tag}  # PostgREST passes it to the database (request.headers)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    built = clients(kit_target, headers=headers)
    if token:
        built.capture.add_secrets(token)
    yield built
    built.close()


class TestFaults:
    """Fault rules for one test: ``kit_faults.add(rule)``; all removed when the test ends."""

    __test__ = False  # not a test class, whatever pytest's naming rules say

    def __init__(self, client: FaultsClient) -> None:
        self.client = client
        self.added: list[ActiveFaults] = []

    def add(self, *rules: RulesLike) -> ActiveFaults:
        """Set rules on the stack (see ``kit.stack.faults.add``); removed after the test."""
        active = self.client.add(*rules)
        self.added.append(active)
        return active

    def counts(self) -> dict[str, dict[str, int]]:
        return self.client.counts()

    def log(self) -> list[dict[str, Any]]:
        return self.client.log()

    def remove_all(self) -> list[str]:
        removed: list[str] = []
        while self.added:
            removed += self.added.pop().remove()
        return removed

    def __repr__(self) -> str:
        return f"<TestFaults {sum(len(a.rules) for a in self.added)} rules for this test>"


@pytest.fixture
def kit_faults(kit_target: Target) -> Iterator[TestFaults]:
    """Server-side fault rules for this test, removed after it. Rules apply to every client
    (the app's too); under xdist they reach the other worker's requests as well, so match
    them on this test's own tables or buckets."""
    from kit.faults.client import FaultsClient

    faults = TestFaults(FaultsClient(kit_target))
    yield faults
    faults.remove_all()


@pytest.fixture
def kit_user(kit_target: Target, kit_clients: Clients, _kit_tag: str) -> Iterator[SignedInUser]:
    """A user created and signed in through the target's Auth for this test, deleted after
    it; ``kit_user.clients`` (sync and async, recording) act as them, under RLS."""
    from kit.pytest.user import delete_user, sign_in_new_user

    user = sign_in_new_user(kit_target, kit_clients, _kit_tag)
    yield user
    delete_user(kit_clients, user)


@pytest.fixture
def kit_db(kit_target: Target, _kit_tag: str) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection (autocommit, as the database owner) for arranging data; its
    writes carry this test's tag, so they are undone with the REST writes."""
    if not kit_target.database_url:
        from kit.errors import UsageError

        raise UsageError(f"kit_db needs a database URL and {kit_target!r} has none",
                         fix="use the embedded stack, or set SUPABASE_DB_URL for --kit-target")
    import psycopg

    conn = psycopg.connect(kit_target.database_url, autocommit=True)
    conn.execute("SELECT set_config('request.jwt.claims', %s, false)",
                 (json.dumps({"kit_test": _kit_tag}),))
    yield conn
    conn.close()
