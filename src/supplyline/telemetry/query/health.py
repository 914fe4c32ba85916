"""Per-device health: when it was seen, how far its clock is off, what was refused and why."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork
from supplyline.telemetry.events import DEVICE_WENT_SILENT
from supplyline.telemetry.tables import telemetry_device_state, telemetry_landing, telemetry_rejection


async def device_status(
    conn: AsyncConnection, tenant_id: uuid.UUID, device_id: uuid.UUID, code: str
) -> dict[str, Any]:
    s, r, land = telemetry_device_state, telemetry_rejection, telemetry_landing
    state = (
        (await conn.execute(select(s).where(s.c.tenant_id == tenant_id, s.c.device_id == device_id)))
        .mappings()
        .first()
    )
    found = await conn.execute(select(r).where(r.c.tenant_id == tenant_id, r.c.device_code == code))
    rejections = {
        row["reason"]: {
            "count": int(row["count"]),
            "last_at": row["last_at"].isoformat(),
            "last_detail": row["last_detail"],
        }
        for row in found.mappings().all()
    }
    pending = (await conn.execute(select(land.c.id).where(land.c.tenant_id == tenant_id).limit(1))).first()
    return {
        "device_id": str(device_id),
        "device": code,
        "first_seen_at": state["first_seen_at"].isoformat() if state else None,
        "last_seen_at": state["last_seen_at"].isoformat() if state else None,
        "silent": bool(state["silent"]) if state else None,
        "clock_skew_s": state["skew_ms"] / 1000 if state and state["skew_ms"] is not None else None,
        "late": int(state["late_count"] or 0) if state else 0,
        "rejections": rejections,
        "compaction_pending": pending is not None,
    }


async def silent_candidates(conn: AsyncConnection, silent_after_s: float) -> list[int]:
    """Devices (device_no) not heard from for ``silent_after_s`` and not yet marked: a read, so
    that the scan of every device state does not hold SQLite's write lock."""
    s, d = telemetry_device_state, registry.device_view(live=True)
    cutoff = utcnow() - timedelta(seconds=silent_after_s)
    stmt = (
        select(s.c.device_no)
        .join(d, d.c.id == s.c.device_id)
        .where(s.c.silent == 0, s.c.last_seen_at < cutoff)
        .limit(1000)
    )
    return [r.device_no for r in await conn.execute(stmt)]


async def mark_silent(uow: UnitOfWork, silent_after_s: float, candidates: list[int] | None = None) -> int:
    """Devices not heard from for ``silent_after_s`` get one ``device.went_silent`` event.

    ``candidates`` (from ``silent_candidates``) narrows the write transaction to those devices;
    each is checked again in it."""
    s, d = telemetry_device_state, registry.device_view(live=True)
    now = utcnow()
    cutoff = now - timedelta(seconds=silent_after_s)
    stmt = (
        select(s.c.device_no, s.c.tenant_id, s.c.device_id, s.c.last_seen_at, d.c.code)
        .join(d, d.c.id == s.c.device_id)
        .where(s.c.silent == 0, s.c.last_seen_at < cutoff)
        .limit(1000)
    )
    if candidates is not None:
        stmt = stmt.where(s.c.device_no.in_(candidates))
    rows = (await uow.conn.execute(stmt)).all()
    for row in rows:
        uow.publish(
            NewEvent(
                type=DEVICE_WENT_SILENT.type,
                tenant_id=row.tenant_id,
                subject=f"devices/{row.device_id}",
                source="/supplyline/telemetry",
                data={
                    "device_id": str(row.device_id),
                    "code": row.code,
                    "last_seen_at": row.last_seen_at.isoformat(),
                    "silent_for_s": (now - row.last_seen_at).total_seconds(),
                },
            )
        )
    if rows:
        await uow.conn.execute(
            update(s).where(s.c.device_no.in_([r.device_no for r in rows])).values(silent=1)
        )
    return len(rows)
