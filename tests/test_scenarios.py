"""The three scenarios against the real embedded stack, with the real clients."""

from __future__ import annotations

import base64

import pytest

import kit
from kit.errors import TargetError, UsageError
from kit.scenarios import FAULT_PROFILES, fault_rules, llm_logging, memory_queue, storage_download
from kit.scenarios.base import Names, load_implementation
from kit.targets import Target


@pytest.fixture(scope="module")
def storage_scenario(stack):
    scenario = storage_download(stack)
    scenario.setup()
    yield scenario
    scenario.close()


def test_names_are_checkpoint_names_on_embedded_and_kit_prefixed_elsewhere(stack):
    assert Names.for_target(stack).table("chats") == "chats"
    remote = Target("remote", "https://x.supabase.co", "anon", "service")
    names = Names.for_target(remote)
    assert names.table("chats") == "kit_chats" and names.bucket("reference-ads") == "kit_reference-ads"
    assert names.sql("CREATE TABLE {t:chats} (); SELECT {f:claim}()") == (
        'CREATE TABLE public."kit_chats" (); SELECT "kit_claim"()')


def test_setup_uploads_the_image_and_the_csv_byte_exact(storage_scenario, service_client):
    image = service_client.storage.from_("reference-ads").download("kit_reference_ad.webp")
    assert image[:4] == b"RIFF" and image[8:12] == b"WEBP" and 20_000 < len(image) < 40_000
    csv = service_client.storage.from_("reference-ads").download("dashboards/kit_sales_data_sample.csv")
    assert b"Soci\xe9t\xe9" in csv  # cp1252, not UTF-8
    with pytest.raises(UnicodeDecodeError):
        csv.decode("utf-8")


def test_compare_traces_the_broken_stall_to_its_line_and_the_fixes_do_not_stall(storage_scenario):
    report = storage_scenario.compare(concurrency=4, latency_ms=40)
    assert report.modes == ["broken", "to_thread", "async_client", "sync"]
    broken = report["broken"]
    traced = [s for s in broken.stalls if s.user_frame and s.user_frame.function == "download_image"]
    assert traced, broken.stalls
    assert traced[0].user_frame.filename.endswith("kit/scenarios/ad_creation_service.py")
    assert "storage3/_sync/file_api.py" in traced[0].sdk_frame.filename
    for fixed in ("to_thread", "async_client", "sync"):
        assert report[fixed].equal_to_baseline in (True, None)
        assert not [s for s in report[fixed].stalls if s.sdk_frame and "/_sync/" in s.sdk_frame.filename]


def test_fault_replay_html_200_is_encoded_by_broken_and_refused_by_fixed(storage_scenario):
    report = storage_scenario.fault_replay("edge-html-200", seed=3, concurrency=6)
    broken = [o.value for o in report["broken"].run.outcomes]
    pages = [v for v in broken if base64.b64decode(v)[:15].lower() == b"<!doctype html>"]
    assert len(pages) == 2  # every 3rd of 6 downloads
    fixed_errors = [o.error for o in report["to_thread"].run.outcomes if o.error]
    assert len(fixed_errors) == 2
    assert all(type(e).__name__ == "NotAnImageError" and "HTML" in str(e) for e in fixed_errors)
    pages_seen = storage_scenario.edge_pages(report)
    assert len(pages_seen) == 4 and all(ex.fault_rule == "edge-1015-as-200" for ex in pages_seen)


def test_storage_checks_pass_for_fixed_and_report_the_expected_broken_failures(storage_scenario):
    checks = storage_scenario.checks(concurrency=4, latency_ms=30)
    assert checks.passed, [(c.name, c.detail) for c in checks.failed]
    expected = [c for c in checks if c.expected_failure]
    assert {c.name.split(":")[0] for c in expected} == {"broken"}
    assert len(checks) == 4 * 3 + len(expected) + 1


def test_a_user_implementation_by_import_path_is_checked(storage_scenario):
    good = storage_scenario.checks("userapp.services:GoodAdService", concurrency=4, latency_ms=30)
    assert good.passed, [(c.name, c.detail) for c in good.failed]
    bad = storage_scenario.checks("userapp.services:SneakyAdService", concurrency=4, latency_ms=30)
    failed = {c.name for c in bad.failed}
    assert "userapp.services:SneakyAdService keeps the event loop free" in failed
    assert any("never base64-encodes" in name for name in failed)


def test_bad_implementation_paths_are_one_clear_error():
    with pytest.raises(UsageError, match="not of the form 'package.module:ClassName'"):
        load_implementation("userapp.services.GoodAdService")
    with pytest.raises(UsageError, match="has no 'Nope'; classes there: .*GoodAdService"):
        load_implementation("userapp.services:Nope")
    with pytest.raises(UsageError, match="cannot import 'no_such_pkg.x'"):
        load_implementation("no_such_pkg.x:Y")


def test_fault_profiles_are_valid_rules_and_unknown_names_list_the_known():
    from kit.faults.rules import FaultRule

    for name in FAULT_PROFILES:
        for rule in fault_rules(name, seed=1) or []:
            FaultRule.from_dict(rule)
    with pytest.raises(UsageError, match="known: none, edge-html-under-load"):
        fault_rules("nope")


def test_a_remote_target_without_database_url_refuses_to_create_tables_with_the_fix():
    remote = Target("remote", "https://example.invalid", "anon", "service")
    with pytest.raises(TargetError, match="db_url_env"):
        memory_queue(remote).setup()


def test_llm_logging_cascade_broken_fails_the_widget_and_fixes_log_one_row_per_call(stack):
    scenario = llm_logging(stack)
    scenario.setup()
    broken = scenario.pipeline("broken")
    assert not broken.result.ok and isinstance(broken.result.error, TypeError)
    assert "can't be used in 'await' expression" in str(broken.result.error)
    assert broken.result.steps == [("coordinator_agent", broken.result.steps[0][1])]
    assert broken.usage_rows == []
    checks = scenario.checks()
    assert checks.passed, [(c.name, c.detail) for c in checks.failed]
    scenario.close()


def test_memory_queue_exactly_once_with_workers_and_faults(stack):
    scenario = memory_queue(stack)
    scenario.setup()
    scenario.setup()  # non-destructive: a second run changes nothing and fails nothing
    run = scenario.process_queue("async_client", workers=4, items=8, fault_profile="flaky-rpc", seed=11)
    assert run.exactly_once, run
    error = scenario.broken_worker_error()
    assert isinstance(error, TypeError) and "APIResponse" in str(error)
    checks = scenario.checks(items=6)
    assert checks.passed, [(c.name, c.detail) for c in checks.failed]
    user = scenario.checks("userapp.services:GoodMemoryService", items=4)
    assert user.passed, [(c.name, c.detail) for c in user.failed]
    scenario.close()


def test_memory_queue_check_sees_dropped_failed_and_twice_processed_updates(stack):
    """The check counts what the test asked for, and the workers' own effects."""
    scenario = memory_queue(stack)
    scenario.setup()
    dropping = scenario.process_queue("userapp.services:DroppingMemoryService", workers=2, items=3)
    assert not dropping.exactly_once and len(dropping.lost) == 1 and not dropping.duplicated, dropping
    broken = scenario.process_queue("broken", workers=1, items=2, timeout_s=1)
    assert not broken.exactly_once and len(broken.lost) == 2 and len(broken.enqueue_errors) == 2
    twice = scenario.process_queue("userapp.services:TwiceMemoryService", workers=2, items=2)
    assert not twice.exactly_once and not twice.lost
    assert twice.effects_off and all(w > n for w, n in twice.effects_off.values()), twice.effects_off
    lost_answers = scenario.process_queue("to_thread", workers=2, items=4, fault_profile="lost-answers")
    assert lost_answers.exactly_once, lost_answers
    scenario.close()


def test_operation_and_call_spec_errors():
    with pytest.raises(UsageError, match="does not use the client c"):
        kit.operation("1 + 1")
    with pytest.raises(UsageError, match="neither an operation nor a method"):
        kit.call_spec("", "")
    spec = kit.call_spec("", "userapp.services:GoodAdService.download_image", ["reference-ads/x"])
    assert set(spec) == {"service_factory", "call"}


def test_remote_target_reads_the_database_url_from_the_named_variable():
    env = {"PROJ_URL": "https://abcd.supabase.co", "PROJ_KEY": kit.stack.keys.new_keys().service_role_key,
           "PROJ_DB": "postgresql://kit@127.0.0.1:1/x"}
    found = kit.target("remote", url_env="PROJ_URL", key_env="PROJ_KEY", db_url_env="PROJ_DB", env=env,
                       check=False)
    assert found.database_url == "postgresql://kit@127.0.0.1:1/x"
    assert "PROJ_DB" not in repr(found) and "postgresql" not in repr(found)
