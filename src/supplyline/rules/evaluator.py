"""Rules meet every committed batch of readings, inside the same transaction.

The telemetry writer calls ``evaluate`` after it has written a group's landing row and before it
commits: rule states and the events of conditions that started or stopped holding commit with
the readings that caused them, or not at all. Nothing is lost in between and nothing needs
replaying. A tenant without rules costs one dictionary lookup.

Evaluated here so far: threshold (with hysteresis) and duration conditions, per device, for the
rule of each code that applies where the device is (its asset's site, region and asset type).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.db.dialect import upsert
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import NewEvent
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.rules.engine import Comparison, State, Transition
from supplyline.rules.events import CONDITION_CLEARED, CONDITION_RAISED
from supplyline.rules.scoping import Context, effective
from supplyline.rules.tables import rules_rule, rules_state
from supplyline.telemetry.codec import Columns
from supplyline.telemetry.directory import DeviceDirectory
from supplyline.telemetry.metrics import CANONICAL_METRICS

log = logging.getLogger(__name__)
EVALUATED = ("threshold", "duration")


@dataclass
class _Tenant:
    loaded_at: float
    rules: list[dict[str, Any]]
    compiled: dict[uuid.UUID, Comparison]
    # asset -> (site, region, asset type), read again with the rules every ttl seconds
    places: dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]] = field(
        default_factory=dict
    )


class RuleEvaluator:
    def __init__(self, directory: DeviceDirectory, ttl: float = 2.0, live_window_s: float = 600) -> None:
        self.directory = directory  # device -> asset, as ingestion already caches it
        self.ttl = ttl  # rules and places are read again this often
        self.live_window_ms = int(live_window_s * 1000)
        self._tenants: dict[uuid.UUID, _Tenant] = {}
        self._states: dict[tuple[uuid.UUID, uuid.UUID], State] = {}

    def discard(self) -> None:
        """The transaction failed: what was cached may be ahead of the database."""
        self._states.clear()
        self._tenants.clear()

    async def evaluate(
        self, uow: UnitOfWork, tenant_id: uuid.UUID, cols: Columns, codes: dict[uuid.UUID, str]
    ) -> None:
        tenant = await self._tenant(uow.conn, tenant_id)
        if not tenant.rules or not len(cols):
            return
        live_after = int(time.time() * 1000) - self.live_window_ms
        order = np.argsort(cols.device_idx, kind="stable")
        idx = cols.device_idx[order]
        bounds = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1], True])
        work: list[tuple[Mapping[str, Any], Comparison, uuid.UUID, npt.NDArray[np.intp]]] = []
        infos = await self._places(uow.conn, tenant_id, tenant, cols)
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            device = cols.devices[int(idx[a])]
            for rule in effective(tenant.rules, infos.get(device, Context())).values():
                comparison = tenant.compiled.get(rule["id"])
                if comparison is not None and comparison.metric in cols.metrics:
                    work.append((rule, comparison, device, order[a:b]))
        if not work:
            return
        await self._load_states(uow.conn, [(rule["id"], device) for rule, _, device, _ in work])
        changed: list[dict[str, Any]] = []
        now = utcnow()
        for rule, comparison, device, rows in work:
            state = self._states.setdefault((rule["id"], device), State())
            found = comparison.step(
                state, cols.ts_ms[rows], cols.metrics[comparison.metric][rows], live_after
            )
            for t in found:
                uow.publish(_event(tenant_id, rule, device, codes.get(device, ""), comparison.metric, t))
            changed.append(
                {
                    "rule_id": rule["id"],
                    "device_id": device,
                    "tenant_id": tenant_id,
                    "state": state.as_dict(),
                    "updated_at": now,
                }
            )
        await upsert(
            uow.conn, rules_state, changed, keys=("rule_id", "device_id"), update=("state", "updated_at")
        )

    async def _tenant(self, conn: AsyncConnection, tenant_id: uuid.UUID) -> _Tenant:
        found = self._tenants.get(tenant_id)
        if found is not None and time.monotonic() - found.loaded_at < self.ttl:
            return found
        r = rules_rule
        stmt = select(r).where(r.c.tenant_id == tenant_id, r.c.archived_at.is_(None))
        rules = [dict(row) for row in (await conn.execute(stmt)).mappings()]
        compiled = {}
        for rule in rules:
            node = rule["condition"]
            if node.get("kind") in EVALUATED:
                try:
                    compiled[rule["id"]] = Comparison(node, CANONICAL_METRICS)
                except Exception:  # a profile-declared metric; evaluated once profiles are wired in
                    log.debug("rule %s not evaluated yet: %s", rule["id"], node.get("metric"))
        found = _Tenant(time.monotonic(), rules, compiled)
        self._tenants[tenant_id] = found
        return found

    async def _places(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, tenant: _Tenant, cols: Columns
    ) -> dict[uuid.UUID, Context]:
        """Where each device of the batch is: its asset's site, region and asset type."""
        asset_of: dict[uuid.UUID, uuid.UUID | None] = {}
        for device in cols.devices:
            info = await self.directory.by_id(tenant_id, device)
            asset_of[device] = info.asset_id if info is not None else None
        missing = [a for a in set(asset_of.values()) if a is not None and a not in tenant.places]
        if missing:
            tenant.places.update(await registry.places_of_assets(conn, Scope.system(tenant_id), missing))
        out = {}
        for device, asset in asset_of.items():
            site, region, asset_type = tenant.places.get(asset, (None, None, None)) if asset else (None,) * 3
            out[device] = Context(region, site, asset_type, asset)
        return out

    async def _load_states(self, conn: AsyncConnection, keys: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
        missing = [k for k in keys if k not in self._states]
        if not missing:
            return
        st = rules_state
        devices = list({device for _, device in missing})
        rule_ids = list({rule for rule, _ in missing})
        stmt = select(st.c.rule_id, st.c.device_id, st.c.state).where(
            st.c.rule_id.in_(rule_ids), st.c.device_id.in_(devices)
        )
        for row in await conn.execute(stmt):
            self._states.setdefault((row.rule_id, row.device_id), State.from_dict(row.state))


def _event(
    tenant_id: uuid.UUID, rule: Mapping[str, Any], device: uuid.UUID, code: str, metric: str, t: Transition
) -> NewEvent:
    kind = CONDITION_RAISED if t.kind == "raised" else CONDITION_CLEARED
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
            "metric": metric,
            "value": t.value,
            "at": datetime.fromtimestamp(t.at_ms / 1000, UTC).isoformat(),
            "late": t.late,
            "transition": t.kind,
        },
        actor="rules",
    )
