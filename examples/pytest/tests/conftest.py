"""The app's schema, applied once per run to the kit's stack (the kit_* fixtures do the rest)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

SCHEMA = Path(__file__).parents[1] / "app" / "schema.sql"


@pytest.fixture(scope="session", autouse=True)
def schema(kit_stack):
    with psycopg.connect(kit_stack.database_url, autocommit=True) as conn:
        conn.execute(SCHEMA.read_text())
