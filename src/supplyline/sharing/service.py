"""Subscribing, listing and ending webhook subscriptions; their secrets, deliveries and replays."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import integrations
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, PrincipalKind, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.sharing.tables import sharing_webhook

W = sharing_webhook
SEALED = ("secret_enc", "previous_secret_enc")


class SecretBox(Protocol):
    """Encrypts secrets at rest with the server key (telemetry's box of device secrets)."""

    def seal(self, secret: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


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


def _check_url(url: str) -> None:
    try:
        parsed = urlparse(url)
    except ValueError:  # "http://[": an IPv6 host without its closing bracket
        raise Invalid("url", "an http(s) URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise Invalid("url", "an http(s) URL")


async def vet_url(url: str, targets: integrations.TargetPolicy) -> None:
    """Refuse a URL that is not http(s), or whose host is (or resolves to) an address the SSRF
    guard refuses. It may look the name up: call it before the write transaction."""
    _check_url(url)
    await integrations.check_url(url, targets)


def _view(row: Any) -> dict[str, Any]:
    """A subscription as shown: whether it signs, never its secrets."""
    out = {k: v for k, v in dict(row).items() if k not in SEALED}
    out["signed"] = row["secret_enc"] is not None
    return jsonable(out)


async def subscribe(
    uow: UnitOfWork, scope: Scope, cmd: Subscribe, known_types: set[str], box: SecretBox
) -> dict[str, Any]:
    """The new subscription with its signing secret: the one time the secret is shown."""
    scope.require("webhooks", Action.WRITE)
    tenant = scope.require_tenant()
    _check_url(cmd.url)
    for i, t in enumerate(cmd.event_types):
        if t not in known_types:
            raise Invalid(f"event_types[{i}]", f"no event type '{t}' (GET /v1/event-types)")
    secret = integrations.new_secret()
    row = {
        "id": new_id(),
        "tenant_id": tenant,
        **_owner(scope),
        "url": cmd.url,
        "event_types": sorted(set(cmd.event_types)),
        "created_at": utcnow(),
        "created_by": scope.actor,
        "archived_at": None,
        "secret_enc": box.seal(secret.encode()),
        "previous_secret_enc": None,
        "previous_secret_until": None,
    }
    await uow.conn.execute(W.insert().values(**row))
    return {**_view(row), "secret": secret}


def _mine(scope: Scope) -> Any:
    """Staff reaching the whole tenant see every subscription; anyone else their own."""
    cond = W.c.tenant_id == scope.require_tenant()
    if scope.reaches("webhooks") is None:
        return cond
    owner = _owner(scope)
    mine = W.c.user_id == owner["user_id"] if owner["user_id"] else W.c.api_key_id == owner["api_key_id"]
    return cond & mine


async def _one(conn: AsyncConnection, scope: Scope, sub_id: uuid.UUID) -> dict[str, Any]:
    row = (await conn.execute(select(W).where(_mine(scope), W.c.id == sub_id))).mappings().first()
    if row is None:
        raise NotFound(f"no webhook subscription {sub_id}")
    return dict(row)


async def list_subscriptions(conn: AsyncConnection, scope: Scope) -> list[dict[str, Any]]:
    scope.require("webhooks")
    stmt = select(W).where(_mine(scope), W.c.archived_at.is_(None)).order_by(W.c.created_at, W.c.id)
    return [_view(r) for r in (await conn.execute(stmt)).mappings()]


async def archive_subscription(uow: UnitOfWork, scope: Scope, sub_id: uuid.UUID) -> dict[str, Any]:
    scope.require("webhooks", Action.WRITE)
    row = await _one(uow.conn, scope, sub_id)
    now = row["archived_at"] or utcnow()
    await uow.conn.execute(update(W).where(W.c.id == sub_id).values(archived_at=now))
    return _view({**row, "archived_at": now})


async def rotate_secret(
    uow: UnitOfWork, scope: Scope, sub_id: uuid.UUID, box: SecretBox, now: datetime, overlap: timedelta
) -> dict[str, Any]:
    """A new secret, shown once; the one it replaces keeps signing beside it for ``overlap``
    (receivers move over without a gap). A secret replaced earlier stops at once."""
    scope.require("webhooks", Action.WRITE)
    row = await _one(uow.conn, scope, sub_id)
    if row["archived_at"] is not None:
        raise Invalid("subscription_id", "the subscription is archived")
    secret = integrations.new_secret()
    values = {
        "secret_enc": box.seal(secret.encode()),
        "previous_secret_enc": row["secret_enc"],
        "previous_secret_until": now + overlap if row["secret_enc"] is not None else None,
    }
    await uow.conn.execute(update(W).where(W.c.id == sub_id).values(**values))
    return {**_view({**row, **values}), "secret": secret}


TARGET_PREFIX = "webhook:"


def target_of(sub_id: uuid.UUID) -> str:
    """The outbox target of a subscription's deliveries."""
    return f"{TARGET_PREFIX}{sub_id}"


async def list_deliveries(
    conn: AsyncConnection,
    scope: Scope,
    sub_id: uuid.UUID,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    """A subscription's deliveries, newest first (``status='dead'``: its dead letters)."""
    scope.require("webhooks")
    sub = await _one(conn, scope, sub_id)
    return await integrations.deliveries_of(conn, sub["tenant_id"], target_of(sub_id), status, cursor, limit)


async def retry_delivery(
    uow: UnitOfWork, scope: Scope, sub_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    scope.require("webhooks", Action.WRITE)
    sub = await _one(uow.conn, scope, sub_id)
    return await integrations.redeliver(uow.conn, sub["tenant_id"], target_of(sub_id), delivery_id, now)


@dataclass(frozen=True)
class Replay:
    from_position: int
    to_position: int
    replay_id: str | None = None


MAX_REPLAY_SPAN = 100_000


class Replayer(Protocol):
    async def replay(
        self, conn: AsyncConnection, sub: dict[str, Any], from_position: int, to_position: int, replay_id: str
    ) -> None: ...


async def replay(
    uow: UnitOfWork, scope: Scope, sub_id: uuid.UUID, cmd: Replay, fanout: Replayer
) -> dict[str, Any]:
    """Queue again, as new deliveries flagged with the replay's id, the events between the two
    positions (both included) that the owner's grants reach now, redacted as the fan-out does.
    The same replay id twice queues each event once."""
    scope.require("webhooks", Action.WRITE)
    if cmd.to_position < cmd.from_position:
        raise Invalid("to_position", "at least from_position")
    if cmd.to_position - cmd.from_position >= MAX_REPLAY_SPAN:
        raise Invalid("to_position", f"at most {MAX_REPLAY_SPAN} positions after from_position")
    sub = await _one(uow.conn, scope, sub_id)
    if sub["archived_at"] is not None:
        raise Invalid("subscription_id", "the subscription is archived")
    replay_id = cmd.replay_id or str(new_id())
    await fanout.replay(uow.conn, sub, cmd.from_position, cmd.to_position, replay_id)
    queued = await integrations.replayed(uow.conn, sub["tenant_id"], target_of(sub_id), replay_id)
    return {
        "subscription_id": str(sub_id),
        "replay_id": replay_id,
        "from_position": cmd.from_position,
        "to_position": cmd.to_position,
        "queued": queued,
    }
