"""What the API leaves in the audit trail: one entry per write, one per refused caller.

Writes are recorded by ``idempotency.write``, through which every write route goes, so a
route cannot forget. Its action and object are named from the matched route:

    POST  /v1/sites                  sites.create        sites/<new id>
    PATCH /v1/sites/{id}             sites.update        sites/<id>
    POST  /v1/sites/{id}/archive     sites.archive       sites/<id>
    POST  /v1/api-keys/{id}/revoke   api_keys.revoke     api-keys/<id>

A 401 or 403 answer records ``auth.unauthenticated`` or ``auth.denied`` in a transaction of
its own (the refused request's own transaction, if any, rolled back); a refused device on
``POST /v1/telemetry`` too (its readings are data, not writes of the model, and are not audited).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from supplyline import access, audit
from supplyline.api.middleware import route_template
from supplyline.api.problems import domain_problem
from supplyline.bootstrap import Services
from supplyline.kernel.errors import DomainError, Forbidden, Unauthorized
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork

VERBS = {"POST": "create", "PATCH": "update", "PUT": "replace", "DELETE": "delete"}
# The public part of an API key (sl_<prefix>_<secret>, see supplyline.access): enough to tell
# which key was tried, nothing that would let anyone use it.
_KEY_PREFIX = re.compile(r"sl_([a-z0-9]{12})_")


def _parts(template: str) -> list[str]:
    return [p for p in template.removeprefix("/v1").split("/") if p]


def _is_param(part: str) -> bool:
    return part.startswith("{")


def action_name(template: str, method: str) -> str:
    """``/v1/alarms/{alarm_id}/acknowledge`` -> ``alarms.acknowledge``; a collection or an
    item takes the method's verb (``sites.create``, ``sites.update``)."""
    parts = _parts(template)
    names = [p.replace("-", "_") for p in parts if not _is_param(p)]
    ends_in_operation = len(parts) > 1 and not _is_param(parts[-1]) and any(map(_is_param, parts))
    if not ends_in_operation:
        names.append(VERBS.get(method, method.lower()))
    return ".".join(names)


def object_name(template: str, params: Mapping[str, Any], body: Mapping[str, Any] | None) -> str:
    """The path up to the route's first parameter (``alarms/<id>``); for a collection, the new
    record's id when the answer has one (``sites/<id>``)."""
    parts = _parts(template)
    head: list[str] = []
    for part in parts:
        if _is_param(part):
            return "/".join([*head, _canonical(params.get(part[1:-1].split(":")[0], ""))])
        head.append(part)
    created = body.get("id") if body else None
    return "/".join([*head, str(created)]) if isinstance(created, str) else "/".join(head)


def _canonical(value: Any) -> str:
    """UUIDs as the lower-case hyphenated form subjects use, whatever case the URL had."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def record_write(
    uow: UnitOfWork,
    request: Request,
    scope: Scope,
    after: dict[str, Any],
    *,
    action: str | None = None,
    object_: str | None = None,
) -> None:
    """Stage the entry of the write ``request`` made, in its unit of work; ``before`` is what
    the use case left in ``uow.previous`` for the object."""
    template = route_template(request.scope)
    obj = object_ or object_name(template, request.path_params, after)
    audit.record(
        uow,
        scope,
        action or action_name(template, request.method),
        obj,
        before=uow.previous.get(obj),
        after=after,
    )


def _offered_prefix(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else request.headers.get("x-api-key", "")
    match = _KEY_PREFIX.match(token or "")
    return match[1] if match else None


async def record_refusal(request: Request, exc: DomainError) -> None:
    """Record a 401 or 403. A refused key that exists (revoked, expired, a wrong secret) files
    the entry in its tenant, under its name; an unknown caller's entry has no tenant."""
    svc: Services = request.app.state.services
    template = route_template(request.scope)
    obj = object_name(template, request.path_params, None) if template != "unmatched" else request.url.path
    scope: Scope | None = getattr(request.state, "scope", None)
    prefix = _offered_prefix(request)
    if scope is None and prefix is not None:
        # The key as it would act, had it been accepted: its entry names it like its writes.
        async with svc.read_engine.connect() as conn:
            scope = await access.refused_key_scope(conn, prefix)
    action = "auth.unauthenticated" if exc.status == 401 else "auth.denied"
    await audit.record_security(
        svc.uow, scope, action, obj, outcome="denied", reason=exc.detail, key_prefix=prefix
    )


def install(app: FastAPI) -> None:
    """Answer 401 and 403 as every domain error is answered, once the refusal is recorded."""

    async def on_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not getattr(exc, "recorded", False):  # a refused login records itself, with its tenant
            await record_refusal(request, exc)
        return domain_problem(exc, request.url.path)

    app.add_exception_handler(Unauthorized, on_refused)
    app.add_exception_handler(Forbidden, on_refused)
