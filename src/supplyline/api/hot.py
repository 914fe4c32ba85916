"""Device ingestion served before FastAPI's router: the one route on the telemetry hot path.

Routing a request through FastAPI (a match against every route of every resource, dependency
solving, request and response objects) costs several times what verifying, parsing and queueing
one reading does. ``POST /v1/telemetry`` is answered here as plain ASGI with the same handler and
the same problem+json errors as the documented FastAPI route, which stays for the OpenAPI
document. The middleware around it (correlation id, metrics, body limit) still applies.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from supplyline.api.problems import domain_problem, unexpected_problem
from supplyline.bootstrap import Services
from supplyline.kernel.errors import DomainError, Unauthorized

PATH = "/v1/telemetry"


async def ingest_body(svc: Services, authorization: str | None, signature: str | None, body: bytes) -> Any:
    """Authenticate the device, verify and store; the answer's JSON body (counts per outcome)."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    if not token:
        raise Unauthorized("send the device token as 'Authorization: Bearer sld_...'")
    identity = await svc.telemetry.credentials.identify(token)
    result = await svc.telemetry.ingest.ingest(identity, body, signature)
    return result.as_dict()


class HotIngest:
    def __init__(self, app: ASGIApp, svc: Services, route: Any) -> None:
        self.app = app
        self.svc = svc
        self.route = route  # the documented route, so metrics label these requests with its path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        authorization = signature = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-signature":
                signature = value.decode("latin-1")
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            answer = await ingest_body(self.svc, authorization, signature, b"".join(chunks))
        except DomainError as exc:
            await domain_problem(exc, PATH)(scope, receive, send)
            return
        except Exception:
            await unexpected_problem("POST", PATH)(scope, receive, send)
            return
        body = orjson.dumps(answer)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})
