"""A throwaway table in the stack's ``public`` schema, for tests that need rows to read and write."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def public_table(db_url: str, prefix: str, columns: str, *statements: str) -> Iterator[str]:
    """A fresh ``public.<prefix>_<hex>`` table (``columns`` as in CREATE TABLE; ``statements``
    run after, ``{t}`` standing for its name), in PostgREST's schema cache; dropped after."""
    table = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(f"create table public.{table} ({columns})")
        for statement in statements:
            conn.execute(statement.format(t=f"public.{table}"))
        conn.execute("notify pgrst, 'reload schema'")
    time.sleep(0.3)  # the stack reloads its schema cache on the notification
    try:
        yield table
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(f"drop table if exists public.{table}")
