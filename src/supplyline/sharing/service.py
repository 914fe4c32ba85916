"""Subscribing, listing and ending webhook subscriptions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.ids import new_id
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, PrincipalKind, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.sharing.tables import sharing_webhook

W = sharing_webhook


@dataclass(frozen=True)
class Subscribe:
    url: str
    event_types: list[str] = field(default_factory=list)


def _owner(scope: Scope) -> dict[str, uuid.UUID | None]:
    if scope.principal_id is None:
        raise Invalid("Authorization", "a subscription belongs to an API key or a user")
    is_user = scope.principal_kind is PrincipalKind.USER
    return {
        "api_key_id": None if is_user else scope.principal_id,
        "user_id": scope.principal_id if is_user else None,
    }


async def subscribe(uow: UnitOfWork, scope: Scope, cmd: Subscribe, known_types: set[str]) -> dict[str, Any]:
    scope.require("webhooks", Action.WRITE)
    tenant = scope.require_tenant()
    try:
        parsed = urlparse(cmd.url)
    except ValueError:  # "http://[": an IPv6 host without its closing bracket
        raise Invalid("url", "an http(s) URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Invalid("url", "an http(s) URL")
    for i, t in enumerate(cmd.event_types):
        if t not in known_types:
            raise Invalid(f"event_types[{i}]", f"no event type '{t}' (GET /v1/event-types)")
    row = {
        "id": new_id(),
        "tenant_id": tenant,
        **_owner(scope),
        "url": cmd.url,
        "event_types": sorted(set(cmd.event_types)),
        "created_at": utcnow(),
        "created_by": scope.actor,
        "archived_at": None,
    }
    await uow.conn.execute(W.insert().values(**row))
    return jsonable(row)


def _mine(scope: Scope) -> Any:
    """Staff reaching the whole tenant see every subscription; anyone else their own."""
    cond = W.c.tenant_id == scope.require_tenant()
    if scope.reaches("webhooks") is None:
        return cond
    owner = _owner(scope)
    mine = W.c.user_id == owner["user_id"] if owner["user_id"] else W.c.api_key_id == owner["api_key_id"]
    return cond & mine


async def list_subscriptions(conn: AsyncConnection, scope: Scope) -> list[dict[str, Any]]:
    scope.require("webhooks")
    stmt = select(W).where(_mine(scope), W.c.archived_at.is_(None)).order_by(W.c.created_at, W.c.id)
    return [jsonable(dict(r)) for r in (await conn.execute(stmt)).mappings()]


async def archive_subscription(uow: UnitOfWork, scope: Scope, sub_id: uuid.UUID) -> dict[str, Any]:
    scope.require("webhooks", Action.WRITE)
    row = (await uow.conn.execute(select(W).where(_mine(scope), W.c.id == sub_id))).mappings().first()
    if row is None:
        raise NotFound(f"no webhook subscription {sub_id}")
    now = row["archived_at"] or utcnow()
    await uow.conn.execute(update(W).where(W.c.id == sub_id).values(archived_at=now))
    return jsonable({**row, "archived_at": now})
