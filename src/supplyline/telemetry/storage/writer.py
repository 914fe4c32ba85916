"""The single telemetry writer: merges concurrent submissions into one transaction.

SQLite has one write lock; many requests each committing their own small transaction fight
over it and pay a sync each. One task that drains everything waiting and commits it together
(group commit) pays one sync for all of them. The writer also owns the duplicate-detection
state, so it needs no locks: only this task reads or changes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.db.dialect import upsert
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork, UnitOfWorkFactory
from supplyline.telemetry.events import DEVICE_FIRST_SEEN
from supplyline.telemetry.ingest.seqs import SeqRanges
from supplyline.telemetry.storage.codec import Columns, concat, decode_landing, encode_landing
from supplyline.telemetry.tables import telemetry_device_state, telemetry_landing, telemetry_rejection

log = logging.getLogger(__name__)
# Built once: a statement made per call (insert().values(...)) is keyed and looked up anew.
_INSERT_LANDING = telemetry_landing.insert()


class BatchEvaluator(Protocol):
    """Sees each group's readings inside its transaction (rules): what it writes and publishes
    commits with the readings, or not at all."""

    async def evaluate(
        self,
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        cols: Columns,
        codes: Mapping[uuid.UUID, str],
        correlations: Mapping[uuid.UUID, str],
    ) -> None:
        """``codes``: device id -> code; ``correlations``: device id -> the correlation id of
        the request that carried its readings, where one was given."""

    def discard(self) -> None:
        """The transaction failed: forget what was cached from it."""


@dataclass(frozen=True)
class Rejection:
    device_code: str
    reason: str
    detail: str = ""


@dataclass
class Submission:
    tenant_id: uuid.UUID
    cols: Columns
    events: list[NewEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    codes: dict[uuid.UUID, str] = field(default_factory=dict)  # device id -> code, for events
    correlations: dict[uuid.UUID, str] = field(default_factory=dict)  # device id -> request's
    future: asyncio.Future[npt.NDArray[np.bool_]] | None = None


class TelemetryWriter:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        engine: AsyncEngine | None = None,
        max_readings: int = 50_000,
        evaluators: Sequence[BatchEvaluator] = (),
    ) -> None:
        self.uow = uow
        # The writer keeps one connection: checking one out of the pool and resetting it on
        # return cost more than the group commit itself (two round trips to the driver's thread).
        self.engine = engine
        self._conn: AsyncConnection | None = None
        self.max_readings = max_readings
        self.evaluators: list[BatchEvaluator] = list(evaluators)
        self._queue: asyncio.Queue[Submission] = asyncio.Queue()
        # Keyed by the device id as an int: a UUID's hash is computed in Python on every lookup,
        # an int's in C, and this is looked up for every reading.
        self._seqs: dict[int, SeqRanges] = {}
        self._known: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        # What the writer's time goes to, logged at stop (the rules benchmark reads it).
        self.groups, self.writing_s, self.evaluating_s = 0, 0.0, 0.0
        self._loaded = False

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        # Two first submissions can both find no task: the lock keeps it to one writer task
        # (two would share the held connection and nest transactions).
        async with self._starting:
            if self._task is None:
                await self.load()
                self._task = asyncio.create_task(self._run(), name="telemetry-writer")

    async def stop(self) -> None:
        if self.groups:
            log.info(
                "telemetry writer: %d groups written in %.2f s, of which %.2f s evaluating rules",
                self.groups,
                self.writing_s,
                self.evaluating_s,
            )
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._release()

    async def _connection(self) -> AsyncConnection | None:
        if self._conn is None and self.engine is not None:
            self._conn = await self.engine.connect()
        return self._conn

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # it may be the broken one
                await conn.close()

    async def load(self) -> None:
        """Rebuild duplicate detection from device states plus the not yet compacted landing rows."""
        async with self.uow() as uow:
            await self._load(uow.conn)
        self._loaded = True

    async def _load(self, conn: AsyncConnection) -> None:
        s, land = telemetry_device_state, telemetry_landing
        self._seqs.clear()
        self._known.clear()
        for r in await conn.execute(select(s.c.device_id, s.c.seq_ranges)):
            self._known.add(r.device_id.int)
            self._seqs[r.device_id.int] = SeqRanges(r.seq_ranges)
        for r in await conn.execute(select(land.c.blob).order_by(land.c.id)):
            cols = decode_landing(r.blob)
            keys = [d.int for d in cols.devices]
            for dev_idx, seq in zip(cols.device_idx.tolist(), cols.seq.tolist(), strict=True):
                self._known.add(keys[dev_idx])
                if seq >= 0:
                    self._seqs.setdefault(keys[dev_idx], SeqRanges()).add(seq)

    # ---- submitting --------------------------------------------------------------------------

    async def submit(self, sub: Submission) -> npt.NDArray[np.bool_]:
        """Queue readings; returns which were stored (False: a duplicate) once committed."""
        if self._task is None:
            await self.start()
        sub.future = asyncio.get_running_loop().create_future()
        await self._queue.put(sub)
        return await sub.future

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            size = len(group[0].cols)
            while size < self.max_readings and not self._queue.empty():
                group.append(self._queue.get_nowait())
                size += len(group[-1].cols)
            try:
                await self._write(group)
            except Exception as exc:
                log.exception("telemetry write of %d submissions failed", len(group))
                await self._release()  # the next group starts on a fresh connection
                for evaluator in self.evaluators:
                    evaluator.discard()
                for sub in group:
                    if sub.future is not None and not sub.future.done():
                        sub.future.set_exception(exc)

    # ---- one group commit --------------------------------------------------------------------

    def _dedupe(self, sub: Submission, pending: dict[int, set[int]]) -> npt.NDArray[np.bool_]:
        cols = sub.cols
        keep = np.ones(len(cols), dtype=np.bool_)
        keys = [d.int for d in cols.devices]
        get, stored = pending.get, self._seqs.get
        for i, (dev_idx, seq) in enumerate(zip(cols.device_idx.tolist(), cols.seq.tolist(), strict=True)):
            if seq < 0:
                continue
            key = keys[dev_idx]
            ranges, seen = stored(key), get(key)
            if (ranges is not None and seq in ranges) or (seen is not None and seq in seen):
                keep[i] = False
            elif seen is None:
                pending[key] = {seq}
            else:
                seen.add(seq)
        return keep

    async def _write(self, group: list[Submission]) -> None:
        started = time.perf_counter()
        try:
            await self._write_group(group)
        finally:
            self.groups += 1
            self.writing_s += time.perf_counter() - started

    async def _write_group(self, group: list[Submission]) -> None:
        pending: dict[int, set[int]] = {}
        kept = [self._dedupe(sub, pending) for sub in group]
        now = utcnow()
        by_tenant: dict[uuid.UUID, list[Columns]] = {}
        new_devices: dict[uuid.UUID, tuple[uuid.UUID, str, int]] = {}
        for sub, keep in zip(group, kept, strict=True):
            if not keep.any():
                continue
            cols = sub.cols.take(keep) if not keep.all() else sub.cols
            by_tenant.setdefault(sub.tenant_id, []).append(cols)
            for dev_idx, ts in _first_reading_per_device(cols):
                device = cols.devices[dev_idx]
                if device.int not in self._known and device not in new_devices:
                    new_devices[device] = (sub.tenant_id, sub.codes.get(device, ""), ts)
        merged = {
            tenant: concat(parts) if len(parts) > 1 else parts[0] for tenant, parts in by_tenant.items()
        }
        async with self.uow(conn=await self._connection()) as uow:
            for tenant_id, cols in merged.items():
                await uow.conn.execute(_INSERT_LANDING, _landing_row(tenant_id, cols, now))
            for sub in group:
                for ev in sub.events:
                    uow.publish(ev)
                await self._count_rejections(uow.conn, sub.tenant_id, sub.rejections, now)
            for device, (tenant_id, code, ts) in new_devices.items():
                uow.publish(_first_seen(tenant_id, device, code, ts))
            if self.evaluators:
                # Looked up only for devices whose rules changed: chained, not merged.
                codes = ChainMap(*(sub.codes for sub in group))
                correlations = ChainMap(*(sub.correlations for sub in group))
                for tenant_id, cols in merged.items():
                    for evaluator in self.evaluators:
                        started = time.perf_counter()
                        await evaluator.evaluate(uow, tenant_id, cols, codes, correlations)
                        self.evaluating_s += time.perf_counter() - started
            await uow.commit()
        for key, seqs in pending.items():
            self._seqs.setdefault(key, SeqRanges()).add_sorted(sorted(seqs))
        self._known.update(d.int for d in new_devices)
        for sub, keep in zip(group, kept, strict=True):
            if sub.future is not None and not sub.future.done():
                sub.future.set_result(keep)

    async def _count_rejections(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, rejections: list[Rejection], now: datetime
    ) -> None:
        if not rejections:
            return
        counts: dict[tuple[str, str], tuple[int, str]] = {}
        for r in rejections:
            n, _ = counts.get((r.device_code, r.reason), (0, ""))
            counts[(r.device_code, r.reason)] = (n + 1, r.detail)
        t = telemetry_rejection
        for (code, reason), (n, detail) in counts.items():
            await upsert(
                conn,
                t,
                [
                    {
                        "tenant_id": tenant_id,
                        "device_code": code[:128],
                        "reason": reason,
                        "count": n,
                        "last_at": now,
                        "last_detail": detail[:1000],
                    }
                ],
                keys=("tenant_id", "device_code", "reason"),
                update=("last_at", "last_detail"),
                increment=("count",),
            )


def _first_reading_per_device(cols: Columns) -> list[tuple[int, int]]:
    idx, first = np.unique(cols.device_idx, return_index=True)
    return list(zip(idx.tolist(), cols.ts_ms[first].tolist(), strict=True))


def _landing_row(tenant_id: uuid.UUID, cols: Columns, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "received_at": now,
        "count": len(cols),
        "min_ts_ms": int(cols.ts_ms.min()),
        "max_ts_ms": int(cols.ts_ms.max()),
        "blob": encode_landing(cols),
    }


def _first_seen(tenant_id: uuid.UUID, device: uuid.UUID, code: str, ts_ms: int) -> NewEvent:
    at = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return NewEvent(
        type=DEVICE_FIRST_SEEN.type,
        tenant_id=tenant_id,
        subject=f"devices/{device}",
        source="/supplyline/telemetry",
        data={"device_id": str(device), "code": code, "first_reading_at": at.isoformat()},
    )
