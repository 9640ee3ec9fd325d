"""``kit scan PATH...``: find sync/async misuse of supabase-py in .py files and notebooks.

    kit scan app/ notebooks/ --format sarif > scan.sarif
    kit scan app/ --select KIT101,KIT102 --ignore KIT104

Exit codes: 0 no findings; 1 findings; 2 bad arguments, a missing path, or a file that could
not be parsed (2 wins over 1: a file that was not read may hide findings; every other file
is still scanned and its findings printed). Files whose text cannot hold a finding are not
parsed at all (``--no-prefilter`` parses everything). Silence one line with
``# kit: ignore[KIT102]`` or every rule on it with ``# kit: ignore``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kit.errors import UsageError
from kit.scan.result import EXIT_ERROR


def _codes(raw: list[str]) -> list[str]:
    return [code for chunk in raw for code in chunk.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    from kit.scan.formats import FORMATS

    parser = argparse.ArgumentParser(
        prog="kit scan", description=__doc__.split("\n\n")[0].strip("`: "),
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
    parser.add_argument("--include-vendored", action="store_true",
                        help="also scan .venv, venv, site-packages, node_modules, build, hidden "
                             "directories (skipped by default, as ruff does)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kit scan``; returns the exit code. ``main(["app/", "--format", "json"])``."""
    from kit.scan.engine import scan

    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return EXIT_ERROR if exc.code else 0
    try:
        result = scan(*args.paths, select=_codes(args.select) or None, ignore=_codes(args.ignore),
                      prefilter=not args.no_prefilter, include_vendored=args.include_vendored)
    except UsageError as exc:
        print(f"kit scan: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(result.render(args.format))
    return result.exit_code
