"""kit scan PATH...: find sync/async misuse of supabase-py in .py files and notebooks.

    kit scan app/ notebooks/ --format sarif > scan.sarif
    kit scan app/ --select KIT101,KIT102 --ignore KIT104
    kit scan app/ --diff          # the safe rewrites, as a unified diff; nothing written
    kit scan app/ --fix           # apply them (libcst: comments and formatting survive)

Exit codes: 0 no findings; 1 findings; 2 bad arguments, a missing path, or a file that could
not be parsed (2 wins over 1: a file that was not read may hide findings; every other file
is still scanned and its findings printed). As ruff's: with --fix, 0 when nothing remains
after fixing, 1 when findings remain; with --diff (alone or with --fix: nothing is written),
1 when a fix would change a file, else 0. Files whose text cannot hold a finding are not
parsed at all (``--no-prefilter`` parses everything). Silence one line with
``# kit: ignore[KIT102]`` or every rule on it with ``# kit: ignore``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from kit.cli import parse_arguments
from kit.errors import UsageError
from kit.scan.result import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS


def terminal_progress(stream: TextIO) -> Callable[[int, int], None] | None:
    """On a terminal, one status line (``scanning: 1200 parsed of 5400 files``) rewritten in
    place at most ten times a second; ``None`` elsewhere (pipes and CI logs stay clean).
    ``end_progress`` erases it."""
    if not stream.isatty():
        return None
    shown = [0.0]

    def show(parsed: int, files: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= 0.1:
            shown[0] = now
            stream.write(f"\r\x1b[Kscanning: {parsed} parsed of {files} files")
            stream.flush()
    return show


def end_progress(stream: TextIO, progress: object) -> None:
    if progress is not None:
        stream.write("\r\x1b[K")
        stream.flush()


def _codes(raw: list[str]) -> list[str]:
    return [code for chunk in raw for code in chunk.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    from kit.scan.formats import FORMATS

    parser = argparse.ArgumentParser(
        prog="kit scan", description=__doc__.split("\n\n")[0].strip(),
        epilog="exit codes: 0 clean, 1 findings, 2 bad arguments or a file that could not be "
               "parsed (even with findings)")
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".py / .ipynb files or directories")
    parser.add_argument("--format", default="text", choices=FORMATS.names, help="output format")
    parser.add_argument("--select", action="append", default=[], metavar="CODES",
                        help="only these rules (codes or prefixes, comma-separated)")
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES",
                        help="skip these rules (codes or prefixes, comma-separated)")
    parser.add_argument("--no-prefilter", action="store_true",
                        help="parse every file, even those that cannot hold a finding (slower)")
    parser.add_argument("--fix", action="store_true",
                        help="apply the safe rewrites (KIT101 drop await, KIT102 asyncio.to_thread(lambda: ...), "
                             "KIT103 add await, KIT108 await directly, KIT109 add .execute()) to "
                             ".py files and notebooks")
    parser.add_argument("--diff", action="store_true",
                        help="print the rewrites --fix would make as a diff; write nothing "
                             "(also with --fix, as in ruff)")
    parser.add_argument("--include-vendored", action="store_true",
                        help="also scan .venv, venv, site-packages, node_modules, build, hidden "
                             "directories (skipped by default, as ruff does)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kit scan``; returns the exit code. ``main(["app/", "--format", "json"])``."""
    from kit.scan.engine import scan

    parser = build_parser()
    args = parse_arguments(parser, argv, bad_arguments=EXIT_ERROR)
    if isinstance(args, int):
        return args
    options = {"select": _codes(args.select) or None, "ignore": _codes(args.ignore),
                   "prefilter": not args.no_prefilter, "include_vendored": args.include_vendored}
    try:
        if args.fix or args.diff:
            return _fix(args, options)
        progress = terminal_progress(sys.stderr)
        try:
            result = scan(*args.paths, **options, progress=progress)
        finally:
            end_progress(sys.stderr, progress)
    except UsageError as exc:
        print(f"kit scan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(result.render(args.format))
    return result.exit_code


def _errors(count: int) -> str:
    """ruff's wording: ``1 error``, ``2 errors`` (its summary counts findings, not edits)."""
    return f"{count} error{'s' * (count != 1)}"


def _fix(args: argparse.Namespace, options: dict) -> int:
    from kit.scan.fix import fix_paths
    from kit.scan.formats import finding_lines

    report = fix_paths(args.paths, write=not args.diff, **options)  # --fix --diff: ruff's diff
    errors = EXIT_ERROR if report.result.problems else 0
    remaining = len(report.result)
    if args.diff:
        if report.diff:
            print(report.diff, end="")
        summary = f"Would fix {_errors(report.fixed)}."
    else:
        # as ruff: what remains, then one summary (text); other formats stay whole on stdout
        shown = finding_lines(report.result) if args.format == "text" else [report.result.render(args.format)]
        if shown:
            print("\n".join(shown))
        summary = f"Found {_errors(report.fixed + remaining)} ({report.fixed} fixed, {remaining} remaining)."
    unparsed = len(report.result.problems)
    if unparsed:
        summary += f" {unparsed} file{'s' * (unparsed != 1)} could not be parsed."
    print("\n".join([summary, *report.skipped_lines]), file=sys.stderr)
    if args.diff:
        return errors or (EXIT_FINDINGS if report.changed else EXIT_CLEAN)
    return errors or (EXIT_FINDINGS if remaining else EXIT_CLEAN)
