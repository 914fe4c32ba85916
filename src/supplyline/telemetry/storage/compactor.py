"""Folds landing rows into per-device chunks and keeps each device's state.

Compaction works slice by slice of devices, each slice its own short transaction, so that it
never holds SQLite's single write lock for long: ingestion commits between slices. Each device
state records the last landing row already folded in (``compacted_through``); queries skip
those readings in the landing tier, and a compaction interrupted half-way resumes without
folding anything twice. Landing rows are deleted once every device in them is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.kernel.clock import utcnow
from supplyline.kernel.uow import UnitOfWorkFactory
from supplyline.telemetry.ingest.seqs import SeqRanges
from supplyline.telemetry.query.health import mark_silent, silent_candidates
from supplyline.telemetry.storage.codec import Columns, Series, concat, decode_landing, encode_chunk
from supplyline.telemetry.storage.retention import RulesSource, purge, tenants_with_telemetry
from supplyline.telemetry.tables import telemetry_chunk, telemetry_device_state, telemetry_landing

log = logging.getLogger(__name__)
COMPACTOR_LOCK_KEY = 0x5E_1E_C0_4C
_s = telemetry_device_state
_STATE_COLUMNS = (
    _s.c.device_no,
    _s.c.device_id,
    _s.c.last_seen_at,
    _s.c.last_ts_ms,
    _s.c.seq_ranges,
    _s.c.last_values,
    _s.c.compacted_through,
    _s.c.late_count,
    _s.c.skew_ms,
)
# A reading received more than ten minutes after its own time is late: the rules' live window
# (rules.evaluator.LIVE_WINDOW_MS), past which a transition is recorded but raises nothing.
LATE_AFTER_MS = 600_000


@dataclass
class _Device:
    tenant_id: uuid.UUID
    ts: npt.NDArray[np.int64]
    row: npt.NDArray[np.int64]  # landing row id of each reading
    seq: npt.NDArray[np.int64]
    metrics: dict[str, npt.NDArray[np.float64]]
    received_at: datetime
    received_ms: npt.NDArray[np.int64]  # when each reading's message was received
    state: dict[str, Any] | None = None
    readings: int = field(default=0)


class Compactor:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        engine: AsyncEngine | None = None,
        chunk_points: int = 2000,
        batch_rows: int = 200,
        slice_devices: int = 500,
        silent_after_s: float = 900,
        min_readings: int = 200_000,
        max_age_s: float = 30.0,
        retention_days: int = 365,
        purge_every_s: float = 3600,
        read_engine: AsyncEngine | None = None,
        retention_rules: RulesSource | None = None,
    ) -> None:
        # Reads go through a read-only engine: on SQLite the write engine begins IMMEDIATE,
        # which takes the write lock that every ingest commit waits for.
        self.read_engine = read_engine
        self.retention_days = retention_days
        self.retention_rules = retention_rules
        self.purge_every_s = purge_every_s
        self._last_purge = -purge_every_s
        self.uow = uow
        self.engine = engine
        self.chunk_points = chunk_points
        self.batch_rows = batch_rows
        self.slice_devices = slice_devices
        self.silent_after_s = silent_after_s
        # Compaction costs per device, so it waits until devices have several readings each:
        # until min_readings are waiting or the oldest has waited max_age_s.
        self.min_readings = min_readings
        self.max_age_s = max_age_s

    async def run_once(self) -> int:
        """Compact up to ``batch_rows`` landing rows; returns how many readings moved."""
        async with self._exclusive() as mine:
            if not mine:
                return 0
            land = telemetry_landing
            async with self._reading() as conn:
                rows = (
                    await conn.execute(
                        select(land.c.id, land.c.tenant_id, land.c.received_at, land.c.blob)
                        .order_by(land.c.id)
                        .limit(self.batch_rows)
                    )
                ).all()
            if not rows:
                return 0
            last_row = rows[-1].id
            devices = self._group(rows)
            ids = list(devices)
            moved = 0
            for start in range(0, len(ids), self.slice_devices):
                moved += await self._compact_slice(
                    {d: devices[d] for d in ids[start : start + self.slice_devices]}, last_row
                )
                await asyncio.sleep(0)  # let ingestion commit between slices
            async with self.uow() as uow:
                await uow.conn.execute(delete(land).where(land.c.id <= last_row))
                await uow.commit()
        return moved

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[bool]:
        """One compactor at a time across processes (PostgreSQL); SQLite serialises writers."""
        if self.engine is None or self.engine.dialect.name != "postgresql":
            yield True
            return
        async with self.engine.connect() as conn:
            got = bool(
                (
                    await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": COMPACTOR_LOCK_KEY})
                ).scalar()
            )
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": COMPACTOR_LOCK_KEY})
                    await conn.commit()

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection: on SQLite it does not take the single write lock."""
        if self.read_engine is None:
            async with self.uow() as uow:
                yield uow.conn
        else:
            async with self.read_engine.connect() as conn:
                yield conn

    async def _compact_slice(self, devices: dict[uuid.UUID, _Device], last_row: int) -> int:
        """Fold a slice of devices; the write lock is held only to store what was prepared.

        Encoding chunks is the expensive part, and on SQLite every ingest commit waits while a
        writer holds the lock: states are read and chunks built outside the write transaction,
        which then checks that no other compactor folded these devices meanwhile.
        """
        async with self._reading() as conn:
            await self._read_states(conn, devices)
        if any(d.state is None for d in devices.values()):
            async with self.uow() as uow:
                await self._create_states(uow.conn, devices)
                await uow.commit()
        inserts: list[dict[str, Any]] = []
        states: dict[int, dict[str, Any]] = {}
        moved: dict[int, int] = {}
        seen: dict[int, int] = {}  # device_no -> compacted_through as read
        for d in devices.values():
            assert d.state is not None
            seen[d.state["device_no"]] = d.state["compacted_through"]
            fresh = d.row > d.state["compacted_through"]
            if not fresh.all():
                d.ts, d.row, d.seq = d.ts[fresh], d.row[fresh], d.seq[fresh]
                d.received_ms = d.received_ms[fresh]
                d.metrics = {m: v[fresh] for m, v in d.metrics.items()}
            no = d.state["device_no"]
            if len(d.ts):
                inserts += [self._chunk_row(d, part) for part in self._parts(d)]
            moved[no] = len(d.ts)
            states[no] = self._state(d, last_row)
        seen = {
            no: d.state["compacted_through"]
            for d in devices.values()
            if d.state
            for no in [d.state["device_no"]]
        }
        async with self.uow() as uow:
            now = await uow.conn.execute(
                select(_s.c.device_no, _s.c.compacted_through).where(_s.c.device_no.in_(list(seen)))
            )
            raced = {r.device_no for r in now if r.compacted_through != seen[r.device_no]}
            if raced:  # another compactor got there first: leave those devices to the next pass
                inserts = [row for row in inserts if row["device_no"] not in raced]
            if inserts:
                await uow.conn.execute(telemetry_chunk.insert(), inserts)
            updates = [state for no, state in states.items() if no not in raced]
            if updates:
                await uow.conn.execute(update(_s).where(_s.c.device_no == bindparam("b_device_no")), updates)
            await uow.commit()
        return sum(n for no, n in moved.items() if no not in raced)

    async def drain(self) -> int:
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def purge(self, tenant_id: uuid.UUID | None = None) -> int:
        """Delete telemetry past its retention (policies per tenant and device profile, legal
        holds), one tenant per transaction: of every tenant, or of ``tenant_id``."""
        if tenant_id is None:
            async with self._reading() as conn:
                tenants = await tenants_with_telemetry(conn)
        else:
            tenants = [tenant_id]
        count = 0
        for tenant in tenants:
            async with self.uow() as uow:
                if gone := await purge(uow, self.retention_days, tenant, self.retention_rules):
                    count += gone
                    await uow.commit()
        return count

    async def check_silence(self) -> int:
        async with self._reading() as conn:
            candidates = await silent_candidates(conn, self.silent_after_s)
        if not candidates:
            return 0
        async with self.uow() as uow:
            count = await mark_silent(uow, self.silent_after_s, candidates)
            await uow.commit()
        return count

    async def due(self) -> bool:
        """Whether enough is waiting, or has waited long enough, to compact now."""
        land = telemetry_landing
        async with self._reading() as conn:
            stmt = select(func.coalesce(func.sum(land.c.count), 0), func.min(land.c.received_at))
            waiting, oldest = (await conn.execute(stmt)).one()
        if not waiting:
            return False
        return int(waiting) >= self.min_readings or (utcnow() - oldest).total_seconds() >= self.max_age_s

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        while not stop.is_set():
            try:
                if await self.due():
                    started = asyncio.get_running_loop().time()
                    moved = await self.drain()
                    log.info(
                        "compacted %d readings in %.2fs", moved, asyncio.get_running_loop().time() - started
                    )
                await self.check_silence()
                now = asyncio.get_running_loop().time()
                if now - self._last_purge >= self.purge_every_s:
                    self._last_purge = now
                    purged = await self.purge()
                    if purged:
                        log.info("purged %d readings past retention", purged)
            except Exception:
                log.exception("telemetry compaction failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    def _group(self, rows: Sequence[Any]) -> dict[uuid.UUID, _Device]:
        """Each device's readings of these landing rows, sorted by time."""
        parts: dict[uuid.UUID, list[tuple[Columns, int, datetime]]] = {}
        for r in rows:
            parts.setdefault(r.tenant_id, []).append((decode_landing(r.blob), r.id, r.received_at))
        out: dict[uuid.UUID, _Device] = {}
        for tenant_id, items in parts.items():
            cols = concat([c for c, _, _ in items])
            row_ids = np.concatenate([np.full(len(c), rid, dtype=np.int64) for c, rid, _ in items])
            received_ms = np.concatenate(
                [np.full(len(c), int(at.timestamp() * 1000), dtype=np.int64) for c, _, at in items]
            )
            received = items[-1][2]
            order = np.lexsort((cols.ts_ms, cols.device_idx))
            dev, ts, row, seq = cols.device_idx[order], cols.ts_ms[order], row_ids[order], cols.seq[order]
            got = received_ms[order]
            metrics = {m: v[order] for m, v in cols.metrics.items()}
            starts = np.flatnonzero(np.r_[True, dev[1:] != dev[:-1]])
            ends = np.r_[starts[1:], len(dev)]
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                out[cols.devices[int(dev[a])]] = _Device(
                    tenant_id,
                    ts[a:b],
                    row[a:b],
                    seq[a:b],
                    {m: v[a:b] for m, v in metrics.items()},
                    received,
                    got[a:b],
                )
        return out

    async def _read_states(self, conn: AsyncConnection, devices: dict[uuid.UUID, _Device]) -> None:
        ids = list(devices)
        for start in range(0, len(ids), 500):
            stmt = select(*_STATE_COLUMNS).where(_s.c.device_id.in_(ids[start : start + 500]))
            for r in (await conn.execute(stmt)).mappings().all():
                devices[r["device_id"]].state = dict(r)

    async def _create_states(self, conn: AsyncConnection, devices: dict[uuid.UUID, _Device]) -> None:
        """States for devices seen for the first time (another compactor may have just made some)."""
        await self._read_states(conn, devices)
        new = [(dev, d) for dev, d in devices.items() if d.state is None]
        if not new:
            return
        await conn.execute(
            _s.insert(),
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
                    "late_count": 0,
                    "silent": 0,
                    "compacted_through": 0,
                }
                for dev, d in new
            ],
        )
        await self._read_states(conn, dict(new))

    def _parts(self, d: _Device) -> list[Series]:
        """The device's new readings as chunks of at most chunk_points readings."""
        size, n = self.chunk_points, len(d.ts)
        return [
            Series(d.ts[i : i + size], {m: v[i : i + size] for m, v in d.metrics.items()})
            for i in range(0, n, size)
        ]

    @staticmethod
    def _chunk_row(d: _Device, series: Series) -> dict[str, Any]:
        assert d.state is not None
        return {
            "tenant_id": d.tenant_id,
            "device_no": d.state["device_no"],
            "start_ms": int(series.ts_ms[0]),
            "end_ms": int(series.ts_ms[-1]),
            "count": len(series),
            "blob": encode_chunk(series),
        }

    @staticmethod
    def _state(d: _Device, last_row: int) -> dict[str, Any]:
        state = d.state
        assert state is not None
        ranges = SeqRanges(state["seq_ranges"])
        ranges.add_sorted(sorted(d.seq[d.seq >= 0].tolist()))
        last_values = dict(state["last_values"] or {})
        for name, values in d.metrics.items():
            ok = np.flatnonzero(~np.isnan(values))
            if len(ok):
                i = int(ok[-1])  # sorted by time: the newest value of this metric
                ts, value = int(d.ts[i]), float(values[i])
                known = last_values.get(name)
                if (known is None or ts >= known[0]) and math.isfinite(value):
                    last_values[name] = [ts, value]
        newest = int(d.ts[-1]) if len(d.ts) else state["last_ts_ms"]
        last_ts = state["last_ts_ms"]
        late = int(np.count_nonzero(d.received_ms - d.ts > LATE_AFTER_MS))
        skew = state.get("skew_ms")
        if len(d.ts):
            # The newest message's newest reading: the device's clock as it stands now.
            fresh = d.received_ms == d.received_ms.max()
            skew = int(d.ts[fresh].max() - d.received_ms.max())
        return {
            "skew_ms": skew,
            "late_count": int(state.get("late_count") or 0) + late,
            "b_device_no": state["device_no"],
            "last_seen_at": max(d.received_at, state["last_seen_at"]),
            "last_ts_ms": newest if last_ts is None else max(last_ts, newest or last_ts),
            "seq_ranges": ranges.as_list(),
            "last_values": last_values,
            "silent": 0,
            "compacted_through": max(last_row, state["compacted_through"]),
        }
