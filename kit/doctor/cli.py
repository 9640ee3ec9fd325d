"""kit doctor [PATH]: the environment checks to run before debugging async code.

    kit doctor                                   # the app in the current folder
    kit doctor myapp --python 3.9 --health http://127.0.0.1:8000/health
    kit doctor --format json > doctor.json       # for CI
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import IO

from kit.cli import EXIT_ERROR, EXIT_USAGE, parse_arguments
from kit.errors import KitError, UsageError

EPILOG = """exit codes:
  0  nothing failed (warnings allowed)
  1  a check failed
  2  a check could not run
  3  bad arguments (a missing folder, a --python that is not a version, a bad --health URL)

Progress goes to stderr on a terminal (--progress lines to force it, quiet to silence it).
"""


def progress_printer(mode: str, stream: IO[str]) -> Callable[[str], None] | None:
    """``auto``: one overwritten line on a terminal, nothing otherwise; ``lines``; ``quiet``."""
    if mode == "quiet" or (mode == "auto" and not stream.isatty()):
        return None
    if mode == "lines":
        return lambda text: print(f"kit doctor: {text}", file=stream, flush=True)

    def overwrite(text: str) -> None:
        stream.write(f"\r\x1b[2Kkit doctor: {text[:100]}")
        stream.flush()
    return overwrite


def build_parser() -> argparse.ArgumentParser:
    from kit.doctor.render import FORMATS

    parser = argparse.ArgumentParser(prog="kit doctor", description=__doc__.split("\n\n")[0].strip(),
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default=".", help="the app's folder (default: .)")
    parser.add_argument("--python", metavar="VERSION",
                        help="lowest Python the app must run on (default: its requires-python)")
    parser.add_argument("--health", metavar="URL", help="the app's own health URL to probe")
    parser.add_argument("--format", default="text", choices=list(FORMATS), help="output format")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds per HTTP probe (default 5)")
    parser.add_argument("--no-network", action="store_true",
                        help="skip the Supabase and local-stack probes (--health still runs)")
    parser.add_argument("--progress", choices=["auto", "lines", "quiet"], default="auto",
                        help="progress on stderr (default: only on a terminal)")
    return parser


def main(argv: Sequence[str] | None = None, *, interpreter: str | None = sys.executable) -> int:
    """Run ``kit doctor``; returns the exit code. ``main(["myapp", "--format", "json"])``.

    ``interpreter``: the Python the app runs with besides what PATH and its folder show; by
    default this one (``python -m kit doctor`` runs in the app's environment, where the kit is
    installed). ``diagnostics/doctor`` runs the kit from outside and passes None."""
    parser = build_parser()
    args = parse_arguments(parser, argv)
    if isinstance(args, int):
        return args
    from kit.doctor.render import FORMATS
    from kit.doctor.run import doctor

    try:
        if args.timeout <= 0:
            raise UsageError(f"--timeout must be positive, got {args.timeout:g}", fix="--timeout 5")
        if args.health and not args.health.startswith(("http://", "https://")):
            raise UsageError(f"--health {args.health!r} is not an http(s) URL",
                             fix="--health http://127.0.0.1:8000/health")
        say = progress_printer(args.progress, sys.stderr)
        report = doctor(args.path, python=args.python, health=args.health, timeout=args.timeout,
                        reachability=not args.no_network, interpreter=interpreter, progress=say)
        if say is not None and args.progress == "auto":
            sys.stderr.write("\r\x1b[2K")
    except UsageError as exc:
        print(f"kit doctor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KitError as exc:
        print(f"kit doctor: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(FORMATS[args.format](report))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
