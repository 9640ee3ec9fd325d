"""Explainers for API-level answers: retries, keys and JWTs, RLS-empty results, version formats."""

from __future__ import annotations

import re
from collections import defaultdict

from kit.capture import Exchange
from kit.explain.calls import call_of
from kit.explain.case import Case
from kit.explain.evidence import role_of
from kit.explain.key_facts import key_facts
from kit.explain.model import CONFIDENCE, NOTEBOOKS, Evidence, Explanation, Fix, installed_versions
from kit.explain.registry import register


@register("postgrest_retries")
def postgrest_retries(case: Case) -> Explanation | None:
    retried = [ex for ex in case.exchanges if ex.retry_attempt > 0]
    if not retried:
        return None
    groups: dict[tuple[str, str], list[Exchange]] = defaultdict(list)
    for ex in case.exchanges:
        if ex.service == "rest" and ex.method in ("GET", "HEAD"):
            groups[(ex.method, ex.url)].append(ex)
    attempts = max((g for g in groups.values() if any(e.retry_attempt for e in g)), key=len,
                   default=retried)
    statuses = ", ".join(str(e.status) if e.status is not None else "network error"
                         for e in attempts)
    slept = sum(min(2 ** i, 30) for i in range(max(e.retry_attempt for e in attempts)))
    call = call_of(attempts[0], table="chats")
    return Explanation(
        "postgrest_retries", f"postgrest retried the request {len(attempts) - 1} time(s)",
        "postgrest-py retries GET and HEAD on 503, 520 and network errors: up to 3 retries, "
        f"sleeping 1, 2 and 4 s (here {slept} s in total), each attempt a new request with "
        "X-Retry-Count. The sync client sleeps with time.sleep, so inside async code the whole "
        "event loop sleeps too.",
        Evidence((f"{attempts[0].method} {attempts[0].path}: attempts answered {statuses}",),
                 tuple(attempts[:6])),
        Fix(f"res = {call.code()}",
            f"res = {call.with_modifier('.retry(False)').code()}\n"
            '# or for every call: ClientOptions(postgrest_client_retry=False) / '
            'kit.clients(target, retry=False)',
            "Turn the built-in retries off where you retry yourself (with your own budget) or "
            "cannot afford a 7 s stall."),
        0.85, NOTEBOOKS["start"])


_KEY_PROBLEMS = (
    ("missing_apikey", re.compile(r"No API key found in request"),
     ("The request carried no `apikey` header. Supabase's gateway rejects it before any service "
     "sees it (401)."),
     ("create_client(url, key) sets apikey for you; a hand-built httpx request must send "
     "`apikey: <key>` and `Authorization: Bearer <key>`.")),
    ("wrong_apikey", re.compile(r"Invalid API key"),
     ("The `apikey` is not one of this project's keys (another project's key, a truncated copy, "
     "or a stale key after a rotation). The gateway answers 401 \"Invalid API key\"."),
     "Put this project's key into the environment your app reads it from"),
    ("expired_jwt", re.compile(r"JWT expired|jwt expired|PGRST303|token is expired", re.IGNORECASE),
     ("The JWT in Authorization has expired (PGRST303 / 403 \"jwt expired\"): a user session "
     "that was not refreshed, or a hand-made token with a short exp."),
     ("Refresh the session (client.auth.refresh_session()) or keep auto_refresh_token=True; "
     "for server code use the service_role key from the environment.")),
    ("invalid_jwt", re.compile(r"PGRST301|JWSError|invalid signature|JWSInvalidSignature", re.IGNORECASE),
     ("The JWT was not signed with this project's secret (a key or token from another project "
     "or stack), so PostgREST rejects it (PGRST301)."),
     "Use keys and tokens issued by this project"),
)
_HEADER_FIX = Fix('headers = {"Content-Type": "application/json"}   # no apikey',
                  'headers = {"apikey": key, "Authorization": f"Bearer {key}", '
                  '"Content-Type": "application/json"}')


@register("api_key_problem")
def api_key_problem(case: Case) -> Explanation | None:
    refused = [ex for ex in [*case.exchanges, *case.sent] if ex.status in (401, 403)]
    texts = list(case.texts) + [ex.response_body[:2000].decode("utf-8", "replace") for ex in refused]
    for name, pattern, cause, fix in _KEY_PROBLEMS:
        hit = next((t for t in texts if pattern.search(t)), None)
        if hit is None:
            continue
        line = hit[max(0, pattern.search(hit).start() - 60):][:200]  # type: ignore[union-attr]
        exchanges = tuple(ex for ex in case.exchanges if ex.status in (401, 403))[:3]
        lines, note, code = [line], fix + ".", Fix("", "")
        if name == "missing_apikey":
            code = _HEADER_FIX
        elif name in ("wrong_apikey", "invalid_jwt"):
            header = "apikey" if name == "wrong_apikey" else "authorization"
            facts = key_facts(refused[0] if refused else None, header)
            if facts is None:
                lines.append("the key sent is not known without the request: pass the exception "
                             "itself (its traceback holds the request) or capture=")
                note = f"{fix}: copy the anon or service_role key of the project your URL points at."
            else:
                lines += facts.lines()
                note = f"{fix} ({facts.where}): {facts.get_the_key()}. The key is never shown here."
                if facts.env_names:
                    name_ = facts.env_names[0]
                    code = Fix(f"{name_}=...   # the key sent: {facts.shape}, not this project's",
                               f"{name_}={facts.placeholder()}")
        return Explanation(
            "api_key_problem", f"API key or JWT problem: {name.replace('_', ' ')}", cause,
            Evidence(tuple(lines), exchanges), Fix(code.before, code.after, note),
            0.9, NOTEBOOKS["start"])
    return None


@register("rls_empty_for_anon")
def rls_empty_for_anon(case: Case) -> Explanation | None:
    empty = [ex for ex in case.exchanges if ex.service == "rest" and ex.method == "GET"
             and ex.status == 200 and ex.response_body.strip() == b"[]"
             and role_of(ex) in ("anon", "authenticated")]
    if not empty:
        return None
    ex = empty[0]
    table = ex.path.rsplit("/", 1)[-1]
    # proof: the same table gave rows to another role in the same capture
    seen = [other for other in case.exchanges if other.path == ex.path and other.ok
            and other.response_body.strip() not in (b"", b"[]") and role_of(other) != role_of(ex)]
    lines = [f"{ex.method} {ex.path} as {role_of(ex)} → 200 []"]
    if seen:
        lines.append(f"the same table gave rows to role {role_of(seen[0])!r} "
                     f"(exchange #{seen[0].seq})")
    return Explanation(
        "rls_empty_for_anon", f"Row Level Security hides the rows of {table!r} from {role_of(ex)}",
        f"The request ran as role {role_of(ex)!r} and got an empty list with HTTP 200. With RLS "
        "enabled and no policy that lets this role see the rows, PostgreSQL filters them out "
        "silently: no error, just []."
        + (f" Role {role_of(seen[0])!r} got rows from the same table, so the rows exist."
           if seen else " Nothing here shows the rows exist: it may also simply mean there "
           "are no matching rows (query the table with the service_role key to tell)."),
        Evidence(tuple(lines), tuple([*empty[:2], *seen[:1]])),
        Fix('client = create_client(url, anon_key)\n'
            f'rows = {call_of(ex).code()}.data   # []',
            '# server-side worker: use the service_role key (it bypasses RLS), from the env\n'
            'client = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])\n'
            '# or add a policy:\n'
            f'# create policy "read own" on {table} for select to authenticated\n'
            '#   using (user_id = auth.uid());',
            "Never ship the service_role key to a browser; for user-facing reads add a policy."),
        CONFIDENCE["signature"] if seen else CONFIDENCE["context"], NOTEBOOKS["memory"])


@register("old_version_error_format")
def old_version_error_format(case: Case) -> Explanation | None:
    match = case.find(r"JSON could not be generated")
    if match is None:
        return None
    versions = installed_versions()
    return Explanation(
        "old_version_error_format", "An error format from an older supabase-py",
        "\"JSON could not be generated\" is what postgrest-py <= 2.33 said when an error body was "
        "not JSON (an HTML page). postgrest 2.34 raises APIError(code='<status>', "
        "message='<reason>', details=<the whole body>) instead; storage3 <= 2.31 raised a bare "
        "JSONDecodeError where 2.32+ raises StorageApiError('Unable to parse error message: ...')."
        f" Installed here: postgrest {versions['postgrest']}, storage3 {versions['storage3']}.",
        Evidence((case.line_of(match),)),
        Fix("except APIError as e:\n    if e.message == 'JSON could not be generated': ...",
            "except APIError as e:\n    if kit.flags_for(e):   # html_error_page_in_exception\n"
            "        display(kit.render.render_value(e))",
            "Match on flags or the body, not on message strings that change between versions."),
        0.7, NOTEBOOKS["start"])
