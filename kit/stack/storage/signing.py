"""Signed URLs: an expiring HS256 JWT ``{"url": "<bucket>/<key>", "iat", "exp"}`` signed with
the stack's secret, as the real service makes them.

    POST /object/sign/{bucket}/{key}  {"expiresIn": 60}        → {"signedURL": "/object/sign/…?token=…"}
    POST /object/sign/{bucket}        {"expiresIn": 60, "paths": [...]}
    GET  /object/sign/{bucket}/{key}?token=…                    → the bytes, no apikey needed
    POST /object/upload/sign/{bucket}/{key}                     → {"url": "/object/upload/sign/…?token=…"}
    PUT  /object/upload/sign/{bucket}/{key}?token=…             → uploads as the token's owner

A token has no ``role``, so it never works as an API key, and an API key has no ``url``,
so it never works as a signed URL. Upload tokens also carry ``owner`` and ``upsert``;
download tokens never do, so neither kind opens the other's route.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

import jwt
import psycopg
from starlette.requests import Request
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.keys import Keys
from kit.stack.roles import Auth
from kit.stack.storage import catalog, delivery, names, problems
from kit.stack.storage.objects import store_upload
from kit.stack.storage.wire import (
    SERVICE_ROLE,
    field,
    json_body,
    json_response,
    owner_of,
    services,
    target,
)

TRANSFORM_IGNORED = ("transform ignored: image transformation is not enabled on this project, "
                     "the signed URL serves the original bytes")
NOT_VISIBLE = "Either the object does not exist or you do not have access to it"


def sign_token(keys: Keys, bucket_id: str, key: str, expires_in: int, *, now: float | None = None) -> str:
    """The token part of a signed URL."""
    issued = int(time.time() if now is None else now)
    return jwt.encode({"url": f"{bucket_id}/{key}", "iat": issued, "exp": issued + expires_in},
                      keys.jwt_secret, algorithm="HS256")


def signed_path(keys: Keys, bucket_id: str, key: str, expires_in: int) -> str:
    """``/object/sign/<bucket>/<key>?token=…``, relative to /storage/v1 as the service answers."""
    token = sign_token(keys, bucket_id, key, expires_in)
    return f"/object/sign/{quote(bucket_id, safe='')}/{quote(key, safe='/')}?token={token}"


def _expires_in(body: dict[str, object]) -> int:
    value = field(body, "expiresIn", int, required=True)
    if value < 1:
        raise problems.StorageProblem(400, "Bad Request", "body/expiresIn must be >= 1")
    return int(value)


async def create_signed_url(request: Request) -> Response:
    """POST ``/object/sign/{bucket}/{key}``: the caller must be able to read the object."""
    ctx, _ = services(request)
    bucket_id, key = target(request)
    body = await json_body(request)
    expires_in = _expires_in(body)
    transform = field(body, "transform", dict, default=None)
    async with ctx.db.transaction(auth_of(request)) as conn:
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    # Without image transformation Storage drops ``transform`` and signs the plain object
    # (getSignedURL.ts: isImageTransformationEnabled); the kit says so instead of staying silent.
    note = {"x-kit-note": TRANSFORM_IGNORED} if transform else None
    return json_response({"signedURL": signed_path(ctx.keys, bucket_id, key, expires_in)},
                         headers=note)


async def create_signed_urls(request: Request) -> Response:
    """POST ``/object/sign/{bucket}``: one entry per path, ``error`` set for the unreadable."""
    ctx, _ = services(request)
    bucket_id = request.path_params["bucket"]
    body = await json_body(request)
    expires_in = _expires_in(body)
    paths = field(body, "paths", list, required=True)
    if not paths or not all(isinstance(p, str) for p in paths):
        raise problems.StorageProblem(400, "Bad Request", "body/paths must be a non-empty array "
                                                          "of strings")
    async with ctx.db.transaction(auth_of(request)) as conn:
        visible = await catalog.visible_names(conn, bucket_id, [p.replace("\x00", "") for p in paths])
    return json_response([
        {"error": None, "path": p, "signedURL": signed_path(ctx.keys, bucket_id, p, expires_in)}
        if p in visible else {"error": NOT_VISIBLE, "path": p, "signedURL": None}
        for p in paths])


def _verified(request: Request, bucket_id: str, key: str, *, upload: bool = False
              ) -> dict[str, Any]:
    """The claims of the request's ``?token=`` when it is valid for ``bucket_id/key``.

    Upload tokens carry ``upsert`` and download tokens do not, so neither opens the other.
    """
    token = request.query_params.get("token")
    if not token:
        raise problems.StorageProblem(400, "Bad Request",
                                      "querystring must have required property 'token'")
    try:
        claims: dict[str, Any] = jwt.decode(token, services(request)[0].keys.jwt_secret,
                                            algorithms=["HS256"],
                                            options={"require": ["url", "exp"],
                                                     "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise problems.invalid_jwt("jwt expired") from None
    except jwt.InvalidSignatureError:
        raise problems.invalid_jwt("invalid signature") from None
    except jwt.InvalidTokenError as exc:
        raise problems.invalid_jwt(f"jwt malformed ({type(exc).__name__})") from None
    if claims.get("url") != f"{bucket_id}/{key}" or ("upsert" in claims) != upload:
        raise problems.invalid_signature()
    return claims


async def get_signed(request: Request) -> Response:
    """GET/HEAD ``/object/sign/{bucket}/{key}?token=…``: verified, then served as service_role."""
    ctx, store = services(request)
    bucket_id = request.path_params["bucket"]
    key = request.path_params["key"]
    claims = _verified(request, bucket_id, key)
    names.check_key(key)
    async with ctx.db.transaction(SERVICE_ROLE) as conn:
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    return delivery.respond(request, store, row, expires=formatdate(claims["exp"], usegmt=True))


UPLOAD_TOKEN_SECONDS = 2 * 3600  # the real service's signed upload URLs last two hours


async def create_signed_upload_url(request: Request) -> Response:
    """POST ``/object/upload/sign/{bucket}/{key}``: only for a caller allowed to write there."""
    ctx, _ = services(request)
    bucket_id, key = target(request)
    auth = auth_of(request)
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    owner = owner_of(auth)
    async with ctx.db.transaction(auth) as conn:  # the same probe an upload makes (rolled back)
        if await catalog.bucket_limits(conn, bucket_id) is None:
            raise problems.no_such_bucket()
        await catalog.write_object(conn, bucket_id=bucket_id, name=key, version="probe",
                                   owner=owner, metadata={}, user_metadata=None, upsert=upsert)
        raise psycopg.Rollback()
    issued = int(time.time())
    token = jwt.encode({"url": f"{bucket_id}/{key}", "owner": owner[1], "upsert": upsert,
                        "iat": issued, "exp": issued + UPLOAD_TOKEN_SECONDS},
                       ctx.keys.jwt_secret, algorithm="HS256")
    path = f"/object/upload/sign/{quote(bucket_id, safe='')}/{quote(key, safe='/')}"
    return json_response({"url": f"{path}?token={token}"})


async def upload_to_signed_url(request: Request) -> Response:
    """PUT ``/object/upload/sign/{bucket}/{key}?token=…``: the token is the authority."""
    bucket_id, key = target(request)
    claims = _verified(request, bucket_id, key, upload=True)
    owner = owner_of(Auth("authenticated", {"sub": claims.get("owner")}))
    await store_upload(request, bucket_id, key, caller=SERVICE_ROLE, owner=owner,
                       upsert=bool(claims.get("upsert")))
    return json_response({"Key": f"{bucket_id}/{key}"})
