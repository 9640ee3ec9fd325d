"""Which files a scan reads, and the import root each belongs to.

    files, notices = collect_files(["app/"])            # vendored dirs skipped, as ruff does
    files, notices = collect_files(["."], include_vendored=True)
    import_root(Path("svc_a/app/db.py"))                 # (Path("svc_a"), ("app", "db"))

Dangling symlinks, FIFOs, sockets and devices are skipped with one notice each; a symlink to
a file already collected is not collected twice.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from kit.errors import UsageError
from kit.scan.model import Notice

# ruff's default excludes that hold other people's code, plus tool caches
VENDORED = frozenset({".venv", "venv", "site-packages", "node_modules", "build", "dist",
                      ".tox", ".nox", ".eggs", "__pypackages__", "_build", "buck-out",
                      ".direnv", ".pyenv", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                      ".ipynb_checkpoints"})
ALWAYS_SKIPPED = frozenset({"__pycache__", ".git", ".hg", ".svn", ".bzr"})
ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py")


class NoSuchPath(UsageError):
    """A path given to scan does not exist."""


def _skipped_dir(name: str, include_vendored: bool) -> bool:
    if name in ALWAYS_SKIPPED:
        return True
    return not include_vendored and (name in VENDORED or name.startswith("."))


def _regular(path: Path, notices: list[Notice]) -> bool:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        notices.append(Notice(str(path), "dangling symlink: skipped"))
        return False
    except OSError as exc:
        notices.append(Notice(str(path), f"cannot stat ({exc.strerror}): skipped"))
        return False
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
        notices.append(Notice(str(path), f"{kind}: skipped"))
        return False
    return True


def collect_files(paths: Iterable[str | os.PathLike[str]], *,
                  include_vendored: bool = False) -> tuple[list[Path], list[Notice]]:
    """Every .py and .ipynb file under the paths, each once, and notices about skipped ones."""
    found: list[Path] = []
    notices: list[Notice] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if not _regular(path, notices):
            return
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            found.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not _skipped_dir(d, include_vendored))
                for name in sorted(files):
                    if name.endswith((".py", ".ipynb")):
                        add(Path(root, name))
        elif path.exists() or path.is_symlink():
            add(path)
        else:
            raise NoSuchPath(f"no such file or directory: {raw}",
                             fix="pass existing .py / .ipynb files or directories")
    return found, notices


@lru_cache(maxsize=4096)
def _project_root(directory: Path) -> Path | None:
    if any((directory / marker).is_file() for marker in ROOT_MARKERS):
        return directory
    return None if directory.parent == directory else _project_root(directory.parent)


def import_root(path: Path) -> tuple[Path, tuple[str, ...]]:
    """The directory imports of a file are relative to, and the file's dotted name below it.

    The nearest ancestor holding pyproject.toml / setup.cfg / setup.py (its ``src/`` when the
    file is under it); without one, the parent of the topmost package (``__init__.py``) dir.
    Two services each with ``app/db.py`` so get two roots and are never confused.
    """
    resolved = path.resolve()
    root = _project_root(resolved.parent)
    if root is not None and (root / "src") in resolved.parents:
        root = root / "src"
    if root is None:
        root = resolved.parent
        while (root / "__init__.py").is_file() and root.parent != root:
            root = root.parent
    stem = resolved.name.rsplit(".", 1)[0]
    return root, (*resolved.parent.relative_to(root).parts, stem)
