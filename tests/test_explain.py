"""kit.explain: real failures of the real clients (against a broken edge and the stack) and
each explainer on its own."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from edge_server import edge_url  # noqa: F401  (fixture)
from postgrest.exceptions import APIError
from storage3.exceptions import StorageApiError

import kit
from kit.explain import EXPLAINERS, explainer
from kit.explain import model as explain_model
from kit.targets import Target

ANON = ".".join(["eyJhbGciOiJIUzI1NiJ9", "eyJyb2xlIjoiYW5vbiJ9", "YW5vbi1zaWduYXR1cmUtYnl0ZXM"])  # fake


@pytest_asyncio.fixture(loop_scope="function")
async def edge(edge_url: str) -> AsyncIterator[kit.Clients]:  # noqa: F811
    c = kit.clients(Target("remote", edge_url, ANON), retry=False)
    yield c
    c.close()
    await c.aclose()


async def _both(c: kit.Clients, op) -> list[object]:
    """Run ``op`` on the sync and the async client; return what each returned or raised."""
    outcomes: list[object] = []
    for client in (c.sync, c.async_):
        try:
            result = op(client)
            outcomes.append(await result if asyncio.iscoroutine(result) else result)
        except Exception as exc:  # noqa: BLE001  (the failure is the subject of the test)
            outcomes.append(exc)
    return outcomes


@pytest.mark.parametrize(("case", "gateway", "line"), [
    ("cf524", "Cloudflare", "HTTP 524 · cloudflare · error 524"),
    ("kong502", "Kong", "HTTP 502 · kong"),
    ("nginx502", "nginx", "HTTP 502 · nginx · error 502"),
    ("cf1015", "Cloudflare", "HTTP 429 · cloudflare · error 1015"),
])
async def test_edge_error_pages_on_postgrest(edge: kit.Clients, case: str, gateway: str,
                                            line: str) -> None:
    for exc in await _both(edge, lambda cl: cl.table(case).select("*").execute()):
        assert isinstance(exc, APIError) and exc.details.lstrip().lower().startswith(("<!doctype", "<html"))
        assert kit.flags_for(exc) == ["html_error_page_in_exception"]
        html = kit.render.render_value(exc)
        assert "body hidden in <code>APIError.details</code>" in html and line in html
        why = kit.explain(exc)
        assert why.explainer == "html_page_from_edge" and gateway in why.title
        assert why.notebook == "notebooks/01_storage_download.ipynb"
    assert len(edge.capture.filter(status=int(line.split()[1]))) == 2


async def test_storage_502_page_and_the_seed_002_story(edge: kit.Clients) -> None:
    for exc in await _both(edge, lambda cl: cl.storage.from_("kong502").download("ad.png")):
        assert isinstance(exc, StorageApiError) and exc.message.startswith("Unable to parse")
        hidden = kit.hidden_bodies(exc)
        assert [h.source for h in hidden] == ["StorageApiError.message"] and hidden[0].status == 502
        why = kit.explain(exc, capture=edge.capture)
        assert why.explainer == "html_page_from_edge"
        assert "not a race condition" in why.cause
        assert [a.explainer for a in why.alternatives] == ["storage_unparsed_error",
                                                           "json_decode_error_on_html"]


async def test_html_200_is_flagged_although_nothing_raised(edge: kit.Clients) -> None:
    rows, arows = await _both(edge, lambda cl: cl.table("html200").select("*").execute())
    files = await _both(edge, lambda cl: cl.storage.from_("html200").download("ad.png"))
    for result in (rows, arows):
        assert isinstance(result.data, str)  # type: ignore[attr-defined]
        assert kit.flags_for(result) == ["html_where_json_expected"]
        assert kit.explain(result).explainer == "html_masquerading_as_result"
    for data in files:
        assert isinstance(data, bytes) and kit.flags_for(data) == ["html_where_bytes_expected"]
        assert "html_where_bytes_expected" in kit.render.render_value(data)
    assert [kit.flags_for(ex) for ex in edge.capture] == [["html_where_json_expected"]] * 2 + [
        ["html_where_bytes_expected"]] * 2
    # the fix checks the user's own call, read back from its request
    read, download = (next(e.fix for e in kit.explain(ex).ranked
                           if e.explainer == "html_masquerading_as_result")
                      for ex in list(edge.capture)[::2])
    assert read is not None and read.before == ('res = supabase.table("html200").select("*")'
                                                '.execute()   # res.data may be a str of HTML')
    assert download is not None and download.after.startswith(
        'data = supabase.storage.from_("html200").download("ad.png")\nif kit.render.is_html(data):')


async def test_json_decode_error_on_a_200_html_page(edge: kit.Clients) -> None:
    for exc in await _both(edge, lambda cl: cl.storage.from_("html200").list()):
        assert isinstance(exc, json.JSONDecodeError)
        assert kit.flags_for(exc) == ["html_error_page_in_exception", "json_decode_error_on_html"]
        why = kit.explain(exc)
        assert why.explainer == "json_decode_error_on_html" and "Project paused" in why.cause


async def test_truncated_body_and_wrong_content_type(edge: kit.Clients) -> None:
    for exc in await _both(edge, lambda cl: cl.table("truncated").select("*").execute()):
        assert kit.explain(exc, capture=edge.capture).explainer == "truncated_body"
    for res in await _both(edge, lambda cl: cl.table("wrongtype").select("*").execute()):
        assert res.data == [{"id": 1, "name": "a"}]  # type: ignore[attr-defined]
    why = kit.explain(edge.capture.filter(predicate=lambda ex: "wrongtype" in ex.url))
    assert why.explainer == "content_type_mismatch" and why.confidence == 0.5


@pytest.mark.slow
def test_postgrest_retries_a_520_three_times(edge_url: str) -> None:  # noqa: F811
    """The one test that pays postgrest's 1+2+4 s backoff (sync client)."""
    c = kit.clients(Target("remote", edge_url, ANON))
    with pytest.raises(APIError) as info:
        c.sync.table("cf520").select("*").execute()
    assert [ex.retry_attempt for ex in c.capture] == [0, 1, 2, 3]
    why = kit.explain(info.value, capture=c.capture)
    assert [e.explainer for e in why.ranked][:2] == ["html_page_from_edge", "postgrest_retries"]
    retries = why.alternatives[0]
    assert "3 time(s)" in retries.title and "7 s in total" in retries.cause
    assert "retry(False)" in (retries.fix.after if retries.fix else "")
    c.close()


async def test_await_on_a_sync_result_and_the_unawaited_coroutine(stack: Target, sql,
                                                                   unique: str) -> None:
    table = f"chats_{unique}"
    sql(f"create table public.{table} (id int primary key, user_id text)")
    sql(f"insert into public.{table} values (1, 'u1')")
    sql("notify pgrst, 'reload schema'")
    c = kit.clients(stack)
    cases = [("APIResponse", lambda: c.sync.table(table).select("*").execute()),
             ("SingleAPIResponse", lambda: c.sync.table(table).select("*").eq("id", 1).single()
              .execute()),
             ("NoneType", lambda: c.sync.table(table).select("*").eq("id", 2).maybe_single()
              .execute())]
    for kind, call in cases:
        with pytest.raises(TypeError, match=f"object {kind}.* can't be used in 'await'") as info:
            await call()
        why = kit.explain(info.value, capture=c.capture)
        assert why.explainer == "await_on_sync_result" and f"({kind})" in why.title
        assert "must be awaited" in why.cause and "seeds/" not in why.cause
        assert why.notebook == "notebooks/03_llm_logging.ipynb"
    assert [ex.status for ex in c.capture] == [200, 200, 200]  # the requests did run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        coro = c.async_.table(table).select("*").execute()
        why = kit.explain(coro, capture=c.capture)
        coro.close()
    assert why.explainer == "coroutine_never_awaited"
    assert len(c.capture) == 3  # the un-awaited call sent nothing
    rows = await c.async_.table(table).select("user_id").eq("id", 1).single().execute()
    assert rows.data == {"user_id": "u1"}  # the async execute() IS a coroutine
    anon = kit.clients(stack, role="anon")
    sql(f"alter table public.{table} enable row level security")
    assert anon.sync.table(table).select("*").execute().data == []
    why = kit.explain(anon.capture)
    assert why.explainer == "rls_empty_for_anon" and "anon" in why.title
    c.close()
    anon.close()
    await c.aclose()


@pytest.mark.parametrize(("text", "name"), [
    ("TypeError: object SingleAPIResponse[TypeVar] can't be used in 'await' expression",
     "await_on_sync_result"),
    ("TypeError: object NoneType can't be used in 'await' expression", "await_on_sync_result"),
    ("TypeError: object Response can't be used in 'await' expression", "await_on_sync_result"),
    ("AttributeError: 'coroutine' object has no attribute 'data'", "coroutine_never_awaited"),
    ("RuntimeWarning: coroutine 'AsyncQueryRequestBuilder.execute' was never awaited",
     "coroutine_never_awaited"),
    ("RuntimeError: asyncio.run() cannot be called from a running event loop",
     "asyncio_run_in_running_loop"),
    ("RuntimeError: Event loop is closed", "event_loop_closed"),
    ("RuntimeError: Task got Future attached to a different loop", "event_loop_closed"),
    ("postgrest.exceptions.APIError: {'message': 'JSON object requested, multiple (or no) rows "
     "returned', 'code': 'PGRST116', 'hint': None, 'details': 'The result contains 0 rows'}",
     "postgrest:PGRST116"),
    ('{"message":"No API key found in request"}', "api_key_problem"),
    ('{"message":"Invalid API key"}', "api_key_problem"),
    ('{"code":"PGRST303","message":"JWT expired"}', "api_key_problem"),
    ("APIError: JSON could not be generated", "old_version_error_format"),
    ("Sync API calls inside async methods cause race conditions", "event_loop_blocked"),
    ("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
     "json_decode_error_on_html"),
])
def test_each_explainer_recognises_its_log_line(text: str, name: str) -> None:
    why = kit.explain(text)
    assert why.explainer == name and why.recognised and why.fix is not None
    assert why.notebook and why.notebook.startswith("notebooks/0")
    bundle = why._repr_mimebundle_()
    assert why.title in bundle["text/plain"] and "<h3>" in bundle["text/html"]


def test_unknown_failures_are_not_guessed() -> None:
    why = kit.explain(ValueError("something else entirely"))
    assert (why.explainer, why.confidence, why.recognised) == ("not_recognised", 0.0, False)
    assert why.evidence.lines == ("ValueError: something else entirely",)
    assert repr(why) == "<Explanation not_recognised (low 0.00): Not recognised>"


def test_pgrst116_from_a_real_api_error_and_installed_versions() -> None:
    exc = APIError({"code": "PGRST116", "message": "Cannot coerce the result to a single JSON "
                    "object", "details": "The result contains 0 rows", "hint": None})
    why = kit.explain(exc)
    assert why.explainer == "postgrest:PGRST116" and "maybe_single()" in (why.fix.after if why.fix else "")
    assert why.versions["supabase"] == "2.34.1" and why.to_dict()["explainer"] == "postgrest:PGRST116"


def test_a_stall_figure_without_samples_is_not_explained_as_a_supabase_call() -> None:
    class Report:
        def explain_inputs(self) -> list[object]:
            return [{"max_stall_ms": 212.0}]

    why = kit.explain(Report())  # nothing says what ran: the kit shows the figure, claims nothing
    assert why.explainer == "not_recognised" and "max_stall_ms: 212.0" in why.evidence.lines
    assert "supabase" not in why.cause


def test_registry_lists_known_explainers_on_a_typo() -> None:
    assert len(EXPLAINERS) >= 16
    with pytest.raises(kit.UsageError, match="unknown explainer 'pgrst16'. Fix: use one of: "
                                             "acreate_client_not_awaited, api_key_problem"):
        explainer("pgrst16")


def test_the_walkthrough_is_an_absolute_path_only_when_the_notebook_exists(monkeypatch, tmp_path):
    why = kit.explain("TypeError: object APIResponse can't be used in 'await' expression")
    assert why.notebook and not why.notebook.startswith("/")  # a path in the kit's repository
    shown = [line for line in str(why).splitlines() if line.startswith("walkthrough: ")]
    assert shown == [f"walkthrough: {explain_model.KIT_REPO / why.notebook}"]
    assert why.to_dict()["walkthrough"] == shown[0].removeprefix("walkthrough: ")
    monkeypatch.setattr(explain_model, "KIT_REPO", tmp_path)  # a kit installed without notebooks
    assert why.walkthrough is None and why.to_dict()["walkthrough"] is None
    assert "walkthrough" not in str(why) and why.notebook not in why._repr_mimebundle_()["text/html"]
