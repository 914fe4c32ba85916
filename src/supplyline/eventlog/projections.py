"""A projection kept by a consumer: the current state of every entity, and counts per kind.

It shows the pattern every read model follows: idempotent handling guarded by position, so a
replay from any point rebuilds the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.dialect import upsert
from supplyline.eventlog.tables import eventlog_entity_index
from supplyline.kernel.events import TYPE_PREFIX, StoredEvent

_ACTIONS = ("created", "updated", "archived")


def _parse(type_: str) -> tuple[str, str] | None:
    """``supplyline.site.created.v1`` -> ("site", "created")."""
    if not type_.startswith(TYPE_PREFIX):
        return None
    parts = type_[len(TYPE_PREFIX) :].split(".")
    if len(parts) != 3 or parts[1] not in _ACTIONS:
        return None
    return parts[0], parts[1]


class EntityIndexProjection:
    name = "entity-index"

    def accepts(self, event_type: str) -> bool:
        return _parse(event_type) is not None

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        """Only the newest event per subject matters; one statement for the whole batch."""
        newest: dict[tuple[Any, str], dict[str, Any]] = {}
        for event in events:
            parsed = _parse(event.type)
            if parsed is None or event.tenant_id is None:
                continue
            entity, action = parsed
            newest[(event.tenant_id, event.subject)] = {
                "tenant_id": event.tenant_id,
                "subject": event.subject,
                "entity": entity,
                "last_type": event.type,
                "last_position": event.position,
                "archived": action == "archived",
            }
        await upsert(
            conn,
            eventlog_entity_index,
            list(newest.values()),
            keys=("tenant_id", "subject"),
            update=("entity", "last_type", "last_position", "archived"),
            newer="last_position",
        )

    async def reset(self, conn: AsyncConnection) -> None:
        await conn.execute(delete(eventlog_entity_index))


async def entity_counts(conn: AsyncConnection, tenant_id: Any) -> dict[str, dict[str, int]]:
    t = eventlog_entity_index
    stmt = (
        select(t.c.entity, t.c.archived, func.count())
        .where(t.c.tenant_id == tenant_id)
        .group_by(t.c.entity, t.c.archived)
    )
    out: dict[str, dict[str, int]] = {}
    for entity, archived, count in await conn.execute(stmt):
        out.setdefault(entity, {"active": 0, "archived": 0})["archived" if archived else "active"] = int(
            count
        )
    return dict(sorted(out.items()))
