"""Rules meet every committed batch of readings, inside the same transaction.

The telemetry writer calls ``evaluate`` after it has written a group's landing row and before it
commits: rule states and the events of conditions that started or stopped holding commit with
the readings that caused them, or not at all. A tenant without rules costs one dictionary lookup.

The evaluator only orchestrates: the tenant's rules and states (``rules.state``), where each
device is and which rule wins for it (``rules.context``), which pairs could change
(``rules.screen``), stepping those exactly (``rules.engine``) and what that leaves behind
(``rules.effects``). Time comes from one clock, given at construction and read once a batch:
it decides which transitions are live or late, what a silence is, and the times written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import numpy as np

from supplyline.kernel.clock import Clock, epoch_ms
from supplyline.kernel.uow import UnitOfWork
from supplyline.rules.compiled import CUMULATIVE, OTHER, RuleSet
from supplyline.rules.context import Placements, TenantContext
from supplyline.rules.devices import NONE_YET, per_device
from supplyline.rules.effects import Effects, moved
from supplyline.rules.engine import State
from supplyline.rules.screen import Batch, candidates
from supplyline.rules.state import RuleCache, RuleStates
from supplyline.telemetry import Columns, DeviceDirectory

# A transition older than this (a gateway replaying hours of backlog) is recorded as late for
# compliance rather than raised as if it were happening now.
LIVE_WINDOW_MS = 600_000


class RuleEvaluator:
    def __init__(self, directory: DeviceDirectory, clock: Clock, ttl: float = 2.0) -> None:
        """``ttl``: rules are compared with the database this often (seconds); where devices
        are and what they carry, 30 times less often."""
        self.clock = clock
        self.states = RuleStates()
        self.rules = RuleCache(self.states, ttl)
        self.placements = Placements(directory, 30 * ttl)
        self._swept = False

    def discard(self) -> None:
        """The transaction failed: what was cached may be ahead of the database."""
        self.states.clear()
        self.rules.clear()
        self.placements.clear()

    async def evaluate(
        self,
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        cols: Columns,
        codes: Mapping[uuid.UUID, str],
        correlations: Mapping[uuid.UUID, str],
    ) -> None:
        now = self.clock()
        rs = await self.rules.get(uow.conn, tenant_id, now)
        if rs is None or not len(cols):
            return
        ctx = self.placements.of(tenant_id, rs, now)
        devs = self.states.devices(tenant_id)
        applies, rows = await self.placements.applies(uow.conn, tenant_id, ctx, devs, cols.devices, now)
        order = np.argsort(cols.device_idx, kind="stable")
        bounds = np.searchsorted(cols.device_idx[order], np.arange(len(cols.devices) + 1))
        batch = Batch(
            cols,
            applies,
            rows,
            order,
            bounds,
            # The oldest reading per device, for out-of-order checks.
            oldest=per_device(np.minimum, cols.ts_ms[order], bounds, np.iinfo(np.int64).max),
            newest={m: devs.before(m, rows) for m in rs.metrics},
        )
        devs.record(cols, rows, order, bounds)
        work = candidates(rs, self.states, devs, batch, ctx.low, ctx.high)
        if not work:
            return
        effects = Effects(uow, tenant_id, now)
        live_after = epoch_ms(now) - LIVE_WINDOW_MS
        for r, d in work:
            self._step(rs, ctx, batch, r, d, live_after, effects, codes, correlations)
        await effects.write()

    def _step(
        self,
        rs: RuleSet,
        ctx: TenantContext,
        batch: Batch,
        r: int,
        d: int,
        live_after: int,
        effects: Effects,
        codes: Mapping[uuid.UUID, str],
        correlations: Mapping[uuid.UUID, str],
    ) -> None:
        """One (rule, device) pair through its readings of the batch."""
        rule, compiled = rs.rules[r], rs.compiled[r]
        assert compiled is not None
        cols, device = batch.cols, batch.cols.devices[d]
        rows = batch.order[batch.bounds[d] : batch.bounds[d + 1]]
        state = self.states.of(rule, device)
        if rs.screen[r] == CUMULATIVE:
            key = ctx.budget_key(rule, device)
            if state.over != key:
                state = self.states.restart(rule["id"], device, State(over=key))
        if rs.screen[r] != OTHER:
            # A screened state is not stepped while nothing could change, so its newest time
            # may lag: readings older than the device's newest are still out of order.
            seen = int(batch.newest[rs.metrics[rs.metric_of[r]]][d])
            if seen != NONE_YET and (state.last_ts_ms is None or state.last_ts_ms < seen):
                state.last_ts_ms = seen
        before = state.as_dict()
        values = {m: cols.metrics[m][rows] for m in compiled.root.reads & cols.metrics.keys()}
        code = codes.get(device, "")
        for t in compiled.step(state, cols.ts_ms[rows], values, live_after):
            effects.transition(
                rule, device, code, t, correlations.get(device) or f"{code or device}@{t.at_ms}"
            )
        after = state.as_dict()
        # Kinds stepped one by one keep every reading's time (a heartbeat's silence runs from
        # it); screened comparisons store only changes that matter.
        if moved(before, after) or rs.screen[r] == OTHER:
            effects.changed(rule, device, after)

    def watches_silence(self) -> bool:
        """Whether a sweep may find something: a loaded tenant has a heartbeat-like rule, or
        none is loaded yet (after a start, the first sweep loads them)."""
        loaded = self.rules.loaded()
        if not loaded or not self._swept:
            return True
        return any(c is not None and not c.metrics for rs in loaded for c in rs.compiled)

    async def sweep(self, uow: UnitOfWork) -> int:
        """Time passing without readings: heartbeat conditions of quiet devices are raised.

        Every tenant with live rules is looked at, so a device that falls silent right after a
        restart is still noticed (its state, with its last reading's time, was stored)."""
        now = self.clock()
        self._swept = True
        raised = 0
        for tenant_id in await self.rules.live_tenants(uow.conn):
            rs = await self.rules.get(uow.conn, tenant_id, now)
            if rs is not None:
                raised += await self._sweep_tenant(uow, tenant_id, rs, now)
        return raised

    async def _sweep_tenant(self, uow: UnitOfWork, tenant_id: uuid.UUID, rs: RuleSet, now: datetime) -> int:
        now_ms = epoch_ms(now)
        effects = Effects(uow, tenant_id, now)
        for rule, compiled in zip(rs.rules, rs.compiled, strict=True):
            if compiled is None or compiled.metrics:
                continue  # only conditions that any reading satisfies (heartbeats) go quiet
            for device, state in self.states.stated(rule["id"]):
                found = compiled.silence(state, now_ms, now_ms - LIVE_WINDOW_MS)
                for t in found:
                    effects.transition(rule, device, "", t, f"silence:{device}@{t.at_ms}")
                if found:
                    effects.changed(rule, device, state.as_dict())
        await effects.write()
        return effects.published
