"""The request an SDK error still holds: a failure carries the request that caused it.

    sent_requests(exc)   # [Exchange(POST /rest/v1/orders → 401)] read from exc's traceback

postgrest-py 2.x keeps the ``httpx.Response`` it raised ``APIError`` for in the local ``r`` of
``execute()`` (``_sync``/``_async/request_builder.py``), storage3 keeps it in ``response`` of
``_request()`` and raises from ``httpx.HTTPStatusError`` (whose ``.response`` it is); the
traceback keeps those frames alive, so ``response.request`` is exactly what was sent: method,
URL, headers (the key and bearer token, read only for their claims, never shown) and body.
An exception without its traceback (a logged text, a pickled error) holds none.
"""

from __future__ import annotations

import httpx

from kit.body_store import Body
from kit.capture import Exchange, service_of

__all__ = ["sent_requests"]


def sent_requests(exc: BaseException) -> list[Exchange]:
    """The failed responses (status >= 400) in ``exc``'s traceback and ``.response``, innermost
    first, each as an Exchange of the request that got it (``seq`` 0, no timing)."""
    found: list[httpx.Response] = []
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        found.append(response)
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        found += [v for v in frame.f_locals.values() if isinstance(v, httpx.Response)
                  and v.status_code >= 400 and all(v is not f for f in found)]
    return [_exchange(r) for r in found if _has_request(r)]


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built by hand
    except RuntimeError:
        return False
    return True


def _exchange(response: httpx.Response) -> Exchange:
    request = response.request
    try:
        sent = request.content
    except httpx.RequestNotRead:
        sent = b""
    try:
        received = response.content
    except httpx.ResponseNotRead:
        received = b""
    url = str(request.url)
    return Exchange(method=request.method, url=url, request_headers=tuple(request.headers.multi_items()),
                    request_content=Body(sent), status=response.status_code,
                    response_headers=tuple(response.headers.multi_items()),
                    response_content=Body(received), started_at=0.0, ended_at=0.0, duration_ms=0.0,
                    service=service_of(url))
