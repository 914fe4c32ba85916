"""Rules meet every committed batch of readings, inside the same transaction.

The telemetry writer calls ``evaluate`` after it has written a group's landing row and before it
commits: rule states and the events of conditions that started or stopped holding commit with
the readings that caused them, or not at all. A tenant without rules costs one dictionary lookup.

Vectorised per batch: for each rule code, every row of the batch gets the index of the rule that
applies to its device (the most specific scope wins), and comparisons (threshold, duration,
cumulative) are computed for all rows at once. Only devices whose state could change (a value
crossed a limit, a duration is running, a reading came out of order) are stepped one by one;
the rest keep their state untouched. Other kinds (rate of change, geofence, heartbeat, all/any)
are stepped per device. Only states that changed are written.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.db.dialect import upsert
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.rules.compiled import CUMULATIVE, DURATION, HYSTERESIS, OTHER, THRESHOLD, RuleSet
from supplyline.rules.conditions import Area
from supplyline.rules.devices import NONE_YET, Devices, per_device
from supplyline.rules.engine import State, Transition
from supplyline.rules.events import CONDITION_CLEARED, CONDITION_RAISED
from supplyline.rules.scoping import Context
from supplyline.rules.tables import rules_rule, rules_state
from supplyline.telemetry import Columns, DeviceDirectory

log = logging.getLogger(__name__)
I64 = npt.NDArray[np.int64]
Key = tuple[uuid.UUID, uuid.UUID]  # (rule, device)


@dataclass
class _Tenant:
    loaded_at: float
    fingerprint: tuple[int, Any]
    rules: RuleSet
    context_at: float  # when places and shipments were last looked at
    # device row (see Devices) -> the rule index per code (-1: none applies); a row is worked
    # out again when it is not ``fresh`` (rules changed: a new _Tenant; places: every minute)
    matrix: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    fresh: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    # device row x metric (``rules.metrics``): the highest lower limit and the lowest upper
    # limit of its winning comparisons; a value strictly between cannot change a default state
    low: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    high: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    carried: dict[uuid.UUID, logistics.Carried] = field(default_factory=dict)
    places: dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]] = field(
        default_factory=dict
    )


class RuleEvaluator:
    def __init__(self, directory: DeviceDirectory, ttl: float = 2.0, live_window_s: float = 600) -> None:
        self.directory = directory  # device -> asset, as ingestion already caches it
        self.ttl = ttl  # rules are looked at again this often
        # Where devices are (asset, site) and what they carry (shipments, products) is looked
        # at again this often: re-resolving 10,000 devices every couple of seconds would cost.
        self.context_ttl = 30 * ttl
        self.live_window_ms = int(live_window_s * 1000)
        self._tenants: dict[uuid.UUID, _Tenant] = {}
        self._devices: dict[uuid.UUID, Devices] = {}
        # Non-default states only: a (rule, device) absent here starts from State().
        self._states: dict[Key, State] = {}
        self._loaded: set[uuid.UUID] = set()  # tenants whose stored states are in _states
        self._stated: dict[uuid.UUID, set[uuid.UUID]] = {}  # rule -> devices with a state
        self._rules_of: dict[uuid.UUID, set[uuid.UUID]] = {}  # device -> rules with a state
        self._swept = False

    def discard(self) -> None:
        """The transaction failed: what was cached may be ahead of the database."""
        self._states.clear()
        self._stated.clear()
        self._rules_of.clear()
        self._loaded.clear()
        self._tenants.clear()
        self._devices.clear()

    async def evaluate(
        self,
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        cols: Columns,
        codes: Mapping[uuid.UUID, str],
        correlations: Mapping[uuid.UUID, str],
    ) -> None:
        tenant = await self._tenant(uow.conn, tenant_id)
        if tenant is None or not len(cols):
            return
        devs = self._devices.setdefault(tenant_id, Devices())
        applies, batch_rows = await self._applies(uow.conn, tenant_id, tenant, devs, cols.devices)
        order = np.argsort(cols.device_idx, kind="stable")
        bounds = np.searchsorted(cols.device_idx[order], np.arange(len(cols.devices) + 1))
        # The oldest reading per device, for out-of-order checks.
        oldest = per_device(np.minimum, cols.ts_ms[order], bounds, np.iinfo(np.int64).max)
        newest = {m: devs.before(m, batch_rows) for m in tenant.rules.metrics}
        devs.record(cols, batch_rows, order, bounds)
        stated = self._stated_in_batch(tenant, devs, applies, batch_rows)
        work = self._screen(tenant, cols, applies, batch_rows, stated, oldest, newest)
        if not work:
            return
        live_after = int(time.time() * 1000) - self.live_window_ms
        changed: list[dict[str, Any]] = []
        now = utcnow()
        for r, d in work:
            rule, compiled = tenant.rules.rules[r], tenant.rules.compiled[r]
            assert compiled is not None
            device = cols.devices[d]
            rows = order[bounds[d] : bounds[d + 1]]
            state = self._state_for(tenant, rule, device)
            if tenant.rules.screen[r] == CUMULATIVE:
                state = self._budget_for(tenant, rule, device, state)
            if tenant.rules.screen[r] != OTHER:
                # A screened state is not stepped while nothing could change, so its newest
                # time may lag: readings older than the device's newest are still out of order.
                seen = int(newest[tenant.rules.metrics[tenant.rules.metric_of[r]]][d])
                if seen != NONE_YET and (state.last_ts_ms is None or state.last_ts_ms < seen):
                    state.last_ts_ms = seen
            before = state.as_dict()
            values = {m: cols.metrics[m][rows] for m in compiled.root.reads & cols.metrics.keys()}
            found = compiled.step(state, cols.ts_ms[rows], values, live_after)
            code = codes.get(device, "")
            for t in found:
                cid = correlations.get(device) or f"{code or device}@{t.at_ms}"
                uow.publish(_event(tenant_id, rule, device, code, t, cid))
            after = state.as_dict()
            # Kinds stepped one by one keep every reading's time (a heartbeat's silence runs
            # from it); screened comparisons store only changes that matter.
            if _moved(before, after) or tenant.rules.screen[r] == OTHER:
                changed.append(self._row(tenant, rule, device, state, after, now))
        await upsert(
            uow.conn, rules_state, changed, keys=("rule_id", "device_id"), update=("state", "updated_at")
        )

    def watches_silence(self) -> bool:
        """Whether a sweep may find something: a loaded tenant has a heartbeat-like rule, or
        none is loaded yet (after a start, the first sweep loads them)."""
        if not self._tenants or not self._swept:
            return True
        return any(c is not None and not c.metrics for t in self._tenants.values() for c in t.rules.compiled)

    async def sweep(self, uow: UnitOfWork, now_ms: int | None = None) -> int:
        """Time passing without readings: heartbeat conditions of quiet devices are raised.

        Every tenant with live rules is looked at, so a device that falls silent right after a
        restart is still noticed (its state, with its last reading's time, was stored)."""
        now_ms = now_ms or int(time.time() * 1000)
        live_after = now_ms - self.live_window_ms
        self._swept = True
        r = rules_rule
        tenants = await uow.conn.execute(select(r.c.tenant_id).where(r.c.archived_at.is_(None)).distinct())
        raised = 0
        for (tenant_id,) in tenants.all():
            tenant = await self._tenant(uow.conn, tenant_id)
            if tenant is None:
                continue
            changed = []
            for rule, compiled in zip(tenant.rules.rules, tenant.rules.compiled, strict=True):
                if compiled is None or compiled.metrics:
                    continue  # only conditions that any reading satisfies (heartbeats) go quiet
                for device in list(self._stated.get(rule["id"], ())):
                    state = self._states[(rule["id"], device)]
                    found = compiled.silence(state, now_ms, live_after)
                    for t in found:
                        uow.publish(_event(tenant_id, rule, device, "", t, f"silence:{device}@{t.at_ms}"))
                        raised += 1
                    if found:
                        changed.append(self._row(tenant, rule, device, state, state.as_dict(), utcnow()))
            await upsert(
                uow.conn, rules_state, changed, keys=("rule_id", "device_id"), update=("state", "updated_at")
            )
        return raised

    # ---- the vectorised screen ----------------------------------------------------------------

    def _stated_in_batch(
        self,
        tenant: _Tenant,
        devs: Devices,
        applies: npt.NDArray[np.int32],
        batch_rows: npt.NDArray[np.intp],
    ) -> dict[int, set[int]]:
        """code -> batch devices whose winning rule for it has a state: they may clear, or be
        running a duration, without a value beyond the limit in this batch."""
        rs = tenant.rules
        out: dict[int, set[int]] = {}
        for d in np.flatnonzero(devs.stated[batch_rows]).tolist():
            for rule_id in self._rules_of.get(devs.ids[batch_rows[d]], ()):
                ri = rs.position.get(rule_id)
                if ri is not None and applies[d, rs.code_of[ri]] == ri:
                    out.setdefault(rs.code_of[ri], set()).add(d)
        return out

    def _screen(
        self,
        tenant: _Tenant,
        cols: Columns,
        applies: npt.NDArray[np.int32],
        batch_rows: npt.NDArray[np.intp],
        stated: dict[int, set[int]],
        oldest: npt.NDArray[np.int64],
        newest: dict[str, npt.NDArray[np.int64]],
    ) -> list[tuple[int, int]]:
        """(rule index, batch device index) pairs to step exactly, code by code.

        Kinds stepped one by one take every device they apply to. Comparisons: only a device
        with a value beyond a limit, or a state that is not the default, can change. Each
        reading is first held against its device's envelope (the tightest limits of its
        winning rules, per metric): the few outside it, and the devices with a state, are then
        screened for every (reading, code) at once against each code's winning rule.
        """
        rs = tenant.rules
        found: list[tuple[int, int, int, int]] = []  # (code, device, rule, 0) then sorted
        n_dev, n_codes = applies.shape
        other = (applies >= 0) & (rs.screen[applies] == OTHER)
        if other.any():
            # Which of these rules the batch gives something to: judged once per rule.
            stepped = np.zeros(len(rs.screen), bool)
            for r in np.unique(applies[other]).tolist():
                compiled = rs.compiled[r]
                stepped[r] = compiled is not None and (
                    not compiled.metrics or bool(compiled.metrics & cols.metrics.keys())
                )
            for d, c in np.argwhere(other & stepped[applies]).tolist():
                found.append((c, d, int(applies[d, c]), 0))
        present = [i for i, m in enumerate(rs.metrics) if m in cols.metrics]
        if present and len(cols):
            row_of = batch_rows[cols.device_idx]
            near = np.zeros(len(cols), bool)
            for mi in present:
                value = cols.metrics[rs.metrics[mi]]
                near |= (value >= tenant.high[row_of, mi]) | (value <= tenant.low[row_of, mi])
            devices = set(np.unique(cols.device_idx[near]).tolist())
            devices.update(d for ds in stated.values() for d in ds)
            if devices:
                sel = np.flatnonzero(np.isin(cols.device_idx, np.fromiter(devices, np.int64, len(devices))))
                found += self._screen_comparisons(
                    rs, cols, sel, applies, stated, oldest, newest, n_dev, n_codes
                )
        found.sort()
        return [(r, d) for _, d, r, _ in found]

    def _screen_comparisons(
        self,
        rs: RuleSet,
        cols: Columns,
        sel: npt.NDArray[np.intp],
        applies: npt.NDArray[np.int32],
        stated: dict[int, set[int]],
        oldest: npt.NDArray[np.int64],
        newest: dict[str, npt.NDArray[np.int64]],
        n_dev: int,
        n_codes: int,
    ) -> list[tuple[int, int, int, int]]:
        """The exact screen of the readings ``sel``."""
        n = len(sel)
        nan = np.full(n, np.nan)
        # Every rule's metric as a column; the last column (index -1: no metric) is all NaN.
        table = np.column_stack(
            [cols.metrics[m][sel] if m in cols.metrics else nan for m in rs.metrics] + [nan]
        )
        device_idx = cols.device_idx[sel]
        rule = applies[device_idx]  # (reading, code) -> winning rule, -1: none
        value = np.take_along_axis(table, rs.metric_of[rule], axis=1)
        limit, rising, strict = rs.limit[rule], rs.rising[rule], rs.strict[rule]
        beyond = np.where(
            rising,
            np.where(strict, value > limit, value >= limit),
            np.where(strict, value < limit, value <= limit),
        )
        valid = ~np.isnan(value)
        clear = rs.clear_at[rule]
        back = np.where(rising, value <= clear, value >= clear)  # NaN clear_at: never back
        # (code, device) pairs as one number, code-major: flags per pair by counting.
        key = (np.arange(n_codes) * n_dev)[None, :] + device_idx[:, None]
        size = n_codes * n_dev
        any_beyond = np.bincount(key[beyond], minlength=size) > 0
        any_within = np.bincount(key[valid & ~beyond], minlength=size) > 0
        any_back = np.bincount(key[back], minlength=size) > 0
        candidates = set(np.flatnonzero(any_beyond).tolist())
        if stated:
            any_valid = any_within | any_beyond
            candidates.update(k for c, ds in stated.items() for d in ds if any_valid[k := c * n_dev + d])
        out: list[tuple[int, int, int, int]] = []
        for k in candidates:
            c, d = divmod(k, n_dev)
            ri = int(applies[d, c])
            state = self._states.get((rs.rules[ri]["id"], cols.devices[d]))
            flags = (bool(any_beyond[k]), bool(any_within[k]), bool(any_back[k]))
            seen = int(newest[rs.metrics[rs.metric_of[ri]]][d])
            if _may_change(int(rs.screen[ri]), state, *flags, int(oldest[d]), seen):
                out.append((c, d, ri, 0))
        return out

    # ---- context --------------------------------------------------------------------------------

    async def _tenant(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> _Tenant | None:
        found = self._tenants.get(tenant_id)
        if found is not None and time.monotonic() - found.loaded_at < self.ttl:
            return found if found.rules.rules else None
        r = rules_rule
        fingerprint_q = select(r.c.id, r.c.version).where(
            r.c.tenant_id == tenant_id, r.c.archived_at.is_(None)
        )
        fingerprint = tuple(sorted((row.id.int, row.version) for row in await conn.execute(fingerprint_q)))
        fp = (len(fingerprint), hash(fingerprint))
        if found is not None and found.fingerprint == fp:
            now = time.monotonic()
            found.loaded_at = now
            if now - found.context_at >= self.context_ttl:
                # Places and shipments may have moved; rules did not.
                found.context_at = now
                found.fresh[:] = False
                found.carried.clear()
                found.places.clear()
            return found if found.rules.rules else None
        stmt = select(r).where(r.c.tenant_id == tenant_id, r.c.archived_at.is_(None))
        rules = [dict(row) for row in (await conn.execute(stmt)).mappings()]
        sites = [uuid.UUID(s) for s in _geofence_sites(rules)]
        circles = await registry.site_circles(conn, Scope.system(tenant_id), sites) if sites else {}
        areas = {str(k): Area(circle=v, polygon=None) for k, v in circles.items()}
        previous = found
        found = _Tenant(time.monotonic(), fp, RuleSet.build(rules, areas), time.monotonic())
        self._tenants[tenant_id] = found
        if previous is not None:
            await self._forget_changed(conn, previous.rules.rules, rules)
        if tenant_id not in self._loaded and rules:
            await self._load_states(conn, tenant_id)
        return found if rules else None

    async def _applies(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        tenant: _Tenant,
        devs: Devices,
        devices: Sequence[uuid.UUID],
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.intp]]:
        """(batch device, code) -> index of the rule that applies, or -1; and each batch
        device's row (see Devices)."""
        rows = devs.rows_of(devices)
        if len(tenant.fresh) < len(devs.ids):
            have, grow = len(tenant.fresh), len(devs.ids) - len(tenant.fresh)
            codes, metrics = len(tenant.rules.codes), len(tenant.rules.metrics)
            tenant.matrix = np.r_[tenant.matrix.reshape(have, codes), np.full((grow, codes), -1, np.int32)]
            tenant.fresh = np.r_[tenant.fresh, np.zeros(grow, bool)]
            tenant.low = np.r_[tenant.low.reshape(have, metrics), np.full((grow, metrics), -np.inf)]
            tenant.high = np.r_[tenant.high.reshape(have, metrics), np.full((grow, metrics), np.inf)]
        stale = rows[~tenant.fresh[rows]]
        if len(stale):
            await self._resolve(conn, tenant_id, tenant, devs, np.unique(stale))
        return tenant.matrix[rows], rows

    async def _resolve(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        tenant: _Tenant,
        devs: Devices,
        rows: npt.NDArray[np.intp],
    ) -> None:
        """Work out again which rules win for these devices: where they are, what they carry."""
        scope = Scope.system(tenant_id)
        devices = [devs.ids[r] for r in rows.tolist()]
        asset_of: dict[uuid.UUID, uuid.UUID | None] = {}
        for device in devices:
            info = await self.directory.by_id(tenant_id, device)
            asset_of[device] = info.asset_id if info is not None else None
        assets = [a for a in set(asset_of.values()) if a is not None and a not in tenant.places]
        if assets:
            tenant.places.update(await registry.places_of_assets(conn, scope, assets))
        if any(r.get("product_id") for r in tenant.rules.rules) or (tenant.rules.screen == CUMULATIVE).any():
            tenant.carried.update(await logistics.carried_by(conn, scope, devices, utcnow()))
        for row, device in zip(rows.tolist(), devices, strict=True):
            asset = asset_of[device]
            site, region, asset_type = tenant.places.get(asset, (None, None, None)) if asset else (None,) * 3
            products = tenant.carried.get(device, logistics.Carried()).product_ids
            ctx = Context(region, site, asset_type, asset, products)
            tenant.matrix[row] = tenant.rules.index.winners(ctx)
        tenant.fresh[rows] = True
        # Each limit as the first value beyond it (a strict "> 8" is beyond from the next float
        # above 8), so that "value >= high" and "value <= low" never miss a reading beyond.
        rs, rules = tenant.rules, tenant.matrix[rows]
        rising, limit = rs.rising[rules], rs.limit[rules]
        first = np.where(rs.strict[rules], np.nextafter(limit, np.where(rising, np.inf, -np.inf)), limit)
        compared = (rules >= 0) & (rs.screen[rules] != OTHER)
        for mi in range(len(rs.metrics)):
            mine = compared & (rs.metric_of[rules] == mi)
            tenant.high[rows, mi] = np.where(mine & rising, first, np.inf).min(axis=1, initial=np.inf)
            tenant.low[rows, mi] = np.where(mine & ~rising, first, -np.inf).max(axis=1, initial=-np.inf)

    async def _forget_changed(
        self, conn: AsyncConnection, before: list[dict[str, Any]], after: list[dict[str, Any]]
    ) -> None:
        """A rule whose condition changed (or that was switched off and on) starts afresh: its
        states belong to the old definition. Its open alarms are cleared with the change as
        the reason by the actions consumer, so nothing in progress is dropped silently."""
        old = {r["id"]: (r["condition"], r["enabled"]) for r in before}
        stale = [r["id"] for r in after if r["id"] in old and old[r["id"]] != (r["condition"], r["enabled"])]
        stale += [rule_id for rule_id in old if rule_id not in {r["id"] for r in after}]
        for rule_id in stale:
            for device in self._stated.pop(rule_id, set()):
                self._states.pop((rule_id, device), None)
                self._rules_of.get(device, set()).discard(rule_id)
        if stale:
            await conn.execute(rules_state.delete().where(rules_state.c.rule_id.in_(stale)))

    # ---- states ---------------------------------------------------------------------------------

    def _state_for(self, tenant: _Tenant, rule: Mapping[str, Any], device: uuid.UUID) -> State:
        key = (rule["id"], device)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = State()
            self._mark(rule["tenant_id"], rule["id"], [device])
        return state

    def _mark(self, tenant_id: uuid.UUID, rule_id: uuid.UUID, devices: list[uuid.UUID]) -> None:
        """These devices have a state for the rule: batches look them up."""
        self._stated.setdefault(rule_id, set()).update(devices)
        for device in devices:
            self._rules_of.setdefault(device, set()).add(rule_id)
        devs = self._devices.setdefault(tenant_id, Devices())
        rows = devs.rows_of(devices)  # first: it may grow ``stated``
        devs.stated[rows] = True

    def _budget_for(self, tenant: _Tenant, rule: Mapping[str, Any], device: uuid.UUID, state: State) -> State:
        """A cumulative budget counts over the life of what the device travels with: a tracker
        moved to the next shipment starts that shipment's budget from zero. ``over: lot`` keys
        the budget by the lots of that shipment (a lot's time on another tracker is not added:
        the budget is per device)."""
        carried = tenant.carried.get(device, logistics.Carried())
        over = rule["condition"].get("over", "shipment")
        if over == "lot":
            key = ",".join(sorted(str(lot) for lot in carried.lot_ids)) or None
        else:
            key = str(carried.shipment_ids[0]) if carried.shipment_ids else None
        if state.over == key:
            return state
        fresh = State(over=key)
        self._states[(rule["id"], device)] = fresh
        return fresh

    def _row(
        self,
        tenant: _Tenant,
        rule: Mapping[str, Any],
        device: uuid.UUID,
        state: State,
        as_dict: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        return {
            "rule_id": rule["id"],
            "device_id": device,
            "tenant_id": rule["tenant_id"],
            "state": as_dict,
            "updated_at": now,
        }

    async def _load_states(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> None:
        """Every stored state of the tenant, once: absent pairs start fresh."""
        st = rules_state
        stmt = select(st.c.rule_id, st.c.device_id, st.c.state).where(st.c.tenant_id == tenant_id)
        for row in await conn.execute(stmt):
            if row.state:
                self._states.setdefault((row.rule_id, row.device_id), State.from_dict(row.state))
                self._mark(tenant_id, row.rule_id, [row.device_id])
        self._loaded.add(tenant_id)


def _may_change(
    kind: int, state: State | None, beyond: bool, within: bool, back: bool, oldest: int, seen: int
) -> bool:
    """Whether stepping this device's readings could change its state (beyond its newest time).

    ``seen``: the device's newest earlier reading of the metric. Conservative: True when unsure.
    A reading older than that is out of order and always stepped (it is recorded as late)."""
    if state is None:
        return beyond  # fresh: nothing holds, nothing is running
    if oldest < max(seen, state.last_ts_ms if state.last_ts_ms is not None else NONE_YET):
        return True
    if kind == THRESHOLD:
        return beyond if not state.holding else within
    if kind == HYSTERESIS:
        return beyond if not state.holding else back
    if kind == DURATION:
        if not state.holding:
            return beyond
        return within or not state.satisfied
    if kind == CUMULATIVE:
        return not state.satisfied and (beyond or state.last_beyond)
    return True


def _moved(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Worth writing: something other than the newest reading's time changed."""
    return {k: v for k, v in before.items() if k != "last_ts_ms"} != {
        k: v for k, v in after.items() if k != "last_ts_ms"
    } or (before.get("last_ts_ms") is None) != (after.get("last_ts_ms") is None)


def _geofence_sites(rules: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()

    def walk(node: Mapping[str, Any]) -> None:
        if node.get("kind") == "geofence" and node.get("site_id"):
            found.add(str(node["site_id"]))
        for child in node.get("conditions") or ():
            walk(child)

    for rule in rules:
        walk(rule["condition"])
    return found


def _event(
    tenant_id: uuid.UUID,
    rule: Mapping[str, Any],
    device: uuid.UUID,
    code: str,
    t: Transition,
    correlation_id: str,
) -> NewEvent:
    kind = CONDITION_RAISED if t.kind == "raised" else CONDITION_CLEARED
    value = t.value if t.value == t.value else 0.0  # NaN (no single value) is not JSON
    return NewEvent(
        type=kind.type,
        tenant_id=tenant_id,
        subject=f"rules/{rule['id']}",
        source="/supplyline/rules",
        data={
            "rule_id": str(rule["id"]),
            "code": rule["code"],
            "severity": rule["severity"],
            "device_id": str(device),
            "device": code,
            "metric": t.metric or "",
            "value": value,
            "at": datetime.fromtimestamp(t.at_ms / 1000, UTC).isoformat(),
            "late": t.late,
            "transition": t.kind,
        },
        actor="rules",
        correlation_id=correlation_id,
    )
