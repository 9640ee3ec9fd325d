"""Object downloads: the stored bytes with the headers the real service sends.

Content-Type (``text/html`` served as ``text/plain``, as the service does), Cache-Control,
ETag, Last-Modified, Content-Length, Accept-Ranges; ``Range: bytes=a-b`` answers 206,
``If-None-Match`` with the current ETag answers 304, ``?download=`` sets
Content-Disposition, HEAD sends the headers only.
"""

from __future__ import annotations

import os
from datetime import timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, BinaryIO
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kit.stack.errors_format import storage_error
from kit.stack.storage.blobs import BlobStore, parse_range, read_span
from kit.stack.storage.catalog import Row


class BlobResponse(Response):
    """Streams ``start..end`` of one stored version straight from disk."""

    def __init__(self, file: BinaryIO, status: int, headers: dict[str, str],
                 span: tuple[int, int] | None, head: bool) -> None:
        self.file, self.span, self.head = file, span, head
        self.status_code = status
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.file:
            await send({"type": "http.response.start", "status": self.status_code,
                        "headers": self.raw_headers})
            if not self.head:
                start, end = self.span if self.span else (0, None)
                for chunk in read_span(self.file, start, end):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def object_headers(row: Row) -> dict[str, str]:
    meta: dict[str, Any] = row.get("metadata") or {}
    mimetype = str(meta.get("mimetype") or "application/octet-stream")
    if "text/html" in mimetype:
        mimetype = "text/plain"
    headers = {"content-type": mimetype, "cache-control": str(meta.get("cacheControl") or "no-cache"),
               "etag": str(meta.get("eTag") or ""), "accept-ranges": "bytes"}
    modified = row.get("updated_at")
    if modified is not None:
        headers["last-modified"] = format_datetime(modified.astimezone(timezone.utc), usegmt=True)
    return headers


def respond(request: Request, store: BlobStore, row: Row, *, expires: str | None = None) -> Response:
    """The download response for an object row whose bytes are in ``store``."""
    try:
        file = store.open(str(row.get("version") or ""))
        size = os.fstat(file.fileno()).st_size
    except (OSError, ValueError):
        response = storage_error(404, "Not found", "The resource was not found")
        response.headers["cache-control"] = "no-store"
        return response
    try:
        return _respond_with(file, size, request, row, expires)
    except BaseException:
        file.close()
        raise


def _respond_with(file: BinaryIO, size: int, request: Request, row: Row,
                  expires: str | None) -> Response:
    headers = object_headers(row)
    if expires:
        headers["expires"] = expires
    download = request.query_params.get("download")
    if download is not None:
        name = quote(download, safe="!~*'()")  # JavaScript's encodeURIComponent
        headers["content-disposition"] = "attachment;" if download == "" else (
            f"attachment; filename={name}; filename*=UTF-8''{name}")  # renderer.ts handleDownload
    if _not_modified(request, headers):
        file.close()
        return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                  if k in ("etag", "cache-control", "last-modified")})
    span = parse_range(request.headers.get("range"), size) if size else None
    status = 200
    if span:
        status = 206
        headers["content-range"] = f"bytes {span[0]}-{span[1]}/{size}"
        headers["content-length"] = str(span[1] - span[0] + 1)
    else:
        headers["content-length"] = str(size)
    return BlobResponse(file, status, headers, span, request.method == "HEAD")


def _not_modified(request: Request, headers: dict[str, str]) -> bool:
    tags = request.headers.get("if-none-match")
    if tags:
        return headers["etag"] in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and "last-modified" in headers:
        try:
            return parsedate_to_datetime(headers["last-modified"]) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
