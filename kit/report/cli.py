"""kit report: run the scenario notebooks and write a regression report.

    python -m kit report                                  # diagnostics/embedded.yaml
    python -m kit report --profile remote --only 01_storage_download --jobs 1
    python -m kit report --baseline reports/latest --out reports
    python -m kit report --only 04_diff_your_own_call -p concurrency=4 -p modes=[sync,async]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kit.cli import parse_arguments
from kit.errors import KitError, TargetError, UsageError
from kit.report.results import EXIT_NOT_EXECUTED, EXIT_USAGE

EPILOG = """exit codes:
  0  all checks passed
  1  a check failed
  2  a notebook failed to execute (cell error, kernel died, timed out), or the stack did not start
  3  bad arguments or profile (an unknown profile name lists the known ones)

Profiles live in diagnostics/*.yaml: target (embedded|local|remote), url_env, key_env,
anon_key_env, db_url_env (names of environment variables; keys are never parameters; unset
ones take the kind's names: local API_URL, SERVICE_ROLE_KEY, ANON_KEY, DB_URL as
supabase status -o env prints them, remote SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY,
SUPABASE_ANON_KEY, SUPABASE_DB_URL), notebook_dir, notebooks (with per-notebook
parameters), timeout, jobs. The target is checked once before any notebook starts.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kit report", description=__doc__.split("\n\n")[0],
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="embedded", metavar="NAME|FILE",
                        help="profile name in diagnostics/ or a YAML file (default: embedded)")
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK",
                        help="run only these notebooks (file names or stems)")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="set a notebook parameter for every notebook run (repeatable; "
                             "VALUE is read as YAML: 4, true, [sync, async])")
    parser.add_argument("--jobs", type=int, metavar="N", help="notebooks run at once (default: profile)")
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="seconds per notebook before it is stopped (default: profile)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="an earlier report directory to compare with (e.g. reports/latest)")
    parser.add_argument("--out", default="reports", metavar="DIR",
                        help="where reports go: DIR/<timestamp>/ and DIR/latest (default: reports)")
    parser.add_argument("--stack-dir", metavar="DIR",
                        help="embedded stack data directory (default: .kit/stack or KIT_STACK_DIR)")
    parser.add_argument("--screenshots", action="store_true",
                        help="also write screenshots/<page>.png of every page at 1280 px "
                             "(headless Chromium; make browser installs it)")
    parser.add_argument("--progress", choices=["auto", "bars", "lines", "quiet"], default="auto",
                        help="progress display (default: bars on a terminal, lines otherwise)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the report, print the summary; return the exit code."""
    parser = build_parser()
    args = parse_arguments(parser, argv)
    if isinstance(args, int):
        return args
    for flag, value in (("--jobs", args.jobs), ("--timeout", args.timeout)):
        if value is not None and value <= 0:
            print(f"kit report: {flag} must be positive, got {value:g}", file=sys.stderr)
            return EXIT_USAGE
    try:
        from kit.report.parameters import parse_assignments
        from kit.report.profiles import load_profile
        from kit.report.progress import make_progress
        from kit.report.run import run_report

        profile = load_profile(args.profile)
        parameters = parse_assignments(args.parameter)
        progress = None
        if args.progress != "auto":
            from kit.report.profiles import select_notebooks

            progress = make_progress(args.progress, sys.stderr, len(select_notebooks(profile, args.only)))
        outcome = run_report(profile, only=args.only, jobs=args.jobs, timeout=args.timeout,
                             baseline=args.baseline, out=args.out, stack_dir=args.stack_dir,
                             progress=progress, parameters=parameters)
    except (UsageError, TargetError) as exc:
        print(f"kit report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KitError as exc:  # the stack did not start, or another failure to run
        print(f"kit report: {exc}", file=sys.stderr)
        return EXIT_NOT_EXECUTED
    from kit.report.render import render_summary_text

    print(render_summary_text(outcome.summary))
    if outcome.comparison is not None:
        print(f"compared with {args.baseline}: {outcome.comparison!r}")
    if args.screenshots:
        from kit.report.browser import write_screenshots

        try:
            shots = write_screenshots(outcome.index.parent)
            print(f"screenshots: {len(shots)} pages in {outcome.index.parent / 'screenshots'}")
        except KitError as exc:  # the report stands; only the pictures are missing
            print(f"kit report: no screenshots: {exc}", file=sys.stderr)
    print(f"report: {outcome.index}")
    return outcome.summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
