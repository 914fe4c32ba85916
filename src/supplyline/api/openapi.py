"""The errors of every operation in the OpenAPI document, as the server really answers them.

Every error is RFC 9457 ``application/problem+json`` (``api.problems``), so its schema is
written once, as the ``Problem`` component. Which errors an operation answers follows from
what its route depends on, not from a list kept by hand beside the routes: a caller
(401, 403, 429), path parameters (404), parameters or a body (422), a body (400, 413), an
Idempotency-Key (409), If-Match (412). A route that raises more names it in its own
``responses`` (without content: it is a problem too). FastAPI's default
422 schema (``HTTPValidationError``) is replaced: the server never sends that shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from supplyline.api.deps import current_scope
from supplyline.api.idempotency import idempotency_key
from supplyline.api.pagination import page_query

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Routes are declared inside routers that the app includes later; each carries its statuses to
# the document in this marker, which ``document`` turns into responses.
MARKER = "x-supplyline-errors"
_REF = {"$ref": "#/components/schemas/Problem"}

SCHEMAS: dict[str, Any] = {
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "reason"],
        "properties": {
            "field": {"type": "string", "description": "Dotted path of the value: lines.0.quantity"},
            "reason": {"type": "string", "description": "Why it was refused, for a person"},
        },
    },
    "Problem": {
        "title": "Problem",
        "type": "object",
        "description": "RFC 9457 problem details. 429 answers add quota, limit and retry_after.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": "urn:supplyline:problem:<slug>"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "The path of the request"},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/FieldError"},
                "description": "Each refused value, with the reason",
            },
            "quota": {"type": "string", "description": "429: the quota that refused the request"},
            "limit": {"type": "number", "description": "429: the quota's value"},
            "retry_after": {"type": "integer", "minimum": 1, "description": "429: seconds to wait"},
        },
        "additionalProperties": True,
    },
}

DESCRIPTIONS = {
    400: "The body could not be read (not UTF-8)",
    401: "No credential, or one that is unknown, revoked or expired",
    403: "The credential's grants do not allow this (or a console session's change lacks X-CSRF-Token)",
    404: "Nothing of that id that the caller can see",
    409: "A conflict: a natural key taken, a state that forbids the change",
    412: "If-Match names a version that is no longer current",
    413: "The body is larger than SUPPLYLINE_MAX_BODY_BYTES",
    422: "A refused value, named in errors",
    429: "Over a quota; Retry-After says when to try again",
}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="supplyline"'}},
    429: {"Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds"}},
}


def _dependants(dep: Dependant) -> Iterator[Dependant]:
    yield dep
    for sub in dep.dependencies:
        yield from _dependants(sub)


def errors_of(route: APIRoute) -> set[int]:
    """The statuses the route answers with a problem, from what it depends on."""
    deps = list(_dependants(route.dependant))
    calls = {d.call for d in deps if d.call is not None}
    headers = {(p.alias or p.name).lower() for d in deps for p in d.header_params}
    out: set[int] = set()
    if current_scope in calls:
        out |= {401, 403, 429}
    if any(d.path_params for d in deps):
        out |= {404, 422}
    if any(d.query_params or d.header_params or d.cookie_params for d in deps) or page_query in calls:
        out.add(422)
    if any(d.body_params for d in deps):
        out |= {400, 413, 422}
    if idempotency_key in calls:
        out |= {409, 422}
    if "if-match" in headers:
        out.add(412)
    return out


def _problem_response(existing: dict[str, Any] | None, status: int) -> dict[str, Any]:
    response = dict(existing or {})
    if not response.get("description") or response["description"] == "Validation Error":
        response["description"] = DESCRIPTIONS.get(status, "An error")
    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _REF}}
    if status in HEADERS:
        response["headers"] = {**HEADERS[status], **response.get("headers", {})}
    return response


def mark(route: APIRoute) -> None:
    """Record on the route's operation the errors its dependencies give it."""
    route.openapi_extra = {**(route.openapi_extra or {}), MARKER: sorted(errors_of(route))}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every operation its problem+json answers and the document the Problem schema."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            # A route's own error without content is a problem; one with content (/readyz's
            # 503) is answered as it says.
            declared = {
                int(code)
                for code, response in responses.items()
                if code.isdigit() and int(code) >= 400 and not response.get("content")
            }
            for status in set(operation.pop(MARKER, ())) | declared:
                responses[str(status)] = _problem_response(responses.get(str(status)), status)
            operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components.update(SCHEMAS)
    return schema
