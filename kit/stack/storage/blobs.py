"""Object bytes on disk, named by version id (a uuid), never by object name.

    <storage_dir>/objects/3f/3f2a…-…    one file per stored version
    <storage_dir>/tmp/                  uploads in progress

An upload streams into a temp file while its size and MD5 are counted; going over the
limit aborts and deletes the temp file. ``commit`` fsyncs and ``os.replace``s it into
place, so a crash leaves either the whole object or none of it.

    store = BlobStore(ctx.storage_dir)
    with store.writer(limit=1024) as w:
        w.write(b"hello")
        w.commit(version)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from typing_extensions import Self

from kit.stack.storage import problems

_VERSION = re.compile(r"[0-9a-f]{32}")
CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The body went over the upload limit; the temp file is already gone."""


class BlobWriter:
    """A temp file that counts bytes and MD5; ``commit`` moves it into place atomically."""

    def __init__(self, store: BlobStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self.committed: Path | None = None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            self.discard()
            raise TooLarge(self.size)
        self._md5.update(data)
        self._file.write(data)

    @property
    def etag(self) -> str:
        return f'"{self._md5.hexdigest()}"'

    def commit(self, version: str) -> Path:
        """fsync, then rename into the version's path; returns it."""
        target = self.store.path(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, target)
        self.committed = target
        return target

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.committed is None:
            self.discard()


class BlobStore:
    """Where object versions live under the stack's storage directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.objects_dir = self.root / "objects"
        self.tmp_dir = self.root / "tmp"
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.tmp_dir.glob("upload-*"):  # uploads cut short by a crash
            leftover.unlink(missing_ok=True)

    @staticmethod
    def new_version() -> str:
        return uuid.uuid4().hex

    def path(self, version: str) -> Path:
        if not _VERSION.fullmatch(version or ""):
            raise ValueError(f"not a stored version id: {version!r}")
        return self.objects_dir / version[:2] / version

    def writer(self, limit: int) -> BlobWriter:
        return BlobWriter(self, limit)

    def exists(self, version: str) -> bool:
        return bool(_VERSION.fullmatch(version or "")) and self.path(version).is_file()

    def copy(self, source: str, target: str) -> None:
        """Copy one version's bytes to a new version (temp file + replace)."""
        src, dst = self.path(source), self.path(target)
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                shutil.copyfileobj(inp, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(name, dst)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def delete(self, *versions: str | None) -> None:
        for version in versions:
            if version and _VERSION.fullmatch(version):
                self.path(version).unlink(missing_ok=True)

    def open(self, version: str) -> BinaryIO:
        """The version's bytes, opened now (a later replace or delete cannot cut a read short)."""
        return open(self.path(version), "rb")

    def chunks(self, version: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start..end`` (inclusive) of a version, in chunks."""
        with self.open(version) as fh:
            yield from read_span(fh, start, end)


def read_span(fh: BinaryIO, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Chunks of an open file from ``start`` to ``end`` (inclusive; None: to the end)."""
    fh.seek(start)
    remaining = None if end is None else end - start + 1
    while remaining is None or remaining > 0:
        data = fh.read(CHUNK if remaining is None else min(CHUNK, remaining))
        if not data:
            return
        if remaining is not None:
            remaining -= len(data)
        yield data


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=0-99`` → ``(0, 99)``; None means the whole body. One range only.

    >>> parse_range("bytes=-10", 100)
    (90, 99)
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None  # unsupported: serve the whole object, as servers may
    first, _, last = spec.strip().partition("-")
    with contextlib.suppress(ValueError):
        if first == "":
            length = int(last)
            if length <= 0:
                raise problems.invalid_range()
            return max(size - length, 0), size - 1
        start = int(first)
        stop = int(last) if last else size - 1
        if start >= size or stop < start:
            raise problems.invalid_range()
        return start, min(stop, size - 1)
    raise problems.invalid_range()
