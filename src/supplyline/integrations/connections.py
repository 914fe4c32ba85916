"""Connections: a tenant's enabled integrations, and the consumer that feeds them events.

Enabling one validates its config with the plug-in's own model (errors name ``config.<field>``),
tries the live endpoint (a connection that cannot reach its endpoint is not saved), and keeps
the secret fields (SecretStr in the model) encrypted with the server key, apart from the rest;
no answer ever shows them. Messages go through the outbox under the target
``connection:<id>``: a paused connection's messages wait there (status ``paused``) and flow
again, in order, on resume; nothing is dropped while it is paused or its endpoint is down.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import newest_first, page
from supplyline.integrations.outbox import enqueue
from supplyline.integrations.plugins import EndpointDown, Integration, Registry
from supplyline.integrations.tables import integrations_connection, integrations_delivery
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, FieldError, Invalid, NotFound
from supplyline.kernel.events import StoredEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork

C = integrations_connection
D = integrations_delivery
MASK = "********"
PAGES = newest_first(C, "connections")


class Sealer(Protocol):
    """Encrypts secrets at rest with the server key (the telemetry SecretBox is one)."""

    def seal(self, secret: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


def target(connection_id: uuid.UUID | str) -> str:
    """The outbox target of a connection's messages."""
    return f"connection:{connection_id}"


@dataclass(frozen=True)
class Enable:
    integration: str
    name: str
    config: Mapping[str, Any]


def _errors(exc: ValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        out.append(FieldError(f"config.{path}" if path else "config", err["msg"]))
    return out


def _plugin(registry: Registry, slug: str, field: str = "integration") -> Integration:
    plugin = registry.get(slug)
    if plugin is None:
        known = ", ".join(p.manifest.slug for p in registry.all()) or "none"
        raise Invalid(field, f"no integration '{slug}' is installed (installed: {known})")
    return plugin


def _split(plugin: Integration, config: BaseModel) -> tuple[dict[str, Any], dict[str, str]]:
    """The config as JSON, without its secrets, and the secrets apart."""
    secret = set(plugin.manifest.secret_fields())
    plain = config.model_dump(mode="json", exclude=secret)
    secrets = {}
    for name in secret:
        value = getattr(config, name)
        if isinstance(value, SecretStr):
            secrets[name] = value.get_secret_value()
    return plain, secrets


def _config(plugin: Integration, row: Mapping[str, Any], sealer: Sealer) -> BaseModel:
    """The connection's config as its model, secrets included (for the plug-in only)."""
    secrets = orjson.loads(sealer.open(row["secrets_enc"])) if row["secrets_enc"] else {}
    return plugin.manifest.config.model_validate({**row["config"], **secrets})


async def check(plugin: Integration, config: BaseModel) -> str | None:
    """None when the live endpoint answers; else why not."""
    try:
        await plugin.check(config)
    except EndpointDown as exc:
        return str(exc) or type(exc).__name__
    except Exception as exc:  # a plug-in's own failure is the endpoint check failing, said plainly
        return f"{type(exc).__name__}: {exc}"
    return None


async def enable(
    uow: UnitOfWork, scope: Scope, registry: Registry, sealer: Sealer, cmd: Enable
) -> dict[str, Any]:
    """Validate, try the endpoint, then store the connection (active)."""
    tenant = scope.require_tenant()
    plugin = _plugin(registry, cmd.integration)
    try:
        config = plugin.manifest.config.model_validate(dict(cmd.config))
    except ValidationError as exc:
        raise Invalid.many(_errors(exc)) from None
    failed = await check(plugin, config)
    if failed is not None:
        raise Invalid("config", f"the endpoint check failed, nothing was saved: {failed}")
    plain, secrets = _split(plugin, config)
    now = utcnow()
    row = {
        "id": new_id(),
        "tenant_id": tenant,
        "integration": plugin.manifest.slug,
        "name": cmd.name,
        "config": plain,
        "secrets_enc": sealer.seal(orjson.dumps(secrets)) if secrets else None,
        "status": "active",
        "created_by": scope.actor,
        "created_at": now,
        "updated_at": now,
        "checked_at": now,
        "check_error": None,
        "archived_at": None,
    }
    await uow.conn.execute(C.insert().values(**row))
    return (await _with_health(uow.conn, registry, [row]))[0]


async def _row(conn: AsyncConnection, scope: Scope, connection_id: uuid.UUID) -> dict[str, Any]:
    stmt = select(C).where(C.c.tenant_id == scope.require_tenant(), C.c.id == connection_id)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"no connection {connection_id} in this tenant")
    return dict(row)


async def get(
    conn: AsyncConnection, scope: Scope, registry: Registry, connection_id: uuid.UUID
) -> dict[str, Any]:
    return (await _with_health(conn, registry, [await _row(conn, scope, connection_id)]))[0]


async def list_connections(
    conn: AsyncConnection,
    scope: Scope,
    registry: Registry,
    *,
    archived: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    stmt = select(C).where(C.c.tenant_id == scope.require_tenant())
    stmt = stmt.where(C.c.archived_at.is_not(None) if archived else C.c.archived_at.is_(None))
    found = await page(conn, stmt, PAGES, cursor, limit)
    return Page(await _with_health(conn, registry, [dict(r) for r in found.items]), found.next_cursor)


async def set_status(
    uow: UnitOfWork, scope: Scope, registry: Registry, connection_id: uuid.UUID, status: str
) -> dict[str, Any]:
    """Pause (messages wait in the outbox) or resume (they flow again, oldest first)."""
    row = await _row(uow.conn, scope, connection_id)
    if row["archived_at"] is not None:
        raise Conflict(f"connection {connection_id} is archived")
    now = utcnow()
    await uow.conn.execute(update(C).where(C.c.id == row["id"]).values(status=status, updated_at=now))
    was, becomes = ("pending", "paused") if status == "paused" else ("paused", "pending")
    held = D.c.tenant_id == row["tenant_id"], D.c.target == target(row["id"]), D.c.status == was
    await uow.conn.execute(update(D).where(*held).values(status=becomes))
    return await get(uow.conn, scope, registry, connection_id)


async def archive(
    uow: UnitOfWork, scope: Scope, registry: Registry, connection_id: uuid.UUID
) -> dict[str, Any]:
    """End a connection: no new messages; those still waiting stay visible, paused."""
    row = await _row(uow.conn, scope, connection_id)
    if row["archived_at"] is None:
        now = utcnow()
        await uow.conn.execute(update(C).where(C.c.id == row["id"]).values(archived_at=now, updated_at=now))
        held = D.c.tenant_id == row["tenant_id"], D.c.target == target(row["id"]), D.c.status == "pending"
        await uow.conn.execute(update(D).where(*held).values(status="paused"))
    return await get(uow.conn, scope, registry, connection_id)


async def test(
    uow: UnitOfWork, scope: Scope, registry: Registry, sealer: Sealer, connection_id: uuid.UUID
) -> dict[str, Any]:
    """Try the live endpoint again with the stored config; the outcome is kept."""
    row = await _row(uow.conn, scope, connection_id)
    plugin = _plugin(registry, row["integration"], "id")
    failed = await check(plugin, _config(plugin, row, sealer))
    now = utcnow()
    await uow.conn.execute(update(C).where(C.c.id == row["id"]).values(checked_at=now, check_error=failed))
    return {"ok": failed is None, "error": failed, "checked_at": now.isoformat()}


async def _with_health(
    conn: AsyncConnection, registry: Registry, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each connection as shown, with its health read from its deliveries in the outbox."""
    if not rows:
        return []
    targets = [target(r["id"]) for r in rows]
    tenant = rows[0]["tenant_id"]
    waiting = D.c.status != "delivered"
    agg = (
        select(
            D.c.target,
            func.max(D.c.delivered_at).label("last_success_at"),
            func.sum(D.c.attempts).filter(waiting).label("failed_attempts"),
            func.count().filter(waiting).label("waiting"),
            func.min(D.c.created_at).filter(waiting).label("oldest_waiting_at"),
            func.count().filter(D.c.status == "delivered").label("delivered"),
        )
        .where(D.c.tenant_id == tenant, D.c.target.in_(targets))
        .group_by(D.c.target)
    )
    health = {r["target"]: dict(r) for r in (await conn.execute(agg)).mappings()}
    last_errors = await _last_errors(conn, tenant, targets)
    now = utcnow()
    out = []
    for r in rows:
        h = health.get(target(r["id"]), {})
        oldest: datetime | None = h.get("oldest_waiting_at")
        plugin = registry.get(r["integration"])
        secret_names = plugin.manifest.secret_fields() if plugin else []
        out.append(
            {
                "id": str(r["id"]),
                "integration": r["integration"],
                "installed": plugin is not None,
                "version": plugin.manifest.version if plugin else None,
                "name": r["name"],
                "config": {**r["config"], **{name: MASK for name in secret_names if r["secrets_enc"]}},
                "status": "archived" if r["archived_at"] else r["status"],
                "created_by": r["created_by"],
                "created_at": r["created_at"].isoformat(),
                "updated_at": r["updated_at"].isoformat(),
                "health": {
                    "state": _state(r, h, last_errors.get(target(r["id"]))),
                    "checked_at": r["checked_at"].isoformat() if r["checked_at"] else None,
                    "check_error": r["check_error"],
                    "last_success_at": h["last_success_at"].isoformat() if h.get("last_success_at") else None,
                    "delivered": int(h.get("delivered") or 0),
                    "waiting": int(h.get("waiting") or 0),
                    "error_count": int(h.get("failed_attempts") or 0),
                    "last_error": last_errors.get(target(r["id"])),
                    "lag_s": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
                },
            }
        )
    return out


def _state(row: Mapping[str, Any], health: Mapping[str, Any], last_error: str | None) -> str:
    if row["archived_at"] is not None:
        return "archived"
    if row["status"] == "paused":
        return "paused"
    if row["check_error"] or (health.get("waiting") and last_error):
        return "failing"
    return "healthy"


async def _last_errors(conn: AsyncConnection, tenant: uuid.UUID, targets: list[str]) -> dict[str, str]:
    """The newest error of each target's messages still waiting."""
    stmt = (
        select(D.c.target, D.c.last_error)
        .where(D.c.tenant_id == tenant, D.c.target.in_(targets), D.c.status != "delivered")
        .where(D.c.last_error.is_not(None))
        .order_by(D.c.created_at.desc())
    )
    out: dict[str, str] = {}
    for t, error in (await conn.execute(stmt)).all():
        out.setdefault(t, error)
    return out


class ConnectionDispatcher:
    """Event-log consumer: each event an enabled connection's integration consumes becomes its
    message in the outbox, in the consumer's transaction (with its position), so a crash
    neither loses nor doubles one. Archived connections get nothing; paused ones queue paused."""

    name = "integrations.connections"
    batch_size = 200

    def __init__(self, registry: Registry, sealer: Sealer) -> None:
        self.registry = registry
        self.sealer = sealer

    def accepts(self, event_type: str) -> bool:
        return any(p.manifest.wants(event_type) for p in self.registry.all())

    async def wants(self, conn: AsyncConnection, events: list[StoredEvent]) -> bool:
        """Most tenants enable nothing: skip the write transaction for their events."""
        return bool(await self._connections(conn, {e.tenant_id for e in events}))

    async def _connections(
        self, conn: AsyncConnection, tenants: Iterable[uuid.UUID | None]
    ) -> list[dict[str, Any]]:
        ids = [t for t in tenants if t is not None]
        if not ids:
            return []
        stmt = select(C).where(C.c.tenant_id.in_(ids), C.c.archived_at.is_(None)).order_by(C.c.id)
        return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        connections = await self._connections(conn, {e.tenant_id for e in events})
        configs: dict[uuid.UUID, BaseModel] = {}
        for event in events:
            for row in connections:
                plugin = self.registry.get(row["integration"])
                if (
                    row["tenant_id"] != event.tenant_id
                    or plugin is None
                    or not plugin.manifest.wants(event.type)
                ):
                    continue
                if row["id"] not in configs:
                    configs[row["id"]] = _config(plugin, row, self.sealer)
                message = await plugin.render(conn, event, configs[row["id"]])
                if message is None:
                    continue
                await enqueue(conn, event, target(row["id"]), message.url, message.payload)
                if row["status"] == "paused":
                    queued = (
                        D.c.tenant_id == event.tenant_id,
                        D.c.target == target(row["id"]),
                        D.c.event_id == event.id,
                        D.c.status == "pending",
                    )
                    await conn.execute(update(D).where(*queued).values(status="paused"))

    async def reset(self, conn: AsyncConnection) -> None:
        """Nothing to forget: a replay finds the messages it queued (one per event and target)."""


async def headers_for(
    conn: AsyncConnection, registry: Registry, sealer: Sealer, delivery_target: str
) -> dict[str, str]:
    """The headers a connection's endpoint needs on each request (its credentials), read at
    send time so that no secret is copied into the outbox; none for other targets."""
    if not delivery_target.startswith("connection:"):
        return {}
    try:
        connection_id = uuid.UUID(delivery_target.removeprefix("connection:"))
    except ValueError:
        return {}
    row = (await conn.execute(select(C).where(C.c.id == connection_id))).mappings().first()
    plugin = registry.get(row["integration"]) if row else None
    if row is None or plugin is None:
        return {}
    return dict(plugin.headers(_config(plugin, dict(row), sealer)))
