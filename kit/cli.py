"""kit (or python -m kit): thin commands over the kit's functions.

    kit stack up [--port N] [--data-dir DIR] [--schemas public,api] [--auth NAME=VALUE ...]
                                                  start (or reuse) the embedded stack
    kit stack down | status [-o pretty|json|env] | logs [-n N] | reset [--yes] | migrate FILE...
    kit scan PATH... [--format text|json|sarif]
    kit report [--profile NAME|FILE] ...
    kit doctor [PATH] [--python 3.9] [--health URL] [--format text|json|html]

Exit codes: 0 ok; 1 findings / failed checks; 2 failure to run; 3 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kit.errors import KitError, StackNotRunning, UsageError

if TYPE_CHECKING:
    from kit.targets import Target

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_USAGE = 0, 1, 2, 3

# Sub-commands that live in their own modules register here: name -> "module:function".
# Each function takes argv (list[str]) and returns an exit code; imported only when used.
EXTERNAL_COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("kit.scan.cli", "find sync/async misuse of supabase-py in Python files and notebooks"),
    "report": ("kit.report.cli", "run the scenario notebooks and write a regression report"),
    "doctor": ("kit.doctor.cli", "check interpreters, packages, Python version, configuration, reachability"),
}


# `kit stack ACTION`: each action and the line `kit stack` (no action) prints for it.
STACK_ACTIONS: dict[str, str] = {
    "up": "start the embedded stack, or reuse the running one; prints URL and keys",
    "down": "stop it (data is kept under the data directory)",
    "status": "URL and keys of the running stack (--json for scripts)",
    "logs": "the last lines of its log (-n N)",
    "reset": "stop it and delete its data directory (asks first; --yes to skip)",
    "migrate": "apply .sql files, each once (kit stack migrate FILE.sql ...)",
}


def stack_actions_text() -> str:
    """The plain-text list ``kit stack`` prints when no action is given."""
    width = max(map(len, STACK_ACTIONS))
    lines = [f"  kit stack {name:<{width}}  {text}" for name, text in STACK_ACTIONS.items()]
    return "\n".join(["usage: kit stack ACTION [options]   (kit stack --help for options)", "",
                      "actions:", *lines])


def starting_note(data_dir: str | None) -> str:
    """What ``kit stack up`` says before it waits: the first start initialises PostgreSQL
    (the slow part), a later one only starts it; ``""`` when a stack is already running."""
    from kit.stack.process import running_state
    from kit.stack.state import resolve_data_dir

    folder = resolve_data_dir(data_dir)
    if running_state(folder) is not None:
        return ""
    if not (folder / "keys.json").exists():
        return (f"starting the embedded stack for the first time: creating its keys and a "
                f"PostgreSQL cluster in {folder} (the slow part; later starts reuse them)...")
    return f"starting the embedded stack from {folder}..."


def parse_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None, *,
                    bad_arguments: int = EXIT_USAGE) -> argparse.Namespace | int:
    """``parser.parse_args(argv)``, or the exit code when argparse would exit: ``bad_arguments``
    after its one-line error, 0 after ``--help``. Shared by every ``kit`` sub-command's CLI."""
    try:
        return parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return bad_arguments if exc.code else EXIT_OK


def _stack_rows(t: Target) -> list[tuple[str, str, str | None]]:
    """(label, JSON key, value) for ``kit stack status``, in ``supabase status``'s order."""
    return [("API URL", "API_URL", t.url), ("REST URL", "REST_URL", f"{t.url}/rest/v1"),
            ("Storage URL", "STORAGE_URL", f"{t.url}/storage/v1"), ("DB URL", "DB_URL", t.database_url),
            ("JWT secret", "JWT_SECRET", t.jwt_secret), ("anon key", "ANON_KEY", t.anon_key),
            ("service_role key", "SERVICE_ROLE_KEY", t.service_role_key)]


def _stack_status_text(target: Target) -> str:
    rows = _stack_rows(target)
    width = max(len(label) for label, _, _ in rows)
    return "\n".join(f"{label:>{width}}: {value}" for label, _, value in rows)


def _status_json(target: Target) -> str:
    return json.dumps({key: value for _, key, value in _stack_rows(target)}, indent=2)


def _status_env(target: Target) -> str:
    """``KEY="value"`` lines sorted by name, as ``supabase status -o env`` prints them (the CLI
    writes them with godotenv's Marshal: sorted keys, double quotes, backslash and quote
    escaped), so ``kit stack status -o env > .env`` gives an app the names it reads."""
    rows = sorted((key, value) for _, key, value in _stack_rows(target) if value is not None)
    return "\n".join(f"{key}={_double_quoted(value)}" for key, value in rows)


def _double_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _status(target: Target, output: str) -> str:
    return {"json": _status_json, "env": _status_env}.get(output, _stack_status_text)(target)


def stack_command(args: argparse.Namespace) -> int:
    from kit import stack

    if args.action is None:
        print(stack_actions_text())
        return EXIT_USAGE
    if args.action == "up":
        from kit.stack.auth.settings import AuthSettings
        from kit.stack.state import resolve_schemas

        auth = _auth_options(args.auth)
        resolve_schemas(args.schemas)  # bad input: its one line, before anything is said or started
        AuthSettings.from_options(auth)
        note = starting_note(args.data_dir) if sys.stderr.isatty() else ""  # for a person waiting
        if note:
            print(note, file=sys.stderr, flush=True)
        target = stack.start(args.data_dir, port=args.port, schemas=args.schemas, auth=auth)
        print(_status(target, args.output))
    elif args.action == "down":
        print("stack stopped" if stack.stop(args.data_dir) else "no stack was running")
    elif args.action == "status":
        try:
            target = stack.status(args.data_dir)
        except StackNotRunning as exc:
            print(exc, file=sys.stderr)
            return EXIT_FAILED
        print(_status(target, args.output))
    elif args.action == "logs":
        print(stack.logs(args.data_dir, lines=args.lines))
    elif args.action == "reset":
        planned = stack.reset_plan(args.data_dir)
        if not planned:
            print("nothing to delete")
            return EXIT_OK
        print("reset will stop the stack and delete:")
        for path in planned:
            print(f"  {path}")
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("reset needs confirmation", fix="pass --yes to delete without asking")
            if input("delete? [y/N] ").strip().lower() not in ("y", "yes"):
                print("nothing deleted")
                return EXIT_OK
        for path in stack.reset(args.data_dir):
            print(f"deleted {path}")
    elif args.action == "migrate":
        if not args.files:
            raise UsageError("migrate needs at least one .sql file", fix="kit stack migrate FILE.sql ...")
        for name, outcome in stack.migrate(*args.files, data_dir=args.data_dir):
            print(f"{outcome:8} {name}")
    return EXIT_OK


def _auth_options(pairs: Sequence[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--auth takes NAME=VALUE, not {pair!r}", fix="for example --auth mailer_autoconfirm=off")
        options[name.strip()] = value.strip()
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kit", description=__doc__.split("\n\n")[0],
                                     epilog="exit codes: 0 ok, 1 findings or failed checks, "
                                            "2 failed to run, 3 bad arguments",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    st = sub.add_parser("stack", help="the embedded Supabase-compatible stack",
                        description="the embedded Supabase-compatible stack\n\nactions:\n"
                        + "\n".join(f"  {n:<8} {t}" for n, t in STACK_ACTIONS.items()),
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    st.add_argument("action", nargs="?", choices=list(STACK_ACTIONS), metavar="ACTION",
                    help="one of: " + ", ".join(STACK_ACTIONS))
    st.add_argument("files", nargs="*", help="migration files (for migrate)")
    st.add_argument("--data-dir", default=None, help="stack data directory (default .kit/stack)")
    st.add_argument("--port", type=int, default=0, help="API port for up (default: the one the stack last had, else a free one)")
    st.add_argument("--schemas", default=None,
                    help="for up: schemas /rest/v1 exposes, comma-separated (default "
                         "KIT_STACK_SCHEMAS, else public,graphql_public)")
    st.add_argument("-o", "--output", choices=("pretty", "json", "env"), default="pretty",
                    help="status format: pretty, json, or env (KEY=\"value\" lines, as "
                         "supabase status -o env prints them)")
    st.add_argument("--json", dest="output", action="store_const", const="json",
                    help="the same as -o json")
    st.add_argument("-n", "--lines", type=int, default=50, help="log lines to show")
    st.add_argument("--yes", action="store_true", help="reset without asking")
    st.add_argument("--auth", action="append", default=[], metavar="NAME=VALUE",
                    help="an Auth setting for up (kept in <data dir>/auth.json): disable_signup, "
                         "mailer_autoconfirm, anonymous_users, jwt_expiry, minimum_password_length, "
                         "password_hash_cost, refresh_token_reuse_interval, email_max_frequency, ...")
    st.set_defaults(run=stack_command)
    for name, (_, help_text) in EXTERNAL_COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _external(name: str) -> Callable[[Sequence[str]], int]:
    import importlib

    module = importlib.import_module(EXTERNAL_COMMANDS[name][0])
    return module.main


def _quiet_broken_pipe() -> int:
    """The reader went away (``kit scan . | head``): send what is left to /dev/null, so the
    interpreter's final flush raises nothing, and exit as a pipe-killed tool would (141)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture)
        pass
    finally:
        os.close(devnull)
    return 128 + 13


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``kit`` command; returns its exit code (see the module docstring)."""
    try:
        code = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _run(argv: list[str]) -> int:
    try:
        if argv and argv[0] in EXTERNAL_COMMANDS:
            return _external(argv[0])(argv[1:])
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return EXIT_USAGE
        return int(args.run(args))
    except UsageError as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KitError as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as exc:  # argparse: 2 means bad arguments
        return EXIT_USAGE if exc.code == 2 else int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
