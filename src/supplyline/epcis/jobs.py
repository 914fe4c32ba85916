"""Capture jobs: the record of each capture, as the EPCIS 2.0 capture interface reports it.

A caller whose ``epcis`` grant covers the whole tenant sees every job; a narrowed one (a
partner's key) sees the jobs it made itself, found by the actor that created them (the table
has no organisation column; see the capture's notes).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.db.keyset import newest_first, page
from supplyline.epcis.tables import epcis_capture
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import NotFound
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

BEHAVIOUR = "rollback"
C = epcis_capture
KEYSET = newest_first(C, "epcis-captures")


class Fault(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


def _time(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def job_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """A job as the standard's capture interface shows it (plus how many events it stored)."""
    finished = row["finished_at"]
    return {
        "captureID": str(row["id"]),
        "createdAt": _time(row["created_at"]),
        "finishedAt": _time(finished) if finished is not None else None,
        "running": row["running"],
        "success": row["success"],
        "captureErrorBehaviour": row["capture_error_behaviour"],
        "eventCount": row["event_count"],
        "errors": list(row["errors"]),
    }


async def write_job(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    actor: str,
    count: int,
    errors: Sequence[Fault],
    organization_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A finished job: capture validates and stores in one transaction, so none is left running."""
    now = utcnow()
    row = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "running": False,
        "success": not errors,
        "capture_error_behaviour": BEHAVIOUR,
        "errors": [e.as_dict() for e in errors],
        "event_count": count,
        "created_by": actor[:200],
        "organization_id": organization_id,
        "created_at": now,
        "finished_at": now,
    }
    await uow.conn.execute(C.insert(), [row])
    return job_view(row)


def _visible(stmt: Select[Any], scope: Scope) -> Select[Any]:
    stmt = stmt.where(C.c.tenant_id == scope.require_tenant())
    if scope.reaches("epcis", Action.READ) is not None:
        # A partner's people see their organisation's captures; other narrowed callers their own.
        org = scope.organization_id
        stmt = stmt.where(C.c.organization_id == org if org is not None else C.c.created_by == scope.actor)
    return stmt


async def get_capture(conn: AsyncConnection, scope: Scope, capture_id: uuid.UUID) -> dict[str, Any]:
    row = (await conn.execute(_visible(select(C), scope).where(C.c.id == capture_id))).mappings().first()
    if row is None:
        raise NotFound(f"no capture {capture_id}")
    return job_view(row)


async def list_captures(
    conn: AsyncConnection, scope: Scope, *, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """The caller's captures, newest first."""
    found = await page(conn, _visible(select(C), scope), KEYSET, cursor, limit)
    return Page([job_view(r) for r in found.items], found.next_cursor)
