"""The explainer for service error codes: the catalogue entry, made specific by the answer.

A code found in the catalogue gives an explanation whose id is the entry's key
(``postgrest:PGRST205``, ``sqlstate:42501``, ``storage:NoSuchKey``, ``auth:weak_password``) at
confidence ``code``. A few entries read more out of the answer (``SPECIFICS``): the closest table
PostgREST suggests, the role and command a row-level security refusal was for, the rows
``.single()`` found. A code the catalogue lacks is named as such at confidence ``unlisted``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from kit.capture import Exchange
from kit.explain.calls import Call, call_of
from kit.explain.case import Case
from kit.explain.catalogue import DOCS, SERVICE_NAMES, find_entry
from kit.explain.evidence import ServiceAnswer, failing_exchange, role_of, service_answers
from kit.explain.model import CONFIDENCE, NOTEBOOKS, Evidence, Explanation, Fix
from kit.explain.registry import register
from kit.registry import Registry


@dataclass(frozen=True)
class Specific:
    """What an answer adds to its catalogue entry: a title, a sentence, evidence lines, a fix."""

    title: str | None = None
    sentence: str = ""
    lines: tuple[str, ...] = ()
    fix: Fix | None = None


Specifier = Callable[[ServiceAnswer, Case], Specific]
SPECIFICS: Registry[Specifier] = Registry("catalogue specifier")

_COMMANDS = {"GET": "SELECT", "HEAD": "SELECT", "POST": "INSERT", "PATCH": "UPDATE",
             "PUT": "UPDATE", "DELETE": "DELETE"}


@register("service_error")
def service_error(case: Case) -> Explanation | None:
    answers = service_answers(case)
    if not answers:
        return None
    answer = answers[0]
    entry = find_entry(answer.service, answer.code)
    exchanges = tuple(ex for ex in ([answer.exchange] if answer.exchange else
                                    [e for e in case.exchanges if (e.status or 0) >= 400]) if ex)[:3]
    lines = [answer.line(), *(a.line() for a in answers[1:3])]
    service = SERVICE_NAMES[answer.service]
    if entry is None:
        return Explanation(
            f"{answer.service}:unlisted", f"{service} answered {answer.code!r} (not in the kit's "
            "catalogue)",
            f"{service} refused the request with code {answer.code!r}: {answer.message}. The kit's "
            "catalogue does not hold this code, so it does not guess at its cause; the service's "
            "documentation lists it.", Evidence(tuple(lines), exchanges), None,
            CONFIDENCE["unlisted"], NOTEBOOKS["start"], docs=DOCS[answer.service])
    specific = SPECIFICS[entry.key](answer, case) if entry.key in SPECIFICS else Specific()
    cause = (f"{service} answered {answer.code}: {entry.meaning}"
             + (f" {specific.sentence}" if specific.sentence else "")
             + f" Usual causes: {'; '.join(entry.causes)}.")
    if entry.look:
        cause += f" Where to look: {entry.look}."
    # the user's exception is something else (e.g. AttributeError after maybe_single()): the
    # service's answer in the exchanges is context the client handled, not the failure itself
    from_exception = not answer.source.startswith("the body") or not case.exceptions
    return Explanation(
        entry.key, specific.title or f"{entry.title} ({answer.code})", cause,
        Evidence((*specific.lines, *lines), exchanges),
        specific.fix or Fix("", "", entry.fix),
        CONFIDENCE["code"] if from_exception else CONFIDENCE["context"], NOTEBOOKS["start"],
        docs=entry.docs)


def specific(*keys: str) -> Callable[[Specifier], Specifier]:
    def add(fn: Specifier) -> Specifier:
        for key in keys:
            SPECIFICS.add(key, fn)
        return fn
    return add


def _group(pattern: str, text: str | None) -> str | None:
    match = re.search(pattern, text or "")
    return match.group(1) if match else None


def _quoted(text: str | None, after: str) -> str | None:
    match = re.search(after + r"\s*'([^']+)'", text or "")
    return match.group(1) if match else None


@specific("postgrest:PGRST205")
def _missing_table(answer: ServiceAnswer, case: Case) -> Specific:
    named = _quoted(answer.message, "the table")
    call = call_of(failing_exchange(answer, case, "rest"), table=(named or "").split(".")[-1] or None)
    table = named or call.table
    if table is None:
        return Specific(
            "The table the request named does not exist (PGRST205)",
            "The message names no table and no request was captured, so which table is not "
            "known: pass the exception itself (its traceback holds the request) or capture=.",
            ("table: not named in the message (no request captured)",),
            Fix("", "-- apply the migration that creates the table, then:\nNOTIFY pgrst, "
                "'reload schema';", "Use the table's real name, or create it on this project."))
    near = _quoted(answer.hint, "Perhaps you meant the table") or _quoted(
        answer.details, "Perhaps you meant the table")
    short, near_short = table.split(".")[-1], (near or "").split(".")[-1]
    if near:
        return Specific(
            f"The table {table!r} does not exist; the closest is {near!r} (PGRST205)",
            f"No table {table!r} is exposed; PostgREST's closest match is {near!r}.",
            (f"closest existing table: {near} (from PostgREST's hint)",),
            Fix(call.code(), call.code(table=near_short),
                f"Use the real table name {near_short!r}, or create {short!r} (apply the "
                "migration) and reload the schema cache: NOTIFY pgrst, 'reload schema'."))
    seen = sorted({ex.path.split("/")[3] for ex in case.exchanges if ex.service == "rest"
                   and ex.ok and ex.path.count("/") == 3 and ex.path.startswith("/rest/v1/")})
    close = difflib.get_close_matches(short, seen, n=1, cutoff=0.6)
    if close:
        return Specific(
            f"The table {table!r} does not exist; a close name this code reached is {close[0]!r} "
            "(PGRST205)",
            f"No table {table!r} is exposed. PostgREST suggested nothing, but the captured "
            f"requests reached {close[0]!r}.",
            (f"closest table seen in the capture: {close[0]} (of {', '.join(seen[:8])})",),
            Fix(call.code(), call.code(table=close[0]),
                f"Use the real table name {close[0]!r}, or create {short!r}."))
    return Specific(
        f"The table {table!r} does not exist (PGRST205)",
        f"No table {table!r} is exposed, and PostgREST knows no table with a close name.",
        ("closest existing table: none suggested by PostgREST",),
        Fix(call.code(),
            "-- apply the migration that creates it, then:\nNOTIFY pgrst, 'reload schema';",
            "Create the table on this project (or point the client at the project that has it)."))


@specific("postgrest:PGRST204", "sqlstate:42703")
def _missing_column(answer: ServiceAnswer, case: Case) -> Specific:
    column = _quoted(answer.message, "find the") or _group(r"column (\S+) does not exist",
                                                           answer.message)
    near = re.search(r'reference the column "?([\w.]+)"?', answer.hint or "")
    sentence = f"The column named is {column}." if column else ""
    if near:
        sentence += f" PostgreSQL suggests {near.group(1)}."
    call = call_of(failing_exchange(answer, case, "rest"))
    fix = None
    if near and column and call.known:
        old, new = column.split(".")[-1], near.group(1).split(".")[-1]
        fix = Fix(call.code(), call.with_column(old, new).code(),
                  f"Name the existing column {new!r}; PostgreSQL's hint names it.")
    return Specific(sentence=sentence.strip(),
                    lines=(f"closest column: {near.group(1)}",) if near else (), fix=fix)


_UNKNOWN_ROLE = ("the role is not known without the request: pass the exception itself (its "
                 "traceback holds the request), or capture= (c = kit.clients(target); "
                 "kit.explain(exc, capture=c.capture)), or run the test with --kit-capture")


def _command(answer: ServiceAnswer, case: Case) -> tuple[str | None, str | None]:
    """The SQL command and the role of the refused request: from its exchange; without one the
    command only as far as the message says it ("new row violates ..." is a write's WITH CHECK:
    INSERT or UPDATE) and the role only from PostgREST's status (42501 is 401 for anon, 403 for
    a signed-in role). None for what is not known."""
    ex = _refused(answer, case)
    if ex is None:
        command = "INSERT or UPDATE" if "new row violates" in answer.message else None  # WITH CHECK
        return command, "anon" if answer.status == 401 else None
    command = _COMMANDS.get(ex.method, ex.method)
    if ex.method == "POST" and "merge-duplicates" in (ex.request_header("prefer") or "") + (
            ex.request_header("x-upsert") or ""):
        command = "INSERT ... ON CONFLICT UPDATE (upsert)"
    if ex.request_header("x-upsert") == "true":
        command = "INSERT or UPDATE (upsert)"
    return command, role_of(ex)


def _refused(answer: ServiceAnswer, case: Case) -> Exchange | None:
    """The refused request: the answer's, a captured 401/403, or one the traceback holds."""
    return answer.exchange or next((e for e in [*case.exchanges, *case.sent]
                                    if e.status in (401, 403)), None)


_SET_ROLE = re.compile(r'permission denied to set role "?([^"]+)"?|role "?([^"]+)"? does not exist')


@specific("sqlstate:22023")
def _unknown_role(answer: ServiceAnswer, case: Case) -> Specific:
    match = _SET_ROLE.search(answer.message)
    if match is None:
        return Specific()
    return _role_claim(match.group(1) or match.group(2), exists=False)


def _role_claim(role: str, *, exists: bool) -> Specific:
    why = ("exists but the API's login role may not become it" if exists else "does not exist")
    return Specific(
        f"The JWT's role claim {role!r} {why}",
        f"The token's role claim is {role!r}, a database role that {why}, so the request "
        "cannot run as it.",
        (f"JWT role claim: {role}",),
        Fix(f'jwt.encode({{"role": "{role}", "sub": user_id, ...}}, secret)',
            'jwt.encode({"role": "authenticated", "sub": user_id, ...}, secret)   # or use '
            "Supabase Auth's tokens",
            "Use the roles the API knows (anon, authenticated, service_role), or create the "
            "custom role and GRANT it to authenticator."))


@specific("sqlstate:42501", "storage:Unauthorized")
def _rls_refusal(answer: ServiceAnswer, case: Case) -> Specific:
    set_role = _SET_ROLE.search(answer.message)
    if set_role is not None:
        return _role_claim(set_role.group(1) or set_role.group(2), exists=True)
    command, role = _command(answer, case)
    table = _group(r'(?:for table|for relation|on table) "?([\w.]+)"?', answer.message) or (
        "storage.objects" if answer.service == "storage" else None)
    who = f"role {role!r}" if role else "the role the request ran as"
    doing = command or "this command"
    on = table or "this table"
    rls = "row-level security" in answer.message
    what = (f"{who} has no row-level security policy that allows {doing} on {on}" if rls
            else f"{who} may not run {doing} on {table or 'this object'} (no GRANT)")
    unknown = ([_UNKNOWN_ROLE] if role is None else []) + (
        ["the command is not known without the request either"] if command is None else [])
    sentence = f"Here {what}." + "".join(f" {part[0].upper()}{part[1:]}." for part in unknown)
    sent = _refused(answer, case)
    how = ("" if sent is None else " (from the request the exception holds)"
           if sent in case.sent else " (from the captured request)")
    lines = ((f"request role: {role or 'not known (no request captured)'}; command: "
              f"{command or 'not known (no request captured)'}"
              f"{' (the message names a new row: a write)' if sent is None and command else ''}; "
              f"table: {table or 'not named in the message'}{how}"),)
    subject = f"role {role!r}" if role else "the request's role"
    return Specific(f"Row-level security: {subject} may not {doing} on {on}" if rls else None,
                    sentence, lines, _policy_fix(answer, case, command, role, table))


def _policy_fix(answer: ServiceAnswer, case: Case, command: str | None, role: str | None,
                table: str | None) -> Fix:
    """The refused call (when the request is known) and a policy for exactly its command and
    role; what is not known stays a ``<placeholder>`` with a comment naming what fills it."""
    note = ("Add a policy for exactly this command and role, or run trusted server code with the "
            "service_role key (it bypasses row-level security; never ship it to a browser).")
    verbs = [c.lower() for c in _COMMANDS.values() if command and c in command.split()]
    call = call_of(_refused(answer, case), table=(table or "").split(".")[-1] or None)
    before = ""
    if call.known:
        client = "client = create_client(url, anon_key)\n" if role == "anon" else ""
        before = client + call.code()
    verb = verbs[0] if len(set(verbs)) == 1 else "<command>"
    who = role or "<role>"
    notes = []
    if who == "<role>":
        notes.append("-- <role>: anon (the anon key) or authenticated (a signed-in user's token); "
                     "not known without the request")
    if verb == "<command>":
        notes.append(f"-- <command>: {' or '.join(sorted(set(verbs)))}" if verbs else
                     "-- <command>: select, insert, update or delete: the call that was refused")
    check = "using" if verb in ("select", "delete") else "with check"
    after = "\n".join([*notes, f'create policy "{who} can {verb}" on {table or "<table>"}',
                        f"  for {verb} to {who}",
                        f"  {check} (true);   -- narrow it, e.g. user_id = auth.uid()"])
    return Fix(before, after, note)


@specific("postgrest:PGRST116")
def _not_single(answer: ServiceAnswer, case: Case) -> Specific:
    rows = re.search(r"contains (\d+) rows", answer.details or "")
    count = int(rows.group(1)) if rows else None
    call = call_of(failing_exchange(answer, case, "rest", (406,)))
    if not call.known or ".single()" not in call.chain:  # no request captured: an example
        call = Call.example("<table>", '.eq("id", x)', ".single()")
    if count == 0 or count is None:
        return Specific(".single() found no row (PGRST116, HTTP 406)",
                        "The filters matched no row visible to this role (none exists, or "
                        "row-level security hides it).",
                        (f"rows found: {count if count is not None else 'not stated'}",),
                        Fix(f"row = {call.code()}",
                            f"res = {call.with_modifier('.maybe_single()', replacing='.single()').code()}"
                            "\nrow = res.data if res is not None else None",
                            "maybe_single() returns None when there is no row (check it before "
                            ".data); make sure the role can see the row."))
    return Specific(f".single() found {count} rows (PGRST116, HTTP 406)",
                    f"The filters matched {count} rows where exactly one was asked for.",
                    (f"rows found: {count}",),
                    Fix(call.code(),
                        f"{call.with_modifier('.limit(1)', replacing='.single()').code()}"
                        "   # when any one row will do\n# or keep .single() and filter on a unique key",
                        "Filter on a unique key, or drop .single() and handle a list."))


@specific("postgrest:PGRST106")
def _schema_not_exposed(answer: ServiceAnswer, case: Case) -> Specific:
    exposed = (answer.hint or "").split(":")[-1].strip()
    return Specific(sentence=f"Exposed schemas: {exposed}." if exposed else "",
                    lines=(f"exposed schemas: {exposed}",) if exposed else ())


@specific("postgrest:PGRST202")
def _function_not_found(answer: ServiceAnswer, case: Case) -> Specific:
    fn = re.search(r"function ([\w.]+\([^)]*\))", answer.message)
    return Specific(sentence=f"PostgREST looked for {fn.group(1)}." if fn else "",
                    lines=(answer.details,) if answer.details else ())


@specific("sqlstate:23505", "sqlstate:23503", "sqlstate:23502")
def _constraint(answer: ServiceAnswer, case: Case) -> Specific:
    return Specific(sentence=answer.details or "",
                    lines=(f"constraint: {answer.message}",))


@specific("storage:NoSuchKey", "storage:NoSuchBucket", "storage:Duplicate")
def _storage_path(answer: ServiceAnswer, case: Case) -> Specific:
    ex = answer.exchange or next((e for e in case.exchanges if e.service == "storage"
                                  and (e.status or 0) >= 400), None)
    if ex is None:
        return Specific()
    path = re.sub(r"^/storage/v1/(object|bucket)(/(public|authenticated|sign|info|list))?/", "",
                  ex.path)
    sentence = f"The request was {ex.method} {ex.path}."
    if "//" in path or path.endswith("/"):
        sentence += (" The object path has an empty segment (a leading or doubled slash): "
                     "storage names have none, so 'a.png' and '/a.png' are different objects.")
    return Specific(sentence=sentence, lines=(f"bucket/path asked for: {path}",))


@specific("auth:weak_password")
def _weak_password(answer: ServiceAnswer, case: Case) -> Specific:
    reasons = [r for e in case.exceptions for r in (getattr(e, "reasons", None) or [])]
    return Specific(sentence=f"Reasons given: {', '.join(map(str, reasons))}." if reasons else "",
                    lines=(f"weak_password.reasons: {reasons}",) if reasons else ())


@specific("auth:bad_jwt")
def _bad_jwt(answer: ServiceAnswer, case: Case) -> Specific:
    if "expired" not in answer.message:
        return Specific()
    return Specific(
        "The access token expired (Auth bad_jwt)",
        "The token's exp is in the past: the session was not refreshed in time (a token kept "
        "from an earlier sign-in, a process that slept, auto refresh turned off).",
        ("the JWT's exp claim is in the past",),
        Fix("supabase.auth.get_user(stored_access_token)",
            "session = supabase.auth.refresh_session(stored_refresh_token).session\n"
            "supabase.auth.get_user(session.access_token)",
            "Refresh the session before using its access token (the client does it itself "
            "when it holds the session and auto_refresh_token is on)."))
