"""The app's tests, run with the kit's plugin (``--kit-stalls=100 --kit-capture``)."""

from __future__ import annotations

import pytest
from app.ads import BUCKET, AdCatalog, AdImages

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(64)
SLOW_STORAGE = {"match": {"service": "storage", "method": "GET"}, "effect": {"latency": 0.5}}
EDGE_PAGE = {"match": {"service": "rest", "table": "ads"},
             "effect": {"html_page": "cloudflare-520", "status": 200}}


# Data and faults are arranged in plain (sync) fixtures: sync calls inside an async test's
# body would hold its event loop too, and the kit would rightly say so.
@pytest.fixture
def image(kit_clients):
    kit_clients.sync.storage.from_(BUCKET).upload("ad-1.png", IMAGE, {"upsert": "true"})
    return "ad-1.png"


@pytest.fixture
def slow_storage(kit_faults):
    kit_faults.add(SLOW_STORAGE)  # a slow network: 500 ms per download


@pytest.fixture
def two_ads(kit_db):
    kit_db.execute("INSERT INTO ads (title) VALUES ('first'), ('second')")


async def test_download_runs_off_the_loop(kit_clients, slow_storage, image):
    assert await AdImages(kit_clients.sync).download(image) == IMAGE


@pytest.mark.xfail(strict=True, reason="the kit fails it: a sync download blocks the loop 500 ms")
async def test_download_blocking_is_caught(kit_clients, slow_storage, image):
    assert await AdImages(kit_clients.sync).download_blocking(image) == IMAGE


async def test_titles_come_back_in_order(kit_clients, two_ads):
    catalog = AdCatalog(kit_clients.async_)
    await catalog.add("third")
    assert await catalog.titles() == ["first", "second", "third"]


async def test_each_test_starts_with_no_ads(kit_clients):
    assert await AdCatalog(kit_clients.async_).titles() == []


@pytest.mark.xfail(strict=True, reason="the kit fails it: the edge's HTML page came back as data")
async def test_edge_page_is_caught(kit_clients, kit_faults):
    kit_faults.add(EDGE_PAGE)  # a sync request to the stack, but the kit's own: not a stall
    result = await kit_clients.async_.table("ads").select("title").execute()
    assert result.data is not None  # passes on its own: the HTML page is a non-empty str


def test_sync_code_is_left_alone(kit_clients, image):
    # a plain def test: nothing to stall, so the plugin never watches it
    assert kit_clients.sync.storage.from_(BUCKET).download(image) == IMAGE
