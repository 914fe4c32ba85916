"""Device ingestion served before FastAPI's router: the one route on the telemetry hot path.

Routing a request through FastAPI (a match against every route of every resource, dependency
solving, request and response objects) costs several times what verifying, parsing and queueing
one reading does. ``POST /v1/telemetry`` is answered here as plain ASGI with the same handler and
the same problem+json errors as the documented FastAPI route, which stays for the OpenAPI
document.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from supplyline.api.middleware import HttpMetrics
from supplyline.api.problems import domain_problem, problem, unexpected_problem
from supplyline.bootstrap import Services
from supplyline.kernel.errors import DomainError, Unauthorized
from supplyline.kernel.ids import new_id

PATH = "/v1/telemetry"


async def ingest_body(
    svc: Services, authorization: str | None, signature: str | None, body: bytes, cid: str | None = None
) -> Any:
    """Authenticate the device, verify and store; the answer's JSON body (counts per outcome)."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        raise Unauthorized("send the device token as 'Authorization: Bearer sld_...'")
    identity = await svc.telemetry.credentials.identify(token)
    result = await svc.telemetry.ingest.ingest(identity, body, signature, cid)
    return result.as_dict()


class HotIngest:
    """Outermost, so it does itself what the middleware does for other routes: the body limit,
    the correlation id (taken or made, echoed back) and the request metrics."""

    def __init__(self, app: ASGIApp, svc: Services, metrics: HttpMetrics, limit: int) -> None:
        self.app = app
        self.svc = svc
        self.metrics = metrics
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        authorization = signature = cid = None
        length = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-signature":
                signature = value.decode("latin-1")
            elif name == b"x-correlation-id":
                cid = value.decode("latin-1")[:100]
            elif name == b"content-length" and value.isdigit():
                length = int(value)
        cid = cid or str(new_id())
        response = await self._answer(receive, authorization, signature, length, cid)
        response.headers["x-correlation-id"] = cid
        await response(scope, receive, send)
        self.metrics.observe("POST", PATH, response.status_code, time.perf_counter() - start)

    async def _answer(
        self, receive: Receive, authorization: str | None, signature: str | None, length: int, cid: str
    ) -> Response:
        if length > self.limit:
            return self._too_large()
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return Response(status_code=499)  # the client went away; nobody reads this
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            answer = await ingest_body(self.svc, authorization, signature, b"".join(chunks), cid)
        except DomainError as exc:
            return domain_problem(exc, PATH)
        except Exception:
            return unexpected_problem("POST", PATH)
        return Response(orjson.dumps(answer), media_type="application/json")

    def _too_large(self) -> Response:
        detail = f"the body is larger than the limit of {self.limit} bytes (SUPPLYLINE_MAX_BODY_BYTES)"
        return problem(413, "Payload too large", detail, instance=PATH)
