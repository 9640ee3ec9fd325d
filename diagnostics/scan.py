#!/usr/bin/env python
"""Scan .py files and notebooks for sync/async misuse of supabase-py (same as `kit scan`).

    python diagnostics/scan.py app/ notebooks/ --format sarif > scan.sarif

Exit codes: 0 clean, 1 findings, 2 bad arguments or a file that could not be parsed.
"""

from __future__ import annotations

import sys

from kit.scan.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
