"""Every API write runs here: Idempotency-Key (POST and PATCH), and the write's audit entry.

A retry gets the first answer, a different body is refused. The record is written in the same
transaction as the change, so a crash can never leave a change without its record (which would
let a retry apply it twice). Records expire after SUPPLYLINE_IDEMPOTENCY_TTL_HOURS. Secrets (API
key tokens) are never stored: a replay of a key-issuing request answers with the key and
``token: null``.

The audit entry (``api.trail``) commits in the same transaction too: a write leaves exactly one,
and a replay, which changes nothing, leaves none. Device ingestion (``POST /v1/telemetry``) does
not come here: readings are data, not changes to the model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi import Depends, Header, Request
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from supplyline import access
from supplyline.api import trail
from supplyline.api.deps import JSON
from supplyline.api.middleware import correlation_id
from supplyline.bootstrap import Services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, Invalid
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork

Action = Callable[[UnitOfWork], Awaitable[dict[str, Any]]]


async def idempotency_key(
    request: Request,
    key: str | None = Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Any unique string: a retry with the same key and body returns the first answer",
    ),
) -> str | None:
    """The route's Idempotency-Key, checked and documented like any other parameter; ``write``
    refuses to run for a route that does not declare it (the OpenAPI would not say it)."""
    request.state.idempotency_key = key
    return key


IDEMPOTENT = Depends(idempotency_key)
_UNDECLARED = object()


class KeyReused(Invalid):
    def __init__(self) -> None:
        super().__init__("Idempotency-Key", "already used with a different request; use a new key")


async def write(
    request: Request,
    svc: Services,
    scope: Scope,
    action: Action,
    *,
    status_code: int = 201,
    headers: Callable[[dict[str, Any]], dict[str, str]] | None = None,
    redact: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    audit_action: str | None = None,
    audit_object: Callable[[dict[str, Any]], str] | None = None,
) -> Response:
    """Run ``action`` once per (caller, Idempotency-Key); ``redact`` strips what must not be kept.

    ``audit_action`` and ``audit_object`` name the audit entry where the route's path does not
    (see ``api.trail``): ``alarms.comment`` rather than ``alarms.comments``."""
    key = getattr(request.state, "idempotency_key", _UNDECLARED)
    if key is _UNDECLARED:
        raise RuntimeError(f"{request.method} {request.url.path}: the route does not declare IDEMPOTENT")
    assert key is None or isinstance(key, str)
    principal = str(scope.principal_id) if scope.principal_id else scope.principal_name
    fingerprint = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + await request.body()
    ).hexdigest()
    claimed = False
    try:
        async with svc.uow(correlation_id.get()) as uow:
            if key is not None:
                expired = utcnow() - timedelta(hours=svc.settings.idempotency_ttl_hours)
                found = await access.recorded_answer(uow.conn, principal, key, not_before=expired)
                if found is not None:
                    return _replay(found, fingerprint)
                # Claim the key before acting: a concurrent retry now waits on this row and then
                # replays, instead of running the action too and meeting its natural keys (409).
                await access.claim_key(uow.conn, principal, key, fingerprint)
                claimed = True
            body = await action(uow)
            extra = headers(body) if headers else {}
            kept = redact(body) if redact else body
            trail.record_write(
                uow,
                request,
                scope,
                kept,
                action=audit_action,
                object_=audit_object(body) if audit_object else None,
            )
            if key is not None:
                await access.settle_key(uow.conn, principal, key, status_code, kept, extra)
            await uow.commit()
    except IntegrityError:
        if key is None or claimed:
            raise
        # Another request with the same key committed first: answer as it did.
        async with svc.read_engine.connect() as conn:
            found = await access.recorded_answer(conn, principal, key)
        if found is None:
            raise Conflict("a concurrent request with this Idempotency-Key failed") from None
        return _replay(found, fingerprint)
    return JSON(body, status_code=status_code, headers=extra)


def _replay(found: access.IdempotentAnswer, fingerprint: str) -> Response:
    if found.fingerprint != fingerprint:
        raise KeyReused()
    headers = {**(found.headers or {}), "Idempotent-Replayed": "true"}
    return JSON(found.body, status_code=found.status_code, headers=headers)
