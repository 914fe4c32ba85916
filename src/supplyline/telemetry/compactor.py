"""Folds landing rows into per-device chunks and keeps each device's state.

Runs in the background of the server (and on demand in tests and benchmarks). Everything it
does for a set of landing rows happens in one transaction: the chunks, the device states
(sequence ranges, last seen, latest values) and the deletion of those landing rows. A crash
leaves either all of it or none, so a reading is always in exactly one tier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.uow import UnitOfWorkFactory
from supplyline.telemetry.codec import (
    Columns,
    Series,
    concat,
    decode_chunk,
    decode_landing,
    encode_chunk,
    merge_series,
)
from supplyline.telemetry.seqs import SeqRanges
from supplyline.telemetry.status import mark_silent
from supplyline.telemetry.tables import telemetry_chunk, telemetry_device_state, telemetry_landing

log = logging.getLogger(__name__)
COMPACTOR_LOCK_KEY = 0x5E_1E_C0_4C


@dataclass
class _Device:
    tenant_id: uuid.UUID
    device_no: int | None
    state: dict[str, Any] | None
    series: Series
    seqs: list[int]
    received_at: datetime


class Compactor:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        chunk_points: int = 2000,
        batch_rows: int = 400,
        silent_after_s: float = 900,
    ) -> None:
        self.uow = uow
        self.silent_after_s = silent_after_s
        self.chunk_points = chunk_points
        self.batch_rows = batch_rows

    async def run_once(self) -> int:
        """Compact up to ``batch_rows`` landing rows; returns how many readings moved."""
        async with self.uow() as uow:
            conn = uow.conn
            if conn.dialect.name == "postgresql":
                got = await conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": COMPACTOR_LOCK_KEY}
                )
                if not got.scalar():
                    return 0  # another compactor is at work
            land = telemetry_landing
            rows = (
                await conn.execute(
                    select(land.c.id, land.c.tenant_id, land.c.received_at, land.c.blob)
                    .order_by(land.c.id)
                    .limit(self.batch_rows)
                )
            ).all()
            if not rows:
                return 0
            devices = self._group(rows)
            await self._load_states(conn, devices)
            await self._write(conn, devices)
            await conn.execute(delete(land).where(land.c.id.in_([r.id for r in rows])))
            await uow.commit()
        return sum(len(d.series) for d in devices.values())

    async def drain(self) -> int:
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def check_silence(self) -> int:
        async with self.uow() as uow:
            count = await mark_silent(uow, self.silent_after_s)
            await uow.commit()
        return count

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        while not stop.is_set():
            try:
                if await self.run_once():
                    continue
                await self.check_silence()
            except Exception:
                log.exception("telemetry compaction failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    def _group(self, rows: Sequence[Any]) -> dict[uuid.UUID, _Device]:
        parts: dict[uuid.UUID, list[Columns]] = {}
        received: dict[uuid.UUID, datetime] = {}
        for r in rows:
            parts.setdefault(r.tenant_id, []).append(decode_landing(r.blob))
            received[r.tenant_id] = r.received_at
        out: dict[uuid.UUID, _Device] = {}
        for tenant_id, cols_list in parts.items():
            cols = concat(cols_list)
            order = np.argsort(cols.device_idx, kind="stable")
            idx_sorted = cols.device_idx[order]
            bounds = np.flatnonzero(np.diff(idx_sorted)) + 1
            for sel in np.split(order, bounds):
                device = cols.devices[int(cols.device_idx[sel[0]])]
                series = Series(cols.ts_ms[sel], {m: v[sel] for m, v in cols.metrics.items()})
                seqs = [s for s in cols.seq[sel].tolist() if s >= 0]
                out[device] = _Device(tenant_id, None, None, series, seqs, received[tenant_id])
        return out

    async def _load_states(self, conn: AsyncConnection, devices: dict[uuid.UUID, _Device]) -> None:
        s = telemetry_device_state
        ids = list(devices)
        for start in range(0, len(ids), 500):
            stmt = select(s).where(s.c.device_id.in_(ids[start : start + 500]))
            for r in (await conn.execute(stmt)).mappings().all():
                d = devices[r["device_id"]]
                d.device_no, d.state = r["device_no"], dict(r)
        new = [(dev, d) for dev, d in devices.items() if d.state is None]
        if new:
            await conn.execute(
                s.insert(),
                [
                    {
                        "tenant_id": d.tenant_id,
                        "device_id": dev,
                        "first_seen_at": d.received_at,
                        "last_seen_at": d.received_at,
                        "last_ts_ms": None,
                        "seq_ranges": [],
                        "last_values": {},
                        "skew_ms": None,
                        "silent": 0,
                        "open_chunk_id": None,
                    }
                    for dev, d in new
                ],
            )
            stmt = select(s).where(s.c.device_id.in_([dev for dev, _ in new]))
            for r in (await conn.execute(stmt)).mappings().all():
                d = devices[r["device_id"]]
                d.device_no, d.state = r["device_no"], dict(r)

    async def _write(self, conn: AsyncConnection, devices: dict[uuid.UUID, _Device]) -> None:
        c = telemetry_chunk
        open_ids = [
            d.state["open_chunk_id"] for d in devices.values() if d.state and d.state["open_chunk_id"]
        ]
        open_chunks: dict[int, Series] = {}
        for start in range(0, len(open_ids), 500):
            stmt = select(c.c.id, c.c.blob).where(c.c.id.in_(open_ids[start : start + 500]))
            open_chunks.update({r.id: decode_chunk(r.blob) for r in await conn.execute(stmt)})
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        reopen: dict[int, int] = {}  # device_no -> index into inserts of its new open chunk
        for d in devices.values():
            assert d.state is not None and d.device_no is not None
            open_id = d.state["open_chunk_id"]
            merged = merge_series([open_chunks[open_id], d.series]) if open_id in open_chunks else d.series
            full, rest = self._split(merged)
            for part in full:
                inserts.append(self._chunk_row(d, part))
            if open_id in open_chunks and len(rest):
                updates.append({"cid": open_id, **self._chunk_row(d, rest)})
                new_open: int | None = open_id
            elif len(rest):
                inserts.append(self._chunk_row(d, rest))
                reopen[d.device_no] = len(inserts) - 1
                new_open = None
            else:
                new_open = None
            states.append(self._state(d, merged, new_open))
        if inserts:
            await conn.execute(c.insert(), inserts)
        if updates:
            await conn.execute(
                update(c).where(c.c.id == bindparam("cid")),
                [{k: v for k, v in u.items() if k != "tenant_id" and k != "device_no"} for u in updates],
            )
        if reopen:
            # Find the ids of the new open chunks: the newest chunk of each device.
            stmt = (
                select(c.c.device_no, c.c.id)
                .where(c.c.device_no.in_(list(reopen)))
                .order_by(c.c.device_no, c.c.id)
            )
            newest = {r.device_no: r.id for r in await conn.execute(stmt)}
            for st in states:
                if st["b_device_no"] in reopen:
                    st["open_chunk_id"] = newest[st["b_device_no"]]
        s = telemetry_device_state
        await conn.execute(
            update(s).where(s.c.device_no == bindparam("b_device_no")),
            states,
        )

    def _split(self, series: Series) -> tuple[list[Series], Series]:
        n, size = len(series), self.chunk_points
        if n <= size:
            return [], series
        cut = (n // size) * size if n % size else n - size
        full = [self._slice(series, i, i + size) for i in range(0, cut, size)]
        return full, self._slice(series, cut, n)

    @staticmethod
    def _slice(series: Series, a: int, b: int) -> Series:
        return Series(series.ts_ms[a:b], {m: v[a:b] for m, v in series.metrics.items()})

    @staticmethod
    def _chunk_row(d: _Device, series: Series) -> dict[str, Any]:
        return {
            "tenant_id": d.tenant_id,
            "device_no": d.device_no,
            "start_ms": int(series.ts_ms.min()),
            "end_ms": int(series.ts_ms.max()),
            "count": len(series),
            "blob": encode_chunk(series),
        }

    @staticmethod
    def _state(d: _Device, merged: Series, open_chunk_id: int | None) -> dict[str, Any]:
        assert d.state is not None
        ranges = SeqRanges(d.state["seq_ranges"])
        for seq in d.seqs:
            ranges.add(seq)
        last_values = dict(d.state["last_values"] or {})
        last_ts = d.state["last_ts_ms"]
        newest = int(d.series.ts_ms.max())
        if last_ts is None or newest >= last_ts:
            last_ts = newest
            for metric, values in d.series.metrics.items():
                ok = ~np.isnan(values)
                if ok.any():
                    at = np.flatnonzero(ok)[np.argmax(d.series.ts_ms[ok])]
                    value = float(values[at])
                    if math.isfinite(value):
                        last_values[metric] = [int(d.series.ts_ms[at]), value]
        return {
            "b_device_no": d.device_no,
            "last_seen_at": max(d.received_at, d.state["last_seen_at"]),
            "last_ts_ms": last_ts,
            "seq_ranges": ranges.as_list(),
            "last_values": last_values,
            "open_chunk_id": open_chunk_id,
            "silent": 0,
        }
