"""The pure core of kit.faults: rule schema, validation, matching, triggers, effects, pages, engine."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.faults import (
    EFFECTS,
    PAGES,
    TRIGGERS,
    FaultRule,
    FaultRuleError,
    FaultSet,
    Match,
    RequestInfo,
    parse_rules,
)

ISSUE_RULE = {"match": {"service": "storage", "method": "GET"}, "when": {"in_flight_at_least": 4},
              "effect": {"html_page": "cloudflare-520"}}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_issue_rule_round_trips_through_plain_data() -> None:
    rule = FaultRule.from_dict(ISSUE_RULE)
    data = rule.to_dict()
    assert data == {"id": rule.id, "match": {"service": "storage", "method": "GET"},
                    "when": {"in_flight_at_least": 4}, "effect": {"html_page": "cloudflare-520"}, "seed": 0}
    assert FaultRule.from_dict(data) == rule
    assert re.fullmatch(r"html_page-[0-9a-f]{6}", rule.id)
    assert FaultRule.from_dict(ISSUE_RULE).id == rule.id  # ids are stable across runs
    assert FaultRule.from_dict({**ISSUE_RULE, "seed": 1}).id != rule.id
    assert FaultRule.from_dict({**ISSUE_RULE, "id": "edge-520"}).id == "edge-520"


def test_rule_repr_and_display() -> None:
    rule = FaultRule.from_dict({**ISSUE_RULE, "id": "edge-520", "seed": 7})
    assert repr(rule) == ("<FaultRule edge-520: storage GET when in_flight_at_least=4 "
                          "→ html_page=cloudflare-520 seed=7>")
    bundle = rule._repr_mimebundle_()
    assert bundle["text/plain"] == repr(rule)
    assert "<td><code>in_flight_at_least=4</code></td>" in bundle["text/html"]


@pytest.mark.parametrize(("data", "message"), [
    ({"effect": {"html": "x"}}, "unknown effect 'html'; known: html_page, json_status, latency"),
    ({"effect": {"html_page": "cloudflare-999"}}, "unknown html_page 'cloudflare-999'; known: cloudflare-520"),
    ({"effect": {"html_page": "kong-502", "colour": 1}}, "effect html_page has no parameter 'colour'; known: status, headers"),
    ({"effect": {"html_page": "kong-502", "latency": 1}}, "effect names html_page and latency"),
    ({"effect": {"json_status": 700}}, "effect json_status must be an HTTP status between 100 and 599, not 700"),
    ({"effect": {"truncated_body": 1}}, "effect truncated_body must be the fraction of the body kept"),
    ({"effect": {"connection_reset": "yes"}}, "effect connection_reset must be true, not 'yes'"),
    ({"effect": {"latency": 1, "jitter": -1}}, "effect latency.jitter must be a number of seconds ≥ 0, not -1"),
    ({"effect": None}, "effect must be a mapping with one effect name"),
    ({"when": {"sometimes": 1}, "effect": {"hang": True}}, "unknown trigger 'sometimes'; known: always, nth, every"),
    ({"when": {"probability": 2}, "effect": {"hang": True}}, "when.probability must be a number between 0 and 1, not 2"),
    ({"when": {"nth": 0}, "effect": {"hang": True}}, "when.nth must be a whole number ≥ 1, not 0"),
    ({"when": {"window": [5, 2]}, "effect": {"hang": True}}, "when.window must be [START, END] with START < END"),
    ({"match": {"servise": "rest"}, "effect": {"hang": True}}, "unknown match field 'servise'; known: service, method"),
    ({"match": {"service": "db"}, "effect": {"hang": True}}, "unknown match.service 'db'; known: rest, storage, auth"),
    ({"match": {"method": "FETCH"}, "effect": {"hang": True}}, "unknown match.method 'FETCH'; known: GET, HEAD"),
    ({"match": {"path": 3}, "effect": {"hang": True}}, "match.path must be a glob string, not 3"),
    ({"effect": {"hang": True}, "trigger": {}}, "unknown rule key 'trigger'; known: id, match, when, effect, seed"),
    ({"match": {"service": "rest"}}, "a fault rule needs an 'effect'"),
    ({"effect": {"hang": True}, "seed": "7"}, "seed must be a whole number, not '7'"),
    ({"effect": {"hang": True}, "id": "has space"}, "rule id 'has space' is not a plain name"),
])
def test_bad_rules_fail_with_one_line_naming_the_fix(data: dict, message: str) -> None:
    with pytest.raises(FaultRuleError) as caught:
        FaultRule.from_dict(data)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text and "Fix:" in text


def test_parse_rules_names_the_bad_rule_and_refuses_duplicate_ids() -> None:
    with pytest.raises(FaultRuleError, match=r"^rule 2 of 2: unknown effect 'nope'"):
        parse_rules([ISSUE_RULE, {"effect": {"nope": 1}}])
    with pytest.raises(FaultRuleError, match="two rules have the id 'x'"):
        parse_rules([{**ISSUE_RULE, "id": "x"}, {"effect": {"hang": True}, "id": "x"}])
    assert [r.id for r in parse_rules(ISSUE_RULE)] == [FaultRule.from_dict(ISSUE_RULE).id]


@pytest.mark.parametrize(("method", "path", "service", "table", "bucket"), [
    ("get", "/rest/v1/chats", "rest", "chats", None),
    ("POST", "/rest/v1/rpc/claim_job", "rest", None, None),
    ("GET", "/storage/v1/object/public/ads/a/b.webp", "storage", None, "ads"),
    ("GET", "/storage/v1/object/ads/x.png", "storage", None, "ads"),
    ("POST", "/storage/v1/object/list/ads", "storage", None, "ads"),
    ("POST", "/storage/v1/object/sign/ads", "storage", None, "ads"),
    ("POST", "/storage/v1/object/move", "storage", None, None),
    ("GET", "/storage/v1/bucket/ads", "storage", None, "ads"),
    ("GET", "/storage/v1/render/image/public/ads/x.png", "storage", None, "ads"),
    ("GET", "/auth/v1/health", "auth", None, None),
    ("GET", "/_kit/ping", "kit", None, None),
    ("GET", "/elsewhere", None, None, None),
])
def test_request_info_reads_service_table_and_bucket(method: str, path: str, service: str | None,
                                                     table: str | None, bucket: str | None) -> None:
    info = RequestInfo.of(method, path)
    assert (info.method, info.service, info.table, info.bucket) == (method.upper(), service, table, bucket)


def test_match_fields_combine_and_kit_routes_need_naming() -> None:
    download = RequestInfo.of("GET", "/storage/v1/object/ads/x.png")
    assert Match.from_dict({}).matches(download)
    assert not Match.from_dict({}).matches(RequestInfo.of("GET", "/_kit/ping"))
    assert Match.from_dict({"service": "kit"}).matches(RequestInfo.of("GET", "/_kit/ping"))
    assert Match.from_dict({"service": ["rest", "storage"], "method": ["get", "head"],
                            "bucket": "a*", "path": "/storage/v1/object/*"}).matches(download)
    assert not Match.from_dict({"bucket": "b*"}).matches(download)
    assert not Match.from_dict({"table": "*"}).matches(download)
    assert not Match.from_dict({"method": "POST"}).matches(download)
    assert Match.from_dict({"table": "chat*"}).matches(RequestInfo.of("PATCH", "/rest/v1/chats"))


def _fired(faults: FaultSet, requests: list[RequestInfo], clock: Clock | None = None,
           step: float = 0.0) -> list[bool]:
    out = []
    for req in requests:
        out.append(faults.decide(req) is not None)
        if clock:
            clock.now += step
    return out


REST = RequestInfo.of("POST", "/rest/v1/t")


@pytest.mark.parametrize(("when", "expected"), [
    ({"always": True}, [True] * 6),
    ({"nth": 3}, [False, False, True, False, False, False]),
    ({"every": 2}, [False, True, False, True, False, True]),
    ({"first": 2}, [True, True, False, False, False, False]),
    ({"window": [1.0, 3.0]}, [False, True, True, False, False, False]),  # elapsed 0, 1, 2, 3, ...
    ({"first": 4, "every": 2}, [False, True, False, True, False, False]),
])
def test_count_and_time_triggers(when: dict, expected: list[bool]) -> None:
    clock = Clock()
    faults = FaultSet([{"when": when, "effect": {"json_status": 503}}], clock=clock)
    assert _fired(faults, [REST] * 6, clock, step=1.0) == expected


def test_counts_only_requests_the_rule_matches() -> None:
    faults = FaultSet([{"match": {"table": "t"}, "when": {"nth": 2}, "effect": {"json_status": 503}}])
    other = RequestInfo.of("POST", "/rest/v1/other")
    assert _fired(faults, [REST, other, other, REST, REST]) == [False, False, False, True, False]
    assert faults.counts() == {faults.rules[0].id: {"matched": 3, "fired": 1}}


def test_in_flight_trigger_reads_the_count() -> None:
    faults = FaultSet([{"when": {"in_flight_at_least": 3}, "effect": {"json_status": 503}}])
    seen = []
    for _ in range(4):
        faults.enter()
        seen.append(faults.decide(REST) is not None)
    for _ in range(4):
        faults.leave()
    assert seen == [False, False, True, True] and faults.in_flight == 0


def test_probability_is_decided_by_seed_and_sequence_only() -> None:
    def run(seed: int) -> list[bool]:
        return _fired(FaultSet([{"when": {"probability": 0.5}, "effect": {"json_status": 503}, "seed": seed}]),
                      [REST] * 40)

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert 0 < sum(first) < 40
    assert first != other


def test_rules_keep_their_own_sequence_whatever_comes_before() -> None:
    b = {"id": "b", "when": {"probability": 0.5}, "effect": {"json_status": 502}, "seed": 3}
    alone = FaultSet([b])
    behind = FaultSet([{"id": "a", "when": {"every": 3}, "effect": {"json_status": 503}}, b])
    fired_alone = [alone.decide(REST) for _ in range(30)]
    fired_behind = [behind.decide(REST) for _ in range(30)]
    for n, (x, y) in enumerate(zip(fired_alone, fired_behind), start=1):
        if n % 3 == 0:
            assert y is not None and y.rule_id == "a"  # first rule that fires wins
        else:
            assert (x is None) == (y is None)


def test_ray_ids_and_jitter_come_from_the_seed() -> None:
    def plans(seed: int) -> list[tuple[str, float]]:
        faults = FaultSet([{"match": {"method": "GET"}, "effect": {"html_page": "cloudflare-522"}, "seed": seed},
                           {"effect": {"latency": 0.5, "jitter": 0.2}, "seed": seed}])
        get, post = RequestInfo.of("GET", "/rest/v1/t", "x.supabase.co"), REST
        return [(faults.decide(get).ray_id, faults.decide(post).delay) for _ in range(5)]  # type: ignore[union-attr]

    first = plans(1)
    assert first == plans(1) and first != plans(2)
    assert len({ray for ray, _ in first}) == 5
    assert all(re.fullmatch(r"[0-9a-f]{16}", ray) and 0.3 <= delay <= 0.7 for ray, delay in first)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_reads_like_its_edge(name: str) -> None:
    page = PAGES[name]
    status, headers, body = page.render(ray_id="8c2f5a3b9d1e4f67", host="abcd.supabase.co", when=0.0)
    text = body.decode()
    header = dict(headers)
    assert status == page.status and text.lstrip().lower().startswith(("<!doctype html>", "<html>"))
    assert re.search(r"<title>[^<]+</title>", text) and "<h1" in text
    code = {"cloudflare-1015": "Error</span>\n        <span class=\"cf-error-code\">1015",
            "kong-502": "An invalid response was received from the upstream server."}.get(name, str(page.status))
    assert code in text  # the error code as the edge prints it (Kong prints its message, no code)
    assert header["content-type"].startswith("text/html")
    if page.edge == "cloudflare":
        assert header["server"] == "cloudflare" and header["cf-ray"] == "8c2f5a3b9d1e4f67-FRA"
        assert "8c2f5a3b9d1e4f67" in text and "abcd.supabase.co" in text
    if page.edge == "kong":
        assert header["server"].startswith("kong/") and "request_id: 8c2f5a3b9d1e4f67" in text
    if page.edge == "nginx":
        assert header["server"] == "nginx" and "<hr><center>nginx</center>" in text
    assert page.render(ray_id="r", host="h", when=0.0, status=200)[0] == 200


def test_cloudflare_520_page_has_the_real_landmarks() -> None:
    _, _, body = PAGES["cloudflare-520"].render(ray_id="0123456789abcdef", host="p.supabase.co",
                                                 when=1_700_000_000.0)
    text = body.decode()
    for landmark in ("<title>p.supabase.co | 520: Web server is returning an unknown error</title>",
                     "Error code 520", "Cloudflare Ray ID: <strong class=\"font-semibold\">0123456789abcdef",
                     "2023-11-14 22:13:20 UTC", "What happened?", "Performance &amp; security by"):
        assert landmark in text


def test_effect_plans() -> None:
    faults = FaultSet([
        {"id": "limit", "match": {"method": "DELETE"}, "effect": {"rate_limit": 30}},
        {"id": "json", "match": {"method": "PUT"}, "effect": {"json_status": 503, "body": {"message": "down"},
                                                                 "headers": {"X-Edge": "a"}}},
        {"id": "slow", "match": {"method": "HEAD"}, "effect": {"slow_body": 0.25}},
    ])
    limit = faults.decide(RequestInfo.of("DELETE", "/rest/v1/t"))
    assert limit and (limit.action, limit.status, dict(limit.headers)["retry-after"]) == ("reply", 429, "30")
    as_json = faults.decide(RequestInfo.of("PUT", "/rest/v1/t"))
    assert as_json and as_json.body == b'{"message": "down"}' and ("x-edge", "a") in as_json.headers
    slow = faults.decide(RequestInfo.of("HEAD", "/rest/v1/t"))
    assert slow and (slow.action, slow.chunk_delay, slow.chunk_size) == ("pass", 0.25, 1024)
    assert [entry["rule"] for entry in faults.log()] == ["limit", "json", "slow"]


def test_fault_set_add_remove_clear() -> None:
    faults = FaultSet()
    assert not faults and faults.decide(REST) is None
    ids = faults.add([{"id": "a", "effect": {"hang": True}}, {"id": "b", "effect": {"hang": True}}])
    assert ids == ["a", "b"] and len(faults) == 2
    with pytest.raises(FaultRuleError, match="a rule with id 'a' is already set"):
        faults.add({"id": "a", "effect": {"hang": True}})
    assert faults.remove("a", "zzz") == ["a"]
    assert faults.clear() == ["b"] and repr(faults) == "<FaultSet 0 rules, 0 in flight, 0 injected>"


_values = {"nth": st.integers(1, 9), "every": st.integers(1, 9), "first": st.integers(1, 9),
           "probability": st.floats(0, 1), "in_flight_at_least": st.integers(1, 9),
           "window": st.tuples(st.integers(0, 5), st.integers(6, 9)).map(list)}
_effects = st.one_of(
    st.builds(lambda p, s: {"html_page": p, "status": s}, st.sampled_from(sorted(PAGES)), st.integers(200, 599)),
    st.builds(lambda s: {"json_status": s}, st.integers(100, 599)),
    st.builds(lambda s, j: {"latency": s, "jitter": j}, st.floats(0, 5), st.floats(0, 1)),
    st.just({"connection_reset": True}), st.just({"hang": True}),
    st.builds(lambda f: {"truncated_body": f}, st.floats(0, 0.99)),
)


@settings(max_examples=60, deadline=None)
@given(effect=_effects, names=st.sets(st.sampled_from(sorted(_values)), max_size=3),
       service=st.sampled_from(["rest", "storage", "auth"]), seed=st.integers(0, 2**31), data=st.data())
def test_any_valid_rule_round_trips(effect: dict, names: set[str], service: str, seed: int,
                                    data: st.DataObject) -> None:
    conditions = {name: data.draw(_values[name]) for name in sorted(names)}
    rule = FaultRule.from_dict({"match": {"service": service}, "when": conditions, "effect": effect, "seed": seed})
    assert FaultRule.from_dict(rule.to_dict()) == rule
    assert FaultRule.from_dict(yaml.safe_load(yaml.safe_dump(rule.to_dict()))) == rule  # YAML-able


def test_registries_list_what_the_issue_asks_for() -> None:
    assert set(TRIGGERS) == {"always", "nth", "every", "first", "probability", "in_flight_at_least", "window"}
    assert set(EFFECTS) == {"html_page", "json_status", "latency", "rate_limit", "connection_reset",
                            "truncated_body", "wrong_content_type", "slow_body", "hang", "answer_lost"}
    assert set(PAGES) == {"cloudflare-520", "cloudflare-521", "cloudflare-522", "cloudflare-524",
                          "cloudflare-1015", "kong-502", "nginx-502", "nginx-504", "supabase-paused"}


def test_catalog_names_everything_a_rule_may_use() -> None:
    from kit.faults import catalog

    names = catalog()
    assert names["match"] == ["service", "method", "path", "table", "bucket"]
    assert names["html_page"] == list(PAGES) and len(names["effect"]) == len(EFFECTS)
    assert all(example.split(":")[0] in TRIGGERS for example in names["when"])


def test_fault_set_displays_its_rules_and_counts() -> None:
    faults = FaultSet([{"id": "edge", "match": {"service": "rest"}, "when": {"nth": 2},
                        "effect": {"html_page": "kong-502"}}])
    faults.decide(REST)
    bundle = faults._repr_mimebundle_()
    assert bundle["text/plain"] == "<FaultSet 1 rules, 0 in flight, 0 injected>"
    assert ("<td><code>edge</code></td><td><code>rest when nth=2 → html_page=kong-502</code></td>"
            "<td><code>1</code></td><td><code>0</code></td>") in bundle["text/html"]
