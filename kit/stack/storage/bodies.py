"""Upload bodies as storage3 and the other clients send them, streamed to a temp file.

- multipart/form-data (storage3's ``upload``/``update``): fields ``cacheControl``,
  ``metadata`` (JSON text), optional ``contentType``; the ``file`` part's Content-Type
  is the object's MIME type. Cache-Control becomes ``max-age=<cacheControl>``.
- anything else is the raw file: ``Content-Type``, ``Cache-Control`` and ``x-metadata``
  (base64 JSON) headers, as the real service reads them.

Over the limit the temp file is deleted at once and the rest of the body is drained
(so the client reads a clean 413 instead of a broken pipe), then ``entity_too_large``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from kit.stack.storage import names, problems
from kit.stack.storage.blobs import BlobStore, BlobWriter, TooLarge

_DRAIN_CAP = 1024 * 1024 * 1024
_MAX_FIELD = 1024 * 1024  # a text field (metadata) may be this large, as on the real service


@dataclass
class Upload:
    """What a request body carried, with the bytes in an uncommitted temp file."""

    writer: BlobWriter
    mimetype: str
    cache_control: str
    user_metadata: dict[str, Any] | None = None
    fields: dict[str, str] = field(default_factory=dict)


class BodyReader:
    """The request body straight from ASGI ``receive``, remembering whether it has ended
    (Starlette's ``request.stream()`` can be iterated only once, so it cannot drain)."""

    def __init__(self, request: Request) -> None:
        self._receive = request.receive
        self.done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.done:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            self.done = not message.get("more_body", False)
            if message.get("body"):
                yield message["body"]

    async def drain(self) -> None:
        """Read and drop the rest, so the client gets the answer rather than a broken pipe."""
        read = 0
        try:
            async for chunk in self.chunks():
                read += len(chunk)
                if read > _DRAIN_CAP:  # past this, stop reading; the connection will close
                    return
        except ClientDisconnect:
            return


async def read_upload(request: Request, store: BlobStore, *, limit: int,
                      allowed_mime_types: list[str] | None) -> Upload:
    """Stream the body into a temp file; raises StorageProblem (413, 415, 400) with nothing kept."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        return await _read_multipart(request, store, content_type, limit, allowed_mime_types)
    mimetype = content_type or "application/octet-stream"
    body = BodyReader(request)
    if not names.mime_allowed(mimetype, allowed_mime_types):
        await body.drain()
        raise problems.invalid_mime_type(mimetype)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        await body.drain()
        raise problems.entity_too_large()
    writer = store.writer(limit)
    try:
        async for chunk in body.chunks():
            writer.write(chunk)
    except TooLarge:
        await body.drain()
        raise problems.entity_too_large() from None
    except BaseException:
        writer.discard()
        raise
    return Upload(writer, mimetype, request.headers.get("cache-control") or "no-cache",
                  _header_metadata(request.headers.get("x-metadata")))


async def _read_multipart(request: Request, store: BlobStore, content_type: str, limit: int,
                          allowed_mime_types: list[str] | None) -> Upload:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise problems.invalid_request("No content provided: multipart body without a boundary")
    form = _FormState(store, limit, allowed_mime_types)
    parser = MultipartParser(boundary, form.callbacks())
    body = BodyReader(request)
    try:
        async for chunk in body.chunks():
            parser.write(chunk)
        parser.finalize()
    except (TooLarge, problems.StorageProblem) as exc:
        form.discard()
        await body.drain()
        raise problems.entity_too_large() if isinstance(exc, TooLarge) else exc from None
    except Exception as exc:  # a malformed body, as python-multipart reports it
        form.discard()
        raise problems.invalid_request(f"No content provided: malformed multipart body ({exc})"
                                       ) from exc
    if form.writer is None or not form.file_done:
        form.discard()
        raise problems.invalid_request("No content provided: the form has no 'file' part")
    cache = form.fields.get("cacheControl")
    metadata = _json_object(form.fields.get("metadata") or form.fields.get("userMetadata"))
    return Upload(form.writer, form.mimetype, f"max-age={cache}" if cache else "no-cache",
                  metadata, form.fields)


class _FormState:
    """python-multipart callbacks: small fields into ``fields``, the file part into a writer.

    The MIME type is checked when the file part's headers end, before any byte is kept
    (storage3 sends the text fields first).
    """

    def __init__(self, store: BlobStore, limit: int, allowed_mime_types: list[str] | None) -> None:
        self.store = store
        self.limit = limit
        self.allowed = allowed_mime_types
        self.fields: dict[str, str] = {}
        self.writer: BlobWriter | None = None
        self.mimetype = "application/octet-stream"
        self.file_done = False
        self._headers: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._name = ""
        self._value = bytearray()
        self._in_file = False

    def callbacks(self) -> Any:  # python-multipart's MultipartCallbacks TypedDict
        return {"on_part_begin": self._part_begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._part_end}

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.discard()

    def _part_begin(self) -> None:
        self._headers, self._value, self._in_file = {}, bytearray(), False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        name = self._header_name.decode("latin-1").lower()
        self._headers[name] = self._header_value.decode("latin-1")
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name != "file" and b"filename" not in params:
            return
        if self.writer is not None:
            raise problems.invalid_request("the form has more than one file part; send one")
        self._in_file = True
        self.mimetype = (self.fields.get("contentType") or self._headers.get("content-type")
                         or "application/octet-stream")
        if not names.mime_allowed(self.mimetype, self.allowed):
            raise problems.invalid_mime_type(self.mimetype)
        self.writer = self.store.writer(self.limit)

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file and self.writer is not None:
            self.writer.write(data[start:end])
        elif len(self._value) + end - start > _MAX_FIELD:
            raise problems.StorageProblem(413, "Payload too large",
                                          "The user_metadata exceeded the maximum allowed size")
        else:
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._in_file:
            self.file_done = True
        else:
            self.fields[self._name] = self._value.decode("utf-8", "replace")


def _header_metadata(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        return _json_object(base64.b64decode(value).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError):
        return None


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
