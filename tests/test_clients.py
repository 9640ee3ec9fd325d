"""kit.clients: the real sync Client and AsyncClient, one injected recording httpx client each."""

from __future__ import annotations

import asyncio
import threading
import time

import jwt
import pytest
from supabase_auth.types import Session, User
from tests_support_png import PNG

import kit
from kit.capture import capture_mode
from kit.explain.rules_api import role_of
from kit.targets import Target


@pytest.fixture
def bucket(stack: Target, unique: str) -> str:
    c = kit.clients(stack)
    c.sync.storage.create_bucket(f"b-{unique}", options={"public": False})
    c.sync.storage.from_(f"b-{unique}").upload("img.png", PNG, {"content-type": "image/png"})
    c.close()
    return f"b-{unique}"


async def test_sync_and_async_clients_record_exact_bytes_mode_and_thread(stack: Target,
                                                                        bucket: str) -> None:
    c = kit.clients(stack)
    with capture_mode("sync"):
        sync_bytes = c.sync.storage.from_(bucket).download("img.png")
    with capture_mode("async"):
        async_bytes = await c.async_.storage.from_(bucket).download("img.png")
    with capture_mode("to_thread"):
        thread_bytes = await asyncio.to_thread(c.sync.storage.from_(bucket).download, "img.png")
    assert sync_bytes == async_bytes == thread_bytes == PNG
    downloads = c.capture.filter(service="storage", method="GET", status=200)
    assert [ex.mode for ex in downloads] == ["sync", "async", "to_thread"]
    assert all(ex.response_body == PNG for ex in downloads)
    assert downloads[0].thread == downloads[1].thread == threading.current_thread().name
    assert downloads[2].thread != downloads[0].thread
    assert all(ex.started_at <= ex.ended_at and ex.duration_ms > 0 for ex in downloads)
    assert kit.flags_for(downloads) == []
    c.close()
    await c.aclose()


async def test_injected_clients_restore_supabase_defaults(stack: Target) -> None:
    c = kit.clients(stack)
    for http in (c.sync.options.httpx_client, c.async_.options.httpx_client):
        assert http is not None and http.timeout.read == 120.0 and http.follow_redirects
    # one httpx client carried into every sub-client
    assert c.sync.storage._client is c.sync.postgrest.session is c.sync.options.httpx_client
    assert c.async_.storage._client is c.async_.options.httpx_client
    assert repr(c) == f"<Clients embedded {stack.url} role=service_role, 0 exchanges>"
    c.close()
    await c.aclose()


def _session(stack: Target) -> Session:
    now = int(time.time())
    assert stack.jwt_secret
    token = jwt.encode({"sub": "00000000-0000-0000-0000-000000000001", "role": "authenticated",
                        "aud": "authenticated", "iat": now, "exp": now + 600},
                       stack.jwt_secret, algorithm="HS256")
    user = User(id="00000000-0000-0000-0000-000000000001", app_metadata={}, user_metadata={},
                aud="authenticated", created_at="2025-01-01T00:00:00Z")
    return Session(access_token=token, refresh_token="r", expires_in=600, token_type="bearer",
                   user=user)


async def test_both_clients_keep_recording_after_a_sign_in_event(stack: Target,
                                                                bucket: str) -> None:
    c = kit.clients(stack)
    c.sync.storage.list_buckets()
    await c.async_.storage.list_buckets()
    session = _session(stack)
    c.sync.auth._notify_all_subscribers("SIGNED_IN", session)   # what sign-in fires
    c.async_.auth._notify_all_subscribers("SIGNED_IN", session)
    await asyncio.sleep(0)  # let the realtime set_auth task run
    c.sync.storage.list_buckets()      # rebuilt sub-clients, same injected httpx client
    await c.async_.storage.list_buckets()
    roles = [role_of(ex) for ex in c.capture.filter(service="storage")]
    assert roles == ["service_role", "service_role", "authenticated", "authenticated"]
    c.close()
    await c.aclose()


def test_anon_role_and_unknown_role(stack: Target) -> None:
    c = kit.clients(stack, role="anon")
    c.sync.storage.list_buckets()
    assert c.role == "anon" and role_of(c.capture[0]) == "anon"
    with pytest.raises(kit.UsageError, match="unknown role 'admin'. Fix: use role='service_role'"):
        kit.clients(stack, role="admin")  # type: ignore[arg-type]
    c.close()


def test_client_side_faults_compose_inside_the_recording_transport(stack: Target) -> None:
    rule = {"id": "edge520", "effect": {"html_page": "cloudflare-520"}}
    c = kit.clients(stack, faults=[rule])
    with pytest.raises(Exception) as info:
        c.sync.storage.list_buckets()
    assert kit.flags_for(info.value) == ["html_error_page_in_exception"]
    ex = c.capture[0]
    assert ex.fault_rule == "edge520" and ex.status == 520
    assert kit.flags_for(ex) == ["fault_injected", "html_error_page"]
    assert kit.explain(info.value, capture=c.capture).explainer == "html_page_from_edge"
    c.close()
