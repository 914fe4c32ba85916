"""Newest-first keyset pages over (created_at, id): the lists operators read (alarms, holds,
deliveries) show the latest first, and a cursor stays right while new rows arrive."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, or_
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Invalid
from supplyline.kernel.pagination import Page, decode_cursor, encode_cursor


async def newest_first(
    conn: AsyncConnection, stmt: Select[Any], table: Table, kind: str, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """One page of ``stmt`` (rows as dicts), newest first, after ``cursor`` (of this ``kind``)."""
    created, id_ = table.c.created_at, table.c.id
    if cursor:
        at, _, last = str(decode_cursor(cursor, kind)).partition("|")
        try:
            when, last_id = datetime.fromisoformat(at), uuid.UUID(last)
        except ValueError:
            raise Invalid("cursor", "not a cursor issued for this list") from None
        stmt = stmt.where(or_(created < when, and_(created == when, id_ < last_id)))
    stmt = stmt.order_by(created.desc(), id_.desc()).limit(limit + 1)
    rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    last_row = rows[-1] if rows else None
    nxt = (
        encode_cursor(f"{last_row['created_at'].isoformat()}|{last_row['id']}", kind)
        if more and last_row
        else None
    )
    return Page(rows, nxt)
