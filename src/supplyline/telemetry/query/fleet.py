"""The health of a page of devices at once: what a fleet view lists, in a fixed few queries.

One device's health (``health.device_status``) asked for a hundred times is a hundred round
trips and a hundred reads of the landing tier; a page here costs one select of the devices,
one of their states, one of their refusals, one of their credentials and one pass over the
landing rows (``series.latest``), whatever the page's size.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.pagination import Page
from supplyline.kernel.scope import Scope
from supplyline.telemetry.query.series import latest
from supplyline.telemetry.tables import telemetry_credential, telemetry_device_state, telemetry_rejection

# Where a device's charge is read from, in order of preference (the canonical metric first).
BATTERY_METRICS = ("battery_v", "battery_pct")
LIST_NAME = "device-health"
# device -> the [start_ms, end_ms] spans of its readings a caller may read; None: all of them.
Windows = Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, list[tuple[int, int]]] | None]]


@dataclass(frozen=True)
class HealthFilter:
    site_id: uuid.UUID | None = None
    kind: str | None = None
    silent: bool | None = None  # True: only devices marked silent; False: only those that are not


async def health_page(
    conn: AsyncConnection,
    scope: Scope,
    flt: HealthFilter,
    *,
    cursor: str | None,
    limit: int,
    credentials: bool,
    windows: Windows | None = None,
) -> Page[dict[str, Any]]:
    """A page of the caller's devices with their telemetry health; ``credentials``: include each
    device's credential summary (the caller may read the tenant's credentials); ``windows``:
    when the caller may read each device's readings (None from it: always), so a carrier's
    tracker shows no battery reading from after its delivery."""
    tenant = scope.require_tenant()
    s = telemetry_device_state
    marked = select(s.c.device_id).where(s.c.tenant_id == tenant, s.c.silent == 1)
    found = await registry.device_page(
        conn,
        scope,
        site_id=flt.site_id,
        kind=flt.kind,
        among=marked if flt.silent is True else None,
        excluding=marked if flt.silent is False else None,
        cursor=cursor,
        limit=limit,
        list_name=LIST_NAME,
    )
    ids = [d["id"] for d in found.items]
    codes = [d["code"] for d in found.items]
    states = await _states(conn, tenant, ids)
    refused = await _rejections(conn, tenant, codes)
    values = await latest(conn, tenant, ids) if ids else {}
    if windows is not None and values:
        values = _within(values, await windows(ids))
    creds = await _credentials(conn, tenant, ids) if credentials else {}
    items = []
    for d in found.items:
        item = _item(d, states.get(d["id"]), values.get(d["id"]), refused.get(d["code"], {}))
        if credentials:
            item["credentials"] = creds.get(d["id"], _no_credentials())
        items.append(item)
    return Page(items, found.next_cursor)


def _within(
    values: dict[uuid.UUID, dict[str, Any]], allowed: dict[uuid.UUID, list[tuple[int, int]]] | None
) -> dict[uuid.UUID, dict[str, Any]]:
    if allowed is None:
        return values
    out = {}
    for device, v in values.items():
        spans = allowed.get(device, ())
        kept = {m: tv for m, tv in v["values"].items() if any(a <= tv[0] <= b for a, b in spans)}
        out[device] = {**v, "values": kept}
    return out


def _item(
    device: dict[str, Any],
    state: dict[str, Any] | None,
    latest_values: dict[str, Any] | None,
    refused: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One device's line: who it is, when it was heard from, its charge, clock and refusals."""
    seen = latest_values["last_seen_at"] if latest_values else state["last_seen_at"] if state else None
    values = latest_values["values"] if latest_values else {}
    first = state["first_seen_at"] if state else seen
    return {
        "device_id": str(device["id"]),
        "device": device["code"],
        "name": device["name"],
        "kind": device["kind"],
        "status": device["status"],
        "asset_id": str(device["asset_id"]) if device["asset_id"] else None,
        "asset": device["asset_code"],
        "site_id": str(device["site_id"]) if device["site_id"] else None,
        "first_seen_at": first.isoformat() if first else None,
        "last_seen_at": seen.isoformat() if seen else None,
        "silent": bool(state["silent"]) if state else (False if seen else None),
        "clock_skew_s": _skew(state, values, seen),
        "battery": _battery(values),
        "rejected": sum(r["count"] for r in refused.values()),
        "rejections": refused,
        "late": int(state["late_count"] or 0) if state else 0,
    }


def _skew(state: dict[str, Any] | None, values: dict[str, Any], seen: datetime | None) -> float | None:
    """How far ahead the device's clock runs: the stored figure, else its newest reading's time
    minus when it was last heard from (negative: behind, or its readings arrive late)."""
    if state is not None and state["skew_ms"] is not None:
        return float(state["skew_ms"]) / 1000
    if not values or seen is None:
        return None
    newest = max(int(ts) for ts, _ in values.values())
    return round((newest - seen.timestamp() * 1000) / 1000, 3)


def _battery(values: dict[str, Any]) -> dict[str, Any] | None:
    for metric in BATTERY_METRICS:
        if metric in values:
            ts, value = values[metric]
            return {"metric": metric, "value": value, "at_ms": int(ts)}
    return None


async def _states(
    conn: AsyncConnection, tenant: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    s = telemetry_device_state
    if not ids:
        return {}
    columns = (s.c.device_id, s.c.first_seen_at, s.c.last_seen_at, s.c.silent, s.c.skew_ms, s.c.late_count)
    stmt = select(*columns).where(s.c.tenant_id == tenant, s.c.device_id.in_(list(ids)))
    return {r["device_id"]: dict(r) for r in (await conn.execute(stmt)).mappings()}


async def _rejections(
    conn: AsyncConnection, tenant: uuid.UUID, codes: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Refused messages per device code and reason (refusals name devices by code: a refused
    message may name a device that does not exist)."""
    r = telemetry_rejection
    if not codes:
        return {}
    stmt = select(r.c.device_code, r.c.reason, r.c.count, r.c.last_at, r.c.last_detail).where(
        r.c.tenant_id == tenant, r.c.device_code.in_(list(codes))
    )
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in (await conn.execute(stmt)).mappings():
        out.setdefault(row["device_code"], {})[row["reason"]] = {
            "count": int(row["count"]),
            "last_at": row["last_at"].isoformat(),
            "last_detail": row["last_detail"],
        }
    return out


def _no_credentials() -> dict[str, Any]:
    return {"active": 0, "newest_created_at": None, "newest_age_s": None, "expires_at": None}


async def _credentials(
    conn: AsyncConnection, tenant: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Per device: how many credentials still work, and the age of the newest (no secrets)."""
    c = telemetry_credential
    if not ids:
        return {}
    now = utcnow()
    stmt = select(c.c.device_id, c.c.created_at, c.c.expires_at).where(
        c.c.tenant_id == tenant,
        c.c.device_id.in_(list(ids)),
        c.c.revoked_at.is_(None),
    )
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for row in await conn.execute(stmt):
        if row.expires_at is not None and row.expires_at <= now:
            continue
        entry = out.setdefault(row.device_id, _no_credentials())
        entry["active"] += 1
        newest = entry["newest_created_at"]
        if newest is None or row.created_at > newest:
            entry["newest_created_at"] = row.created_at
            entry["expires_at"] = row.expires_at
    for entry in out.values():
        entry["newest_age_s"] = round((now - entry["newest_created_at"]).total_seconds())
        entry["newest_created_at"] = entry["newest_created_at"].isoformat()
        entry["expires_at"] = entry["expires_at"].isoformat() if entry["expires_at"] else None
    return out
