"""Where a capture keeps its bodies: each body once, as bytes, in memory or in a spill file.

    store = BodyStore(spill_above=1 << 20)      # owned by one Capture
    body = store.keep(response.content)         # Body: the same bytes object, or a file slice
    len(body), body.read(), body.head(512)      # views are computed from it on demand
    for chunk in body.chunks(): ...             # a large body without holding it all twice

A body larger than ``spill_above`` bytes is written to an anonymous temporary file the store
creates on first need (``tempfile.TemporaryFile``: unlinked at once on Linux, closed and gone
when the last Body that points into it is collected). Small bodies keep the very bytes object
the HTTP client produced: no copy is made.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from typing import IO

__all__ = ["DEFAULT_SPILL_ABOVE", "Body", "BodyStore", "SpillFile"]

#: Bodies larger than this many bytes go to the capture's spill file (``Capture(spill_above=...)``).
DEFAULT_SPILL_ABOVE = 1 << 20
_CHUNK = 3 << 20  # a multiple of 3, so base64 of consecutive chunks concatenates


class SpillFile:
    """An append-only anonymous temporary file; ``read`` is safe from any thread."""

    def __init__(self, directory: str | None = None) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="kit-capture-", dir=directory)
        self._lock = threading.Lock()
        self.size = 0

    def append(self, data: bytes) -> int:
        """Write ``data`` at the end; returns its offset."""
        with self._lock:
            offset = self.size
            written = 0
            view = memoryview(data)
            while written < len(data):
                written += os.pwrite(self._file.fileno(), view[written:], offset + written)
            self.size += len(data)
            return offset

    def read(self, offset: int, size: int) -> bytes:
        parts = []
        while size > 0:
            part = os.pread(self._file.fileno(), size, offset)
            if not part:
                raise OSError(f"capture spill file ended {size} bytes early")
            parts.append(part)
            offset += len(part)
            size -= len(part)
        return b"".join(parts) if len(parts) != 1 else parts[0]

    def close(self) -> None:
        self._file.close()


class Body:
    """One body: ``len(body)`` without reading it, ``read()`` for the bytes, ``chunks()`` to stream."""

    __slots__ = ("_data", "_file", "_offset", "size")

    def __init__(self, data: bytes | None = None, *, file: SpillFile | None = None,
                 offset: int = 0, size: int | None = None) -> None:
        self._data = data
        self._file = file
        self._offset = offset
        self.size = len(data) if data is not None else int(size or 0)

    @property
    def spilled(self) -> bool:
        """True when the bytes live in the capture's temporary file, not in memory."""
        return self._file is not None

    def read(self) -> bytes:
        if self._data is not None:
            return self._data
        if self._file is None or not self.size:
            return b""
        return self._file.read(self._offset, self.size)

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes (what sniffing needs) without reading a spilled body whole."""
        if self._data is not None:
            return self._data[:size]
        if self._file is None:
            return b""
        return self._file.read(self._offset, min(size, self.size))

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The bytes in pieces of ``size`` bytes (the last one shorter), read one at a time."""
        if self._data is not None and len(self._data) <= size:
            yield self._data
            return
        for start in range(0, self.size, size):
            if self._data is not None:
                yield self._data[start:start + size]
            else:
                yield self._file.read(self._offset + start, min(size, self.size - start))  # type: ignore[union-attr]

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Body):
            return self.size == other.size and self.read() == other.read()
        if isinstance(other, bytes | bytearray | memoryview):
            return self.read() == bytes(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Body {self.size} B{' spilled' if self.spilled else ''}>"


EMPTY = Body(b"")


class BodyStore:
    """Turns bytes into Bodies for one capture, spilling those above ``spill_above`` bytes."""

    def __init__(self, spill_above: int | None = DEFAULT_SPILL_ABOVE, *,
                 directory: str | None = None) -> None:
        if spill_above is not None and spill_above < 0:
            from kit.errors import UsageError
            raise UsageError(f"spill_above={spill_above} must be 0 or more bytes (or None)",
                             fix="use e.g. spill_above=1_048_576, or None to keep bodies in memory")
        self.spill_above = spill_above
        self.directory = directory
        self._file: SpillFile | None = None
        self._lock = threading.Lock()

    def keep(self, data: bytes | None) -> Body:
        if not data:
            return EMPTY
        if self.spill_above is None or len(data) <= self.spill_above:
            return Body(data)
        with self._lock:
            if self._file is None:
                self._file = SpillFile(self.directory)
            file = self._file
        return Body(file=file, offset=file.append(data), size=len(data))

    @property
    def spilled_bytes(self) -> int:
        return self._file.size if self._file is not None else 0
