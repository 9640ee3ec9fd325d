"""The stack's fault admin route and ``kit.stack.faults``-style clients, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import kit
from kit.faults import FaultAdminError, FaultRule, FaultRuleError, FaultsClient
from kit.targets import Target

PING_RULE = {"id": "ping-503", "match": {"service": "kit", "path": "/_kit/ping"}, "effect": {"json_status": 503}}


@pytest.fixture
def faults(stack: Target) -> Iterator[FaultsClient]:
    client = FaultsClient(stack)
    client.clear()
    yield client
    client.mark_header(True)
    client.clear()


def test_admin_route_needs_the_service_role_key(stack: Target, faults: FaultsClient) -> None:
    url = f"{stack.url}/_kit/faults"
    assert httpx.get(url).status_code == 401
    refused = httpx.get(url, headers={"apikey": stack.anon_key})
    assert refused.status_code == 401 and "service_role" in refused.json()["message"]
    assert httpx.post(url, json=PING_RULE, headers={"apikey": stack.anon_key}).status_code == 401
    assert faults.rules() == []  # nothing was set by the refused POST
    bearer = httpx.get(url, headers={"Authorization": f"Bearer {stack.service_role_key}"})
    assert bearer.status_code == 200 and bearer.json()["rules"] == []
    with pytest.raises(FaultAdminError, match="answered 401"):
        FaultsClient(Target("embedded", stack.url, stack.anon_key, stack.anon_key)).rules()


def test_admin_route_refuses_bad_rules_with_one_line(stack: Target, faults: FaultsClient) -> None:
    answer = httpx.post(f"{stack.url}/_kit/faults", json=[PING_RULE, {"effect": {"html_page": "nope"}}],
                        headers={"apikey": stack.service_role_key or ""})
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("rule 2 of 2: unknown html_page 'nope'; known: cloudflare-520")
    assert faults.rules() == []  # all or none
    with pytest.raises(FaultRuleError, match="unknown trigger 'sometimes'"):
        faults.add({"when": {"sometimes": True}, "effect": {"hang": True}})
    faults.add(PING_RULE)
    with pytest.raises(FaultRuleError, match="a rule with id 'ping-503' is already set"):
        faults.add(PING_RULE)  # valid locally, refused by the stack


def test_add_list_remove_and_context_manager(stack: Target, faults: FaultsClient) -> None:
    second = {"id": "slow", "match": {"service": "rest"}, "effect": {"latency": 0.1}}
    with faults.add(PING_RULE, [second]) as active:
        assert active.ids == ["ping-503", "slow"] and repr(active) == "<ActiveFaults ping-503, slow>"
        assert faults.rules() == [FaultRule.from_dict(PING_RULE), FaultRule.from_dict(second)]
        assert httpx.get(f"{stack.url}/_kit/ping").status_code == 503
        assert faults.remove("slow", "unknown") == ["slow"]
        assert faults.counts() == {"ping-503": {"matched": 1, "fired": 1}}
    assert faults.rules() == []
    assert httpx.get(f"{stack.url}/_kit/ping").status_code == 200
    faults.add(PING_RULE)
    assert faults.clear() == ["ping-503"]


def test_injections_are_marked_logged_and_the_mark_can_be_turned_off(
        stack: Target, stack_dir: Path, faults: FaultsClient) -> None:
    faults.add({"id": "edge-page", "match": {"service": "kit"}, "effect": {"html_page": "cloudflare-521"},
                "seed": 3})
    marked = httpx.get(f"{stack.url}/_kit/ping")
    assert (marked.status_code, marked.headers["x-kit-fault"]) == (521, "edge-page")
    # uvicorn adds its own `server` line before the page's own (until the stack turns it off)
    assert marked.headers.get_list("server")[-1] == "cloudflare" and "Web server is down" in marked.text
    assert faults.mark_header(False) is False
    unmarked = httpx.get(f"{stack.url}/_kit/ping")
    assert unmarked.status_code == 521 and "x-kit-fault" not in unmarked.headers
    assert faults.mark_header(True) is True
    log = faults.log()[-2:]
    assert [(e["rule"], e["status"], e["path"]) for e in log] == [("edge-page", 521, "/_kit/ping")] * 2
    assert marked.headers["cf-ray"] == f"{log[0]['ray_id']}-FRA" and log[0]["ray_id"] != log[1]["ray_id"]
    assert "fault edge-page: html_page on GET /_kit/ping" in kit.stack.logs(stack_dir, lines=200)


def test_health_and_admin_routes_are_never_faulted(stack: Target, faults: FaultsClient) -> None:
    faults.add({"match": {"service": ["kit", "rest", "storage", "auth"]}, "effect": {"hang": True}})
    assert httpx.get(f"{stack.url}/_kit/health", timeout=5).status_code == 200
    assert len(faults.rules()) == 1  # the admin route still answers
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{stack.url}/auth/v1/health", timeout=0.5)


def test_default_client_finds_the_stack_and_says_when_there_is_none(tmp_path: Path) -> None:
    assert repr(kit.stack.faults) == "<FaultsClient the default stack>"
    with pytest.raises(kit.StackNotRunning, match="no embedded stack is running"):
        FaultsClient(data_dir=tmp_path / "nothing-here").rules()


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_client_side_reply_is_the_server_side_reply(stack: Target, faults: FaultsClient, method: str) -> None:
    rule = {"id": "paused", "match": {"service": "kit"}, "effect": {"html_page": "supabase-paused"}, "seed": 4}
    with faults.add(rule):
        server = httpx.request(method, f"{stack.url}/_kit/ping")
    with httpx.Client(transport=kit.faults.wrap_sync(httpx.HTTPTransport(verify=False), [rule])) as http:
        client = http.request(method, f"{stack.url}/_kit/ping")
    def page(r: httpx.Response) -> bytes:  # the page prints the time: the two may straddle a second
        return re.sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", b"<time>", r.content)

    assert (client.status_code, client.reason_phrase, page(client)) == (
        server.status_code, server.reason_phrase, page(server))
    strip = {"date", "server"}  # uvicorn's own lines; the page's own `server` is compared below
    assert [(k, v) for k, v in client.headers.multi_items() if k not in strip] == [
        (k, v) for k, v in server.headers.multi_items() if k not in strip]
    assert client.headers.get_list("server") == server.headers.get_list("server")[-1:] == ["cloudflare"]
    assert server.status_code == 540 and (method == "HEAD") == (server.content == b"")


def test_rules_do_not_survive_a_restart(stack: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a second stack process on the session's database: cheap to restart, and the session stack stays up
    monkeypatch.setenv("KIT_DATABASE_URL", stack.database_url or "")
    folder = tmp_path / "restarted"
    first = kit.stack.start(folder)
    try:
        FaultsClient(first).add(PING_RULE)
        assert httpx.get(f"{first.url}/_kit/ping").status_code == 503
        kit.stack.stop(folder)
        again = kit.stack.start(folder)
        assert FaultsClient(again).rules() == []
        assert httpx.get(f"{again.url}/_kit/ping").status_code == 200
    finally:
        kit.stack.stop(folder)


def test_server_side_rules_are_for_the_embedded_stack_only(stack: Target) -> None:
    remote = Target("remote", "https://abcd.supabase.co", "anon", "service-role-secret")
    with pytest.raises(FaultAdminError, match=r"^<Target remote https://abcd.supabase.co> is not the kit's "
                                              r"embedded stack\. Fix: .*kit\.clients\(target, faults="):
        FaultsClient(remote).add(PING_RULE)
