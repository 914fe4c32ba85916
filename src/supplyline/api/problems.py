"""RFC 9457 problem+json for every error, mapped here and nowhere else."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from supplyline.kernel.errors import BadParameter, DomainError, FieldError, QuotaExceeded

log = logging.getLogger(__name__)

PROBLEM_TYPE = "urn:supplyline:problem:"
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    429: "too-many-requests",
    500: "internal-error",
}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
    type_: str | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": type_ or PROBLEM_TYPE + _SLUGS.get(status, "error"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if extensions:
        body.update(extensions)
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def _loc_to_field(err: dict[str, Any]) -> str:
    if err.get("type") == "json_invalid":
        return "body"  # the location is a character offset, not a field
    parts = [str(p) for p in err["loc"]]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _reason(err: dict[str, Any]) -> str:
    if err.get("type") == "json_invalid":
        at = f" at character {err['loc'][-1]}" if isinstance(err["loc"][-1], int) else ""
        return f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')}{at})"
    if err.get("type") == "extra_forbidden":
        return "unknown field"
    return str(err.get("msg", "invalid"))


@functools.lru_cache(maxsize=512)
def _template_regex(template: str) -> re.Pattern[str]:
    """``/v1/sites/{id}`` -> a pattern that matches the concrete paths of that template."""
    literals = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in literals))


def _allowed_methods(request: Request) -> list[str]:
    """Every method the path answers to (the router only names those of the first route it tried)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if _template_regex(template).fullmatch(request.url.path):
            methods.update(m.upper() for m in operations)
    return sorted(methods)


def domain_problem(exc: DomainError, path: str) -> Response:
    """The problem+json answer to a domain error raised while serving ``path``."""
    # RFC 9110: a 401 names the scheme the client should authenticate with.
    headers = {"WWW-Authenticate": 'Bearer realm="supplyline"'} if exc.status == 401 else None
    extensions = exc.extensions
    if isinstance(exc, QuotaExceeded):
        # RFC 9457 extension members, so a client need not parse the detail.
        headers = {"Retry-After": str(exc.retry_after)}
        extensions = {"quota": exc.quota, "limit": exc.limit, "retry_after": exc.retry_after}
    # A standard's own error type (EPCIS's QueryParameterException), which its clients look for.
    type_ = exc.problem_type if isinstance(exc, BadParameter) else None
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        instance=path,
        errors=exc.errors,
        headers=headers,
        extensions=extensions,
        type_=type_,
    )


def unexpected_problem(method: str, path: str) -> Response:
    log.exception("unhandled error on %s %s", method, path)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged", instance=path)


def install(app: FastAPI) -> None:
    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return domain_problem(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [FieldError(_loc_to_field(e), _reason(e)) for e in exc.errors()]
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
        return problem(422, "Invalid input", detail, instance=request.url.path, errors=errors)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        detail, headers = str(exc.detail), dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
                detail = f"{request.method} is not allowed on {request.url.path}; use {headers['Allow']}"
        return problem(exc.status_code, title, detail, instance=request.url.path, headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return unexpected_problem(request.method, request.url.path)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
