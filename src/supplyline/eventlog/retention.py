"""Purging the log: only what every consumer has handled, one tenant at a time.

A consumer saves the position it has handled; an event above the smallest saved position may
still be waiting for one of them, and purging it would make that consumer skip it. A consumer
known to this process that has never saved a position holds everything back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.eventlog.tables import eventlog_consumer, eventlog_event


async def handled_through(conn: AsyncConnection, names: Iterable[str] = ()) -> int:
    """The highest position every consumer has handled: the smallest position saved, among the
    consumers with a saved position and ``names`` (the consumers this process runs; 0 for one
    without a saved position yet)."""
    rows = dict((await conn.execute(select(eventlog_consumer.c.name, eventlog_consumer.c.position))).all())
    positions = [int(p) for p in rows.values()] + [0 for name in names if name not in rows]
    if not positions:
        return 0
    return min(positions)


def _purgeable(
    tenant_id: uuid.UUID,
    before: datetime,
    through: int,
    types: Sequence[str],
    exclude_types: Sequence[str],
    unless: ColumnElement[bool] | None,
) -> list[ColumnElement[bool]]:
    e = eventlog_event
    where = [e.c.tenant_id == tenant_id, e.c.time < before, e.c.position <= through]
    if types:
        where.append(e.c.type.in_(list(types)))
    if exclude_types:
        where.append(e.c.type.not_in(list(exclude_types)))
    if unless is not None:
        where.append(~unless)
    return where


async def delete_events(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    before: datetime,
    through: int,
    types: Sequence[str] = (),
    exclude_types: Sequence[str] = (),
    unless: ColumnElement[bool] | None = None,
) -> int:
    """Delete the tenant's events dated before ``before`` at positions up to ``through`` (see
    ``handled_through``), of ``types`` if given, not of ``exclude_types``, and not where
    ``unless`` holds (a condition on ``eventlog_event``); returns how many went."""
    where = _purgeable(tenant_id, before, through, types, exclude_types, unless)
    result = await conn.execute(delete(eventlog_event).where(*where))
    return int(result.rowcount or 0)


async def count_events(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    *,
    before: datetime,
    through: int,
    types: Sequence[str] = (),
    exclude_types: Sequence[str] = (),
    where: ColumnElement[bool] | None = None,
) -> int:
    """How many of the tenant's events ``delete_events`` would consider, that also match ``where``."""
    conditions = _purgeable(tenant_id, before, through, types, exclude_types, None)
    if where is not None:
        conditions.append(where)
    stmt = select(func.count()).select_from(eventlog_event).where(*conditions)
    return int((await conn.execute(stmt)).scalar_one())
