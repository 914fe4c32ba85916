"""Reading telemetry back: raw points or buckets (min, max, avg, last), and latest values.

A query reads the device's chunks that overlap the range plus the landing rows not yet
compacted, so a reading is visible as soon as its ingest request was answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.telemetry.storage.codec import Series, decode_chunk, decode_landing, merge_series
from supplyline.telemetry.tables import telemetry_chunk, telemetry_device_state, telemetry_landing

AGGREGATES = ("min", "max", "avg", "last", "count")
Window = tuple[int, int]  # [start_ms, end_ms], inclusive


@dataclass(frozen=True)
class SeriesRequest:
    tenant_id: uuid.UUID
    windows: dict[uuid.UUID, list[Window]]  # device -> when its readings count
    metrics: Sequence[str] | None = None


async def read_series(conn: AsyncConnection, req: SeriesRequest) -> dict[uuid.UUID, Series]:
    """Every stored reading of each device inside its windows, merged and sorted by time."""
    if not req.windows:
        return {}
    lo = min(a for ws in req.windows.values() for a, _ in ws)
    hi = max(b for ws in req.windows.values() for _, b in ws)
    s, c, land = telemetry_device_state, telemetry_chunk, telemetry_landing
    devices = list(req.windows)
    numbers: dict[int, uuid.UUID] = {}
    done: dict[uuid.UUID, int] = {}  # device -> landing rows already in its chunks
    for start in range(0, len(devices), 500):
        stmt = select(s.c.device_no, s.c.device_id, s.c.compacted_through).where(
            s.c.tenant_id == req.tenant_id, s.c.device_id.in_(devices[start : start + 500])
        )
        for r in await conn.execute(stmt):
            numbers[r.device_no] = r.device_id
            done[r.device_id] = r.compacted_through
    parts: dict[uuid.UUID, list[Series]] = {}
    for start in range(0, len(numbers), 500):
        nos = list(numbers)[start : start + 500]
        stmt = select(c.c.device_no, c.c.blob).where(
            c.c.tenant_id == req.tenant_id, c.c.device_no.in_(nos), c.c.end_ms >= lo, c.c.start_ms <= hi
        )
        for chunk in await conn.execute(stmt):
            parts.setdefault(numbers[chunk.device_no], []).append(decode_chunk(chunk.blob))
    tail = (
        select(land.c.id, land.c.blob)
        .where(land.c.tenant_id == req.tenant_id, land.c.max_ts_ms >= lo, land.c.min_ts_ms <= hi)
        .order_by(land.c.id)
    )
    wanted = set(devices)
    for landed in await conn.execute(tail):
        cols = decode_landing(landed.blob)
        for idx, device in enumerate(cols.devices):
            if device in wanted and landed.id > done.get(device, 0):
                sel = cols.device_idx == idx
                parts.setdefault(device, []).append(
                    Series(cols.ts_ms[sel], {m: v[sel] for m, v in cols.metrics.items()})
                )
    out: dict[uuid.UUID, Series] = {}
    for device, series_list in parts.items():
        merged = merge_series(series_list)
        mask = np.zeros(len(merged), dtype=np.bool_)
        for a, b in req.windows[device]:
            mask |= (merged.ts_ms >= a) & (merged.ts_ms <= b)
        metrics = {m: v[mask] for m, v in merged.metrics.items() if req.metrics is None or m in req.metrics}
        out[device] = Series(merged.ts_ms[mask], metrics)
    return out


def raw_points(series: Series, metric: str, limit: int) -> tuple[list[list[Any]], bool]:
    """[[ts_ms, value], ...] of one metric, oldest first; True when cut at ``limit``."""
    values = series.metrics.get(metric)
    if values is None:
        return [], False
    ok = ~np.isnan(values)
    ts, vs = series.ts_ms[ok], values[ok]
    cut = len(ts) > limit
    return [[int(t), float(v)] for t, v in zip(ts[:limit].tolist(), vs[:limit].tolist(), strict=True)], cut


def buckets(series: Series, metric: str, bucket_ms: int, aggs: Sequence[str]) -> list[dict[str, Any]]:
    """One row per time bucket that has readings: its start and the asked aggregates."""
    values = series.metrics.get(metric)
    if values is None:
        return []
    ok = ~np.isnan(values)
    ts, vs = series.ts_ms[ok], values[ok]
    if not len(ts):
        return []
    keys = ts // bucket_ms
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])  # ts is sorted, so keys are too
    ends = np.r_[starts[1:], len(ts)]
    out: dict[str, Any] = {"t": (keys[starts] * bucket_ms).tolist()}
    if "min" in aggs:
        out["min"] = np.minimum.reduceat(vs, starts).tolist()
    if "max" in aggs:
        out["max"] = np.maximum.reduceat(vs, starts).tolist()
    if "avg" in aggs or "count" in aggs:
        counts = ends - starts
        if "avg" in aggs:
            out["avg"] = (np.add.reduceat(vs, starts) / counts).tolist()
        if "count" in aggs:
            out["count"] = counts.tolist()
    if "last" in aggs:
        out["last"] = vs[ends - 1].tolist()
    names = list(out)
    return [dict(zip(names, row, strict=True)) for row in zip(*out.values(), strict=True)]


async def latest(
    conn: AsyncConnection, tenant_id: uuid.UUID, devices: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Last value of each metric per device: compacted state, overridden by newer landing rows."""
    s, land = telemetry_device_state, telemetry_landing
    out: dict[uuid.UUID, dict[str, Any]] = {}
    done: dict[uuid.UUID, int] = {}
    for start in range(0, len(devices), 500):
        stmt = select(s.c.device_id, s.c.last_values, s.c.last_seen_at, s.c.compacted_through).where(
            s.c.tenant_id == tenant_id, s.c.device_id.in_(list(devices)[start : start + 500])
        )
        for r in await conn.execute(stmt):
            out[r.device_id] = {"last_seen_at": r.last_seen_at, "values": dict(r.last_values or {})}
            done[r.device_id] = r.compacted_through
    wanted = set(devices)
    stmt = (
        select(land.c.id, land.c.blob, land.c.received_at)
        .where(land.c.tenant_id == tenant_id)
        .order_by(land.c.id)
    )
    for row in await conn.execute(stmt):
        cols = decode_landing(row.blob)
        for idx, device in enumerate(cols.devices):
            if device not in wanted or row.id <= done.get(device, 0):
                continue
            entry = out.setdefault(device, {"last_seen_at": row.received_at, "values": {}})
            entry["last_seen_at"] = max(entry["last_seen_at"], row.received_at)
            sel = np.flatnonzero(cols.device_idx == idx)
            for metric, values in cols.metrics.items():
                for i in sel[~np.isnan(values[sel])].tolist():
                    ts = int(cols.ts_ms[i])
                    known = entry["values"].get(metric)
                    if known is None or ts >= known[0]:
                        entry["values"][metric] = [ts, float(values[i])]
    return out
