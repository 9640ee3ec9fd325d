"""The storage service's errors, named and worded as the real service's (supabase/storage).

A handler raises ``StorageProblem``; the app turns it into the real body
``{"statusCode": "<real status>", "error": ..., "message": ...}`` with HTTP 400 for
everything below 500 (``kit.stack.errors_format.storage_error``). storage3 reads
``error`` as ``StorageApiError.code`` and ``statusCode`` as ``.status``.

    raise no_such_key()        # → 400 {"statusCode": "404", "error": "not_found", ...}
"""

from __future__ import annotations

import json
import logging

import psycopg
from psycopg import errors as pg_errors
from starlette.requests import Request
from starlette.responses import Response

from kit.stack.errors_format import storage_error

log = logging.getLogger("kit.stack.storage")
RLS_MESSAGE = "new row violates row-level security policy"


class StorageProblem(Exception):
    """An expected failure of a storage request: rendered, never a 500."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message

    def response(self) -> Response:
        return storage_error(self.status, self.error, self.message)


async def image_transformation_disabled(request: Request) -> Response:
    """``/render/image/{public,authenticated,sign}/...`` on a project without image
    transformation (hosted free plan): 403 FeatureNotEnabled from Storage's tenant-feature
    check (src/http/plugins/tenant-feature.ts), never the untransformed bytes."""
    body = {"error": "FeatureNotEnabled", "statusCode": "403",
            "message": "feature not enabled for this tenant", "code": "FeatureNotEnabled"}
    return Response(json.dumps(body), 403, media_type="application/json; charset=utf-8")


def no_such_bucket() -> StorageProblem:
    return StorageProblem(404, "Bucket not found", "Bucket not found")


def no_such_key() -> StorageProblem:
    return StorageProblem(404, "not_found", "Object not found")


def duplicate() -> StorageProblem:
    return StorageProblem(409, "Duplicate", "The resource already exists")


def access_denied(message: str = RLS_MESSAGE) -> StorageProblem:
    return StorageProblem(403, "Unauthorized", message)


def entity_too_large() -> StorageProblem:
    return StorageProblem(413, "Payload too large", "The object exceeded the maximum allowed size")


def invalid_mime_type(mime_type: str) -> StorageProblem:
    return StorageProblem(415, "invalid_mime_type", f"mime type {mime_type} is not supported")


def invalid_key(key: str, why: str) -> StorageProblem:
    # the real message is "Invalid key: <key>"; the reason and fix are appended for humans
    shown = key if len(key) <= 200 else key[:200] + "…"
    return StorageProblem(400, "InvalidKey", f"Invalid key: {shown!r} ({why})")


def invalid_bucket_name(name: str) -> StorageProblem:
    return StorageProblem(400, "Invalid Input", "Bucket name invalid")


def bucket_not_empty() -> StorageProblem:
    return StorageProblem(409, "ResourceNotEmpty", "The bucket you tried to delete is not empty")


def invalid_request(message: str) -> StorageProblem:
    return StorageProblem(400, "InvalidRequest", message)


def invalid_jwt(message: str) -> StorageProblem:
    return StorageProblem(400, "InvalidJWT", message)


def invalid_signature() -> StorageProblem:
    return StorageProblem(400, "InvalidSignature", "Invalid signature")


def invalid_range() -> StorageProblem:
    return StorageProblem(400, "invalid_range", "invalid range provided")


def from_database(exc: psycopg.Error) -> StorageProblem | None:
    """The storage problem a database error means, or None for a real 500."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if exc.sqlstate is None and not isinstance(exc, psycopg.OperationalError):
        return invalid_request(message)  # refused by psycopg before sending (a NUL byte)
    if message.startswith("permission denied to set role") or (
            exc.sqlstate == "22023" and message.startswith("role") and message.endswith("does not exist")):
        return access_denied(message)  # the JWT's role: not one the login role may become
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return access_denied()
    if isinstance(exc, pg_errors.UniqueViolation):
        return duplicate()
    if isinstance(exc, pg_errors.ForeignKeyViolation):
        return no_such_bucket()
    if isinstance(exc, (pg_errors.InvalidTextRepresentation, pg_errors.NumericValueOutOfRange,
                        pg_errors.StringDataRightTruncation, pg_errors.CharacterNotInRepertoire,
                        pg_errors.UntranslatableCharacter)):
        return invalid_request(message)
    return None


async def problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StorageProblem)
    return exc.response()


async def database_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, psycopg.Error)
    problem = from_database(exc)
    if problem is None:  # a real server error: logged, answered in the real 500 format
        log.error("storage database error on %s %s: %s", request.method, request.url.path, exc)
        return storage_error(500, "DatabaseError", "Internal server error")
    return problem.response()
