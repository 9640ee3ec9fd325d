"""Shared fixtures: one real embedded stack per test session, real supabase-py clients."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from supabase import AsyncClient, Client, acreate_client, create_client

import kit
from kit.targets import Target

REPO = Path(__file__).resolve().parents[1]
# the session stack's db-schemas: Supabase's two, plus the schema test_rest.py creates
EXPOSED_SCHEMAS = ("public", "graphql_public", "kit_rest_profile")


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack") / ".kit" / "stack"


@pytest.fixture(scope="session")
def stack(stack_dir: Path) -> Iterator[Target]:
    """A real stack process (pgserver PostgreSQL, or KIT_DATABASE_URL) for the whole session."""
    target = kit.stack.start(stack_dir, schemas=EXPOSED_SCHEMAS)
    yield target
    kit.stack.stop(stack_dir)


@pytest.fixture(scope="session")
def db_url(stack: Target) -> str:
    assert stack.database_url
    return stack.database_url


@pytest.fixture(scope="session")
def plugin_stack() -> Iterator[Path]:
    """A stack for the pytest plugin's runs (tests/test_pytest_plugin*.py): the plugin installs
    its undo triggers in its database. It is ``<tmp>/.kit/stack``, so a project in ``<tmp>/app``
    finds it as its nearest ``.kit/stack``.

    Its folder is not under pytest's base temporary directory: pgserver's PostgreSQL user
    must traverse it, and each pytest that starts makes /tmp/pytest-of-<user> private again
    (the plugin's own run folders avoid it for the same reason, see kit.pytest.shared_stack).
    """
    with tempfile.TemporaryDirectory(prefix="kit-plugin-tests-") as tmp:
        folder = Path(tmp) / ".kit" / "stack"
        kit.stack.start(folder)
        yield folder
        kit.stack.stop(folder)


@pytest.fixture
def sql(db_url: str):
    """Run SQL as the superuser, autocommit: ``sql("create table ...")``."""
    conn = psycopg.connect(db_url, autocommit=True)
    yield lambda statement, params=None: conn.execute(statement, params)
    conn.close()


@pytest.fixture
def unique() -> str:
    """A unique suffix for table, bucket and object names."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def service_client(stack: Target) -> Client:
    return create_client(stack.url, stack.service_role_key or "")


@pytest.fixture
def anon_client(stack: Target) -> Client:
    return create_client(stack.url, stack.anon_key)


@pytest.fixture
async def async_service_client(stack: Target) -> AsyncIterator[AsyncClient]:
    client = await acreate_client(stack.url, stack.service_role_key or "")
    yield client


@pytest.fixture
async def async_anon_client(stack: Target) -> AsyncIterator[AsyncClient]:
    client = await acreate_client(stack.url, stack.anon_key)
    yield client


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"kit-runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
