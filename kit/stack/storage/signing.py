"""Signed URLs: an expiring HS256 JWT ``{"url": "<bucket>/<key>", "iat", "exp"}`` signed with
the stack's secret, as the real service makes them.

    POST /object/sign/{bucket}/{key}  {"expiresIn": 60}        → {"signedURL": "/object/sign/…?token=…"}
    POST /object/sign/{bucket}        {"expiresIn": 60, "paths": [...]}
    GET  /object/sign/{bucket}/{key}?token=…                    → the bytes, no apikey needed

A token has no ``role``, so it never works as an API key, and an API key has no ``url``,
so it never works as a signed URL.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from urllib.parse import quote

import jwt
from starlette.requests import Request
from starlette.responses import Response

from kit.stack.apikey import auth_of
from kit.stack.keys import Keys
from kit.stack.storage import catalog, delivery, names, problems
from kit.stack.storage.wire import SUPERUSER, field, json_body, json_response, services, target

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
    expires_in = _expires_in(await json_body(request))
    async with ctx.db.transaction(auth_of(request)) as conn:
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    return json_response({"signedURL": signed_path(ctx.keys, bucket_id, key, expires_in)})


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


async def get_signed(request: Request) -> Response:
    """GET/HEAD ``/object/sign/{bucket}/{key}?token=…``: verified, then served as superuser."""
    ctx, store = services(request)
    bucket_id = request.path_params["bucket"]
    key = request.path_params["key"]
    token = request.query_params.get("token")
    if not token:
        raise problems.StorageProblem(400, "Bad Request",
                                      "querystring must have required property 'token'")
    try:
        claims = jwt.decode(token, ctx.keys.jwt_secret, algorithms=["HS256"],
                            options={"require": ["url", "exp"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise problems.invalid_jwt("jwt expired") from None
    except jwt.InvalidSignatureError:
        raise problems.invalid_jwt("invalid signature") from None
    except jwt.InvalidTokenError as exc:
        raise problems.invalid_jwt(f"jwt malformed ({type(exc).__name__})") from None
    if claims.get("url") != f"{bucket_id}/{key}":
        raise problems.invalid_signature()
    names.check_key(key)
    async with ctx.db.transaction(SUPERUSER) as conn:
        row = await catalog.get_object(conn, bucket_id, key)
    if row is None:
        raise problems.no_such_key()
    return delivery.respond(request, store, row, expires=formatdate(claims["exp"], usegmt=True))
