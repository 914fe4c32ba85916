"""Pure ASGI middleware: body size limit, correlation ids, Prometheus metrics, direct routes.

Pure ASGI rather than BaseHTTPMiddleware: it costs a few microseconds per request, not tens.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supplyline.api.problems import problem
from supplyline.audit import Origin, current_origin
from supplyline.kernel.errors import FieldError
from supplyline.kernel.ids import new_id
from supplyline.kernel.json import nul_path

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413, whether or not Content-Length is sent, and
    a NUL character anywhere in the query or a JSON body with 422 naming where it is.

    The body is read (up to the limit) before the app runs: refused from inside the app, the
    framework would turn the failure into a 400 while parsing the body. NUL is refused here,
    once for every route, because PostgreSQL's text and jsonb cannot hold it (a 500 from the
    driver otherwise) and SQLite can (the backends would disagree). Finding the escape costs a
    byte search, about 50 us for a 100 KB telemetry batch; the body is decoded only when found.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
            await _nul_refused(scope, _nul_in_query(query, scope.get("path", "")))(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message  # the client went away: let the app see the disconnect
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        if first["type"] == "http.request" and b"\\u0000" in first["body"]:
            where = _nul_in_body(first["body"])
            if where is not None:
                await _nul_refused(scope, where)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            "Payload too large",
            f"the body is larger than the limit of {self.limit} bytes (SUPPLYLINE_MAX_BODY_BYTES)",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


def _nul_in_query(query: bytes, path: str) -> str:
    if "\x00" in path:
        return "path"
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return "query"


def _nul_in_body(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own parsing answers for it
    return nul_path(document)


def _nul_refused(scope: Scope, where: str) -> Response:
    reason = "contains a NUL character (\\u0000), which no text can hold here"
    return problem(
        422,
        "Invalid input",
        f"{where}: {reason}",
        instance=scope.get("path"),
        errors=[FieldError(where, reason)],
    )


class Correlation:
    """Take X-Correlation-ID from the caller (or make one), expose it, and echo it back; give
    the request an id of its own (X-Request-ID), and tell the audit trail where entries of this
    request come from."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = None
        for name, value in scope["headers"]:
            if name == b"x-correlation-id":
                cid = value.decode("latin-1")[:100]
        cid = cid or str(new_id())
        rid = str(new_id())
        token = correlation_id.set(cid)
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope.get("path", "") + (f"?{query}" if query else "")
        origin = current_origin.set(Origin(rid, cid, scope.get("method", ""), target[:1000]))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-correlation-id", cid.encode()),
                    (b"x-request-id", rid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_origin.reset(origin)
            correlation_id.reset(token)


def route_template(scope: Scope) -> str:
    """The full template of the matched route (``/v1/sites/{id}``), or "unmatched".

    A route included through a router with a prefix knows only its own part (``/sites/{id}``):
    the prefix is the part of the requested path in front of what the route matched. Our
    prefixes hold no parameters, so the label set stays bounded.
    """
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    matched = template
    for name, value in (scope.get("path_params") or {}).items():
        matched = matched.replace("{" + name + "}", str(value))
    path: str = scope.get("path", "")
    if path.endswith(matched):
        return path[: len(path) - len(matched)] + template
    return template


class HttpMetrics:
    """The request counter and latency histogram, with their few label sets kept."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "supplyline_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "supplyline_http_request_seconds", "HTTP request latency", ["method", "route"], registry=registry
        )
        # labels() builds its key on every call; the few label sets we have are kept here.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


class Metrics:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            method = scope.get("method", "")
            self.metrics.observe(method, route_template(scope), status, time.perf_counter() - start)


Endpoint = Callable[[Request], Awaitable[Response]]
# As Starlette keeps them: ours are all async, its own type allows plain functions too.
ErrorHandler = Callable[[Request, Any], Response | Awaitable[Response]]


class DirectRoutes:
    """Serve a few exact (method, path) pairs by calling their route's endpoint, not the router.

    FastAPI matches a path against every route of every included router and solves each
    route's dependencies per request: for ``POST /v1/telemetry`` that is about three times the
    CPU of verifying and queueing the reading itself. Innermost of our middleware, so the
    request has its correlation id, request id, audit origin, metrics and body limit like any
    other; the endpoint is the route's own function, and what it raises is answered by the
    app's own exception handlers (a 401 is recorded on the audit trail by them). What they do
    not handle goes up to the server error middleware, as from the router.
    """

    def __init__(
        self,
        app: ASGIApp,
        routes: Mapping[tuple[str, str], tuple[BaseRoute, Endpoint]],
        handlers: Mapping[Any, ErrorHandler],
    ) -> None:
        self.app = app
        self.routes = routes
        self.handlers = handlers  # the app's dict, read at each error: handlers added later count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        direct = (
            self.routes.get((scope.get("method", ""), scope.get("path", "")))
            if scope["type"] == "http"
            else None
        )
        if direct is None:
            await self.app(scope, receive, send)
            return
        route, endpoint = direct
        # What the router would have left in the scope: route_template and the trail read it.
        scope["route"], scope["endpoint"], scope["path_params"] = route, endpoint, {}
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> ErrorHandler | None:
        """As Starlette's exception middleware picks one; ``Exception`` itself is the server
        error middleware's, outside ours."""
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None
