"""Writing audit entries: staged in the caller's unit of work, or in a short one of their own.

A write's entry is published in the write's own transaction, so the change and its entry
commit together or not at all. A refusal or a read changes nothing to commit with, so its
entry gets a transaction of its own (``record_security``).
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from supplyline.audit.events import AUDIT_RECORDED, AuditRecorded, Outcome
from supplyline.kernel.events import NewEvent
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork, UnitOfWorkFactory

SOURCE = "/supplyline/audit"
ANONYMOUS = "anonymous"
# Keys whose values are secrets wherever they appear in a before/after document: issued API key
# tokens, device credential secrets. Routes redact them already; this is the second lock.
SECRET_KEYS = frozenset({"token", "secret", "secret_hash", "password"})


@dataclass(frozen=True)
class Origin:
    """The request an entry comes from; set once per request by the API's middleware."""

    request_id: str
    correlation_id: str
    method: str
    path: str


# The request being served, if any: entries made deep inside a use case still name it.
current_origin: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("audit_origin", default=None)


def without_secrets(value: Any) -> Any:
    """``value`` as plain JSON, with every key named in SECRET_KEYS left out, at any depth."""
    if value is None:
        return None
    plain = orjson.loads(orjson.dumps(value))  # UUIDs, datetimes -> their JSON strings
    return _drop_secrets(plain)


def _drop_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_secrets(v) for k, v in value.items() if k not in SECRET_KEYS}
    if isinstance(value, list):
        return [_drop_secrets(v) for v in value]
    return value


def _tenant_of(scope: Scope | None, object_: str) -> uuid.UUID | None:
    """The scope's tenant; for a platform admin acting on a tenant, that tenant, so that the
    entry joins the tenant's trail (and its hash chain: entries without a tenant are in none)."""
    if scope is not None and scope.tenant_id is not None:
        return scope.tenant_id
    kind, _, rest = object_.partition("/")
    if kind == "tenants":
        try:
            return uuid.UUID(rest.split("/", 1)[0])
        except ValueError:
            return None
    return None


def entry(
    scope: Scope | None,
    action: str,
    object_: str,
    *,
    outcome: Outcome = "ok",
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    tenant_id: uuid.UUID | None = None,
    key_prefix: str | None = None,
    origin: Origin | None = None,
) -> NewEvent:
    """The ``audit.recorded`` event of one entry (checked against its schema here, not at commit)."""
    origin = origin or current_origin.get()
    organization = getattr(scope, "organization_id", None)  # arrives with partner scoping
    data = AuditRecorded(
        action=action,
        outcome=outcome,
        principal_id=scope.principal_id if scope is not None else None,
        organization_id=organization,
        before=without_secrets(before),
        after=without_secrets(after),
        reason=reason,
        request_id=origin.request_id if origin else None,
        method=origin.method if origin else None,
        path=origin.path if origin else None,
        key_prefix=key_prefix,
    ).model_dump(mode="json")
    return NewEvent(
        type=AUDIT_RECORDED.type,
        tenant_id=tenant_id or _tenant_of(scope, object_),
        subject=object_[:200],
        source=SOURCE,
        data=data,
        actor=scope.actor if scope is not None else ANONYMOUS,
        correlation_id=origin.correlation_id if origin else None,
    )


def record(
    uow: UnitOfWork,
    scope: Scope | None,
    action: str,
    object_: str,
    *,
    outcome: Outcome = "ok",
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> None:
    """Stage one entry in ``uow``: it commits with the unit's other changes, or not at all."""
    uow.publish(entry(scope, action, object_, outcome=outcome, before=before, after=after, reason=reason))


async def record_security(
    uows: UnitOfWorkFactory,
    scope: Scope | None,
    action: str,
    object_: str,
    *,
    outcome: Outcome,
    reason: str | None = None,
    after: Any = None,
    tenant_id: uuid.UUID | None = None,
    key_prefix: str | None = None,
) -> None:
    """Record a security-relevant read or refusal in a transaction of its own, committed now.

    ``scope`` is None for a caller nobody knows; pass ``tenant_id`` when the tenant is known
    otherwise (a revoked key's), and ``key_prefix`` for the key tried (never the secret).
    """
    event = entry(
        scope,
        action,
        object_,
        outcome=outcome,
        reason=reason,
        after=after,
        tenant_id=tenant_id,
        key_prefix=key_prefix,
    )
    async with uows(event.correlation_id) as uow:
        uow.publish(event)
        await uow.commit()
