"""Per-test isolation: each test's REST writes are undone after it (an undo log, replayed).

    undo_log = UndoLog(database_url)                 # once per session: one connection
    with undo_log.around_test(tag="3f2a…", untagged=True) as undone:
        ...                                          # the test's REST and kit_db writes
    undone.rows                                      # rows put back afterwards

How: ``rollback.sql`` gives every table of the watched schemas (``public``) an AFTER ROW
trigger that logs each insert, update and delete (the whole old and new row as jsonb) to
``kit_pytest.undo``, with the ``kit_test`` claim of the request's JWT as a tag. After the
test, ``kit_pytest.undo(tag)`` replays the test's entries backwards: inserted rows are
deleted, updated rows get their old values back, deleted rows are inserted again. The
requests themselves run exactly as before (their own transactions, RLS, the real error
codes); only the data they leave behind is taken back.

Tags: ``kit_clients`` sign their requests with a JWT that carries the test's tag, and
``kit_db`` sets the same claim on its connection. Writes without a tag (clients the app
builds with the plain key) are undone too when tests run one at a time; under xdist,
where two tests write at once, only tagged writes can be told apart and undone.

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
_INSTALL_LOCK = 7_171_717  # the advisory lock kit_pytest.begin takes too: one worker at a time


@dataclass
class Undone:
    rows: int = 0


class UndoLog:
    """The undo log of one database, on one connection kept for the session."""

    def __init__(self, database_url: str, schemas: tuple[str, ...] = WATCHED_SCHEMAS) -> None:
        import psycopg

        self.schemas = list(schemas)
        self.conn: Any = psycopg.connect(database_url, autocommit=True)
        installed = self.conn.execute("SELECT to_regprocedure('kit_pytest.begin(text[],boolean)')"
                                      " IS NOT NULL").fetchone()
        if not (installed and installed[0]):
            sql = resources.files("kit.pytest").joinpath("rollback.sql").read_text(encoding="utf-8")
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_INSTALL_LOCK,))
                self.conn.execute(sql)

    @contextlib.contextmanager
    def around_test(self, *, tag: str, untagged: bool) -> Iterator[Undone]:
        """Undo the writes tagged ``tag`` (and untagged ones, if ``untagged``) made in the block."""
        undone = Undone()
        self.conn.execute("SELECT kit_pytest.begin(%s, %s)", (self.schemas, untagged))
        try:
            yield undone
        finally:
            row = self.conn.execute("SELECT kit_pytest.undo(%s, %s)", (tag, untagged)).fetchone()
            undone.rows = int(row[0]) if row else 0

    def close(self) -> None:
        self.conn.close()
