"""Per-test isolation: each test's REST writes are undone after it (an undo log, replayed).

    undo_log = UndoLog(database_url, untagged=True)  # once per session: one connection
    undo_log.removed_leftovers                       # a crashed run's objects it removed, or None
    with undo_log.around_test(tag="3f2a…") as undone:
        ...                                          # the test's REST and kit_db writes
    undone.rows                                      # rows put back afterwards
    undo_log.close()                                 # the last session removes every object

How: ``rollback.sql`` gives every table of the watched schemas (``public``) an AFTER ROW
trigger ``kit_pytest_undo`` that logs each insert, update and delete of a kit test (the
whole old and new row as jsonb) to ``kit_pytest.undo``, with the test's tag. After the
test, ``kit_pytest.undo(tag)`` replays the test's entries backwards: inserted rows are
deleted, updated rows get their old values back, deleted rows are inserted again. The
requests themselves run exactly as before (their own transactions, RLS, the real error
codes); only the data they leave behind is taken back.

Only a test's writes are logged, never another client's: a write is logged when it carries
the test's tag (the ``kit_test`` claim of the request's JWT, which ``kit_clients``,
``kit_user`` and ``kit_db`` set, or PostgREST's ``request.headers`` ``x-kit-test``, which
``kit_clients`` send), or, with ``untagged=True`` (the embedded stack, tests one at a time),
any write while a test runs (clients the app builds with the plain key). On a local or
remote target, untagged writes are never logged: they cannot be told from other clients'.

Nothing stays behind: every session holds a shared advisory lock (``_IN_USE_LOCK``) on its
connection; ``close()`` (the session fixture's finalizer, which runs after failures and
Ctrl-C too) removes the triggers, functions and the ``kit_pytest`` schema
(``rollback_removal.sql``) when no other session holds it. A run that crashed left its
lock to the server, which released it with the connection: the next session finds the
objects unlocked, removes them first and says so (``removed_leftovers``).

Cost per test: one catalogue query that attaches the trigger to new tables, one call that
replays the log, and a logged row per write (measured by ``bench/pytest_plugin.py``).
Not undone: schema changes (create tables in migrations or session fixtures), TRUNCATE,
storage objects, and tables created during the test (watched from the next test on).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

WATCHED_SCHEMAS = ("public",)
_INSTALL_LOCK = 7_171_717  # install, removal and kit_pytest.begin: one session at a time
_IN_USE_LOCK = 7_171_718  # held shared by every live session; exclusive only when none is left


@dataclass
class Undone:
    rows: int = 0


@dataclass(frozen=True)
class Leftovers:
    """What a crashed run had left in the database, removed: trigger tables, logged writes."""

    tables: tuple[str, ...]
    logged_writes: int

    def line(self) -> str:
        tables = ", ".join(self.tables) or "no table"
        return (f"kit: removed what an interrupted pytest run left in the database: "
                f"{len(self.tables)} kit_pytest_undo triggers ({tables}) and the kit_pytest "
                f"schema; not undone: {self.logged_writes} logged "
                f"write{'' if self.logged_writes == 1 else 's'} of its last test")


class UndoLog:
    """The undo log of one database, on one connection kept for the session."""

    def __init__(self, database_url: str, schemas: tuple[str, ...] = WATCHED_SCHEMAS, *,
                 untagged: bool = False) -> None:
        import psycopg

        self.schemas = list(schemas)
        self.untagged = untagged
        self.removed_leftovers: Leftovers | None = None
        self.conn: Any = psycopg.connect(database_url, autocommit=True)
        try:
            with self._install_lock():
                if self._installed() and self._alone():
                    self.removed_leftovers = self._leftovers()
                    self._remove()
                if not self._installed():
                    with self.conn.transaction():
                        self.conn.execute(_sql("rollback.sql"))
                self.conn.execute("SELECT pg_advisory_lock_shared(%s)", (_IN_USE_LOCK,))
        except BaseException:
            self.conn.close()
            raise

    @contextlib.contextmanager
    def around_test(self, *, tag: str) -> Iterator[Undone]:
        """Undo the writes tagged ``tag`` (and untagged ones, if ``untagged``) made in the block."""
        undone = Undone()
        self.conn.execute("SELECT kit_pytest.begin(%s, %s)", (self.schemas, self.untagged))
        try:
            yield undone
        finally:
            row = self.conn.execute("SELECT kit_pytest.undo(%s, %s)", (tag, self.untagged)).fetchone()
            undone.rows = int(row[0]) if row else 0

    def close(self) -> None:
        """Leave the session; the last one removes every kit_pytest object. Closes the connection."""
        try:
            if not self.conn.closed:
                with self._install_lock():
                    self.conn.execute("SELECT pg_advisory_unlock_shared(%s)", (_IN_USE_LOCK,))
                    if self._alone():
                        self._remove()
        finally:
            self.conn.close()

    @contextlib.contextmanager
    def _install_lock(self) -> Iterator[None]:
        self.conn.execute("SELECT pg_advisory_lock(%s)", (_INSTALL_LOCK,))
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (_INSTALL_LOCK,))

    def _installed(self) -> bool:
        row = self.conn.execute("SELECT to_regnamespace('kit_pytest') IS NOT NULL").fetchone()
        return bool(row and row[0])

    def _alone(self) -> bool:
        """No other live session uses the objects (this one holds no shared lock now)."""
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (_IN_USE_LOCK,)).fetchone()
        if row and row[0]:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (_IN_USE_LOCK,))
            return True
        return False

    def _leftovers(self) -> Leftovers:
        tables = [r[0] for r in self.conn.execute(
            "SELECT format('%I.%I', tn.nspname, c.relname) FROM pg_trigger g"
            " JOIN pg_proc p ON p.oid = g.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace"
            " JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace tn ON tn.oid = c.relnamespace"
            " WHERE n.nspname = 'kit_pytest' AND NOT g.tgisinternal ORDER BY 1").fetchall()]
        logged = 0
        if self.conn.execute("SELECT to_regclass('kit_pytest.undo') IS NOT NULL").fetchone()[0]:
            logged = self.conn.execute("SELECT count(*) FROM kit_pytest.undo").fetchone()[0]
        return Leftovers(tuple(tables), int(logged))

    def _remove(self) -> None:
        with self.conn.transaction():
            self.conn.execute(_sql("rollback_removal.sql"))


def _sql(name: str) -> str:
    return resources.files("kit.pytest").joinpath(name).read_text(encoding="utf-8")
