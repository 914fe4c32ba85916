"""Batch lookups for validators: one query per table for a whole batch of records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.scope import Scope
from supplyline.resources.scoping import scoped

CHUNK = 500


async def rows_by_id(
    conn: AsyncConnection, scope: Scope, table: Table, ids: Iterable[Any]
) -> dict[Any, dict[str, Any]]:
    """The scope's rows of ``table`` with these ids (``None`` ignored), keyed by id."""
    wanted = list({i for i in ids if i is not None})
    out: dict[Any, dict[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        stmt = scoped(select(table), table, scope).where(table.c.id.in_(wanted[start : start + CHUNK]))
        out.update({r["id"]: dict(r) for r in (await conn.execute(stmt)).mappings().all()})
    return out


async def another_live(
    conn: AsyncConnection,
    scope: Scope,
    table: Table,
    criteria: Iterable[ColumnElement[bool]],
    row: dict[str, Any] | None,
) -> Any:
    """The id of a live (not archived) row other than ``row`` meeting ``criteria``, or None:
    uniqueness that a constraint cannot say (NULL-able keys, one default per tenant)."""
    stmt = scoped(select(table.c.id), table, scope).where(*criteria, table.c.archived_at.is_(None))
    if row is not None:
        stmt = stmt.where(table.c.id != row["id"])
    return (await conn.execute(stmt.limit(1))).scalar()
