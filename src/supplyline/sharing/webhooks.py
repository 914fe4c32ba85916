"""The event-log consumer that fans events out to webhook subscriptions, and their secrets.

For each batch: the live subscriptions of the batch's tenants; for each, its owner's Scope as
it stands now; the events of the batch that Scope reaches (the same SQL rule as
``GET /v1/events``, one query per subscription and batch); each delivered through the outbox,
redacted for the owner. Audit entries go only to owners allowed to read the audit trail. A
replay sends a range of the log through the same steps.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import access, integrations
from supplyline.eventlog import eventlog_event, to_stored
from supplyline.kernel.events import StoredEvent
from supplyline.resources import EventRedaction, ResourceCatalog, VisibilityRules
from supplyline.sharing.service import TARGET_PREFIX, SecretBox, target_of
from supplyline.sharing.tables import sharing_webhook

AUDIT_PREFIX = "supplyline.audit."
W = sharing_webhook
E = eventlog_event
REPLAY_PAGE = 500


class WebhookFanout:
    name = "sharing.webhooks"
    batch_size = 200

    def __init__(self, catalog: ResourceCatalog, visibility: VisibilityRules) -> None:
        self.redaction = EventRedaction(catalog)
        self.visibility = visibility

    def accepts(self, event_type: str) -> bool:
        return True

    async def wants(self, conn: AsyncConnection, events: list[StoredEvent]) -> bool:
        """Whether a tenant of the batch has a live subscription: most have none, and every
        event passes through here, so the runner skips the write transaction for them."""
        tenants = list({e.tenant_id for e in events if e.tenant_id is not None})
        if not tenants:
            return False
        stmt = select(W.c.id).where(W.c.tenant_id.in_(tenants), W.c.archived_at.is_(None)).limit(1)
        return (await conn.execute(stmt)).first() is not None

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        tenants = {e.tenant_id for e in events if e.tenant_id is not None}
        if not tenants:
            return
        subs = (
            (await conn.execute(select(W).where(W.c.tenant_id.in_(list(tenants)), W.c.archived_at.is_(None))))
            .mappings()
            .all()
        )
        for sub in subs:
            await self.deliver(conn, dict(sub), [e for e in events if e.tenant_id == sub["tenant_id"]])

    async def deliver(
        self, conn: AsyncConnection, sub: dict[str, Any], events: list[StoredEvent], replay_id: str = ""
    ) -> None:
        """Queue the events of ``events`` that ``sub`` wants and its owner may see now."""
        types = set(sub["event_types"])
        wanted = [e for e in events if not types or e.type in types]
        if not wanted:
            return
        scope = await access.scope_of(
            conn,
            sub["tenant_id"],
            api_key_id=sub["api_key_id"],
            user_id=sub["user_id"],
            rules=self.visibility,
        )
        if scope is None or not scope.can("events"):
            return
        if not scope.can("audit"):
            wanted = [e for e in wanted if not e.type.startswith(AUDIT_PREFIX)]
        where = access.events_condition(scope)
        if where is not None and wanted:
            stmt = select(E.c.position).where(E.c.position.in_([e.position for e in wanted]), where)
            seen = {r.position for r in await conn.execute(stmt)}
            wanted = [e for e in wanted if e.position in seen]
        target = target_of(sub["id"])
        for event in wanted:
            body = self.redaction.shown(scope, event.cloudevent())
            await integrations.enqueue(conn, event, target, sub["url"], body, replay_id=replay_id)

    async def replay(
        self, conn: AsyncConnection, sub: dict[str, Any], from_position: int, to_position: int, replay_id: str
    ) -> None:
        """The subscription's tenant's events from ``from_position`` to ``to_position``."""
        after = from_position - 1
        while after < to_position:
            stmt = (
                select(E)
                .where(E.c.tenant_id == sub["tenant_id"], E.c.position > after, E.c.position <= to_position)
                .order_by(E.c.position)
                .limit(REPLAY_PAGE)
            )
            rows = (await conn.execute(stmt)).mappings().all()
            if not rows:
                return
            events = [to_stored(r) for r in rows]
            await self.deliver(conn, sub, events, replay_id)
            after = events[-1].position

    async def reset(self, conn: AsyncConnection) -> None:
        """Nothing to forget: a replay finds the deliveries it queued (one per event and target)."""


class WebhookSecrets:
    """The keys that sign a subscription's deliveries now: its secret, and the one it replaced
    while the overlap lasts (``integrations.SecretsFor``)."""

    def __init__(self, box: SecretBox) -> None:
        self.box = box

    async def __call__(self, conn: AsyncConnection, target: str, now: datetime) -> list[bytes]:
        if not target.startswith(TARGET_PREFIX):
            return []
        try:
            sub_id = uuid.UUID(target.removeprefix(TARGET_PREFIX))
        except ValueError:
            return []
        stmt = select(W.c.secret_enc, W.c.previous_secret_enc, W.c.previous_secret_until).where(
            W.c.id == sub_id
        )
        row = (await conn.execute(stmt)).first()
        if row is None or row.secret_enc is None:
            return []
        sealed = [row.secret_enc]
        if (
            row.previous_secret_enc is not None
            and row.previous_secret_until
            and now < row.previous_secret_until
        ):
            sealed.append(row.previous_secret_enc)
        return [integrations.secret_key(self.box.open(s).decode()) for s in sealed]
