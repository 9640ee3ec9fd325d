"""kit/stack/sql/10_storage.sql on scratch databases of the stack's PostgreSQL server:
idempotent, Supabase's path helpers, and hands off a real Storage service's schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from kit.stack.database import SQL_DIR

STORAGE_SQL = SQL_DIR / "10_storage.sql"


@pytest.fixture
def scratch(db_url: str) -> Iterator[psycopg.Connection]:
    name = f"kit_scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        with psycopg.connect(make_conninfo(db_url, dbname=name), autocommit=True) as conn:
            yield conn
    finally:
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def run_sql(conn: psycopg.Connection, *files: Path) -> None:
    for path in files:
        conn.execute(path.read_text())  # type: ignore[arg-type]


def test_bootstrap_is_idempotent_and_has_the_path_helpers(scratch: psycopg.Connection) -> None:
    files = sorted(SQL_DIR.glob("*.sql"))
    run_sql(scratch, *files)
    run_sql(scratch, *files)  # every stack start runs them again
    row = scratch.execute("SELECT storage.foldername('a/b/c.png'), storage.filename('a/b/c.png'), "
                          "storage.extension('a/b/c.png'), storage.extension('README'), "
                          "storage.foldername('top.txt')").fetchone()
    assert row == (["a", "b"], "c.png", "png", "", [])
    rls = scratch.execute("SELECT relname, relrowsecurity FROM pg_class WHERE relnamespace = "
                          "'storage'::regnamespace AND relkind = 'r' ORDER BY relname").fetchall()
    assert rls == [("buckets", True), ("objects", True)]
    policies = scratch.execute("SELECT count(*) FROM pg_policies WHERE schemaname = 'storage'"
                               ).fetchone()
    assert policies == (0,)  # a fresh Supabase project has no storage policies either


def test_a_real_storage_services_schema_is_left_alone(scratch: psycopg.Connection) -> None:
    run_sql(scratch, SQL_DIR / "00_roles_and_auth.sql")
    scratch.execute("CREATE SCHEMA storage")
    scratch.execute("CREATE TABLE storage.migrations (id int PRIMARY KEY, name text)")
    scratch.execute("CREATE TABLE storage.buckets (id text PRIMARY KEY, file_size_limit bigint, "
                    "allowed_mime_types text[])")
    scratch.execute("CREATE FUNCTION storage.foldername(name text) RETURNS text[] "
                    "LANGUAGE sql AS $$ SELECT ARRAY['theirs'] $$")
    run_sql(scratch, STORAGE_SQL)
    assert scratch.execute("SELECT storage.foldername('a/b')").fetchone() == (["theirs"],)
    assert scratch.execute("SELECT to_regclass('storage.objects')").fetchone() == (None,)
    # the kit's own helper lives in the kit's own schema and works on their buckets
    scratch.execute("INSERT INTO storage.buckets VALUES ('b', 10, '{image/*}')")
    assert scratch.execute("SELECT * FROM kit_meta.storage_bucket_limits('b')").fetchone() == (
        10, ["image/*"])
