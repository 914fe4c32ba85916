"""The context a condition is evaluated in: where each device is (asset, site, region, asset
type) and what it travels with (shipments, their lots and products), and from that the rule
that wins for it per code.

Worked out per device row (see ``Devices``) and kept: re-resolving 10,000 devices every
couple of seconds would cost. A row is worked out again when it is not ``fresh``: the rules
changed (a new ``RuleSet`` gives a new context) or the context's time to live passed (places
and shipments may have moved).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.scope import Scope
from supplyline.rules.compiled import CUMULATIVE, RuleSet
from supplyline.rules.devices import Devices
from supplyline.rules.scoping import Context
from supplyline.rules.screen import envelope
from supplyline.telemetry import DeviceDirectory

Place = tuple[uuid.UUID | None, uuid.UUID | None, uuid.UUID | None]  # site, region, asset type


@dataclass
class TenantContext:
    rules: RuleSet
    built_at: datetime  # when places and shipments were last looked at
    # device row -> the rule index per code (-1: none applies)
    matrix: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    fresh: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    # device row x metric (``rules.metrics``): the envelope of its winning comparisons (see
    # ``screen.envelope``); a value strictly between cannot change a default state
    low: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    high: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 0)))
    carried: dict[uuid.UUID, logistics.Carried] = field(default_factory=dict)
    places: dict[uuid.UUID, Place] = field(default_factory=dict)

    def budget_key(self, rule: Mapping[str, Any], device: uuid.UUID) -> str | None:
        """What a cumulative budget is counted for: the device's shipment, or with ``over:
        lot`` the lots of that shipment (a lot's time on another tracker is not added: the
        budget is per device). A tracker moved to the next shipment starts from zero."""
        carried = self.carried.get(device, logistics.Carried())
        if rule["condition"].get("over", "shipment") == "lot":
            return ",".join(sorted(str(lot) for lot in carried.lot_ids)) or None
        return str(carried.shipment_ids[0]) if carried.shipment_ids else None


class Placements:
    """Each tenant's ``TenantContext``, looked at again every ``ttl`` seconds."""

    def __init__(self, directory: DeviceDirectory, ttl: float) -> None:
        self.directory = directory  # device -> asset, as ingestion already caches it
        self.ttl = ttl
        self._tenants: dict[uuid.UUID, TenantContext] = {}

    def clear(self) -> None:
        self._tenants.clear()

    def of(self, tenant_id: uuid.UUID, rules: RuleSet, now: datetime) -> TenantContext:
        found = self._tenants.get(tenant_id)
        if found is None or found.rules is not rules:
            found = self._tenants[tenant_id] = TenantContext(rules, now)
        elif not 0 <= (now - found.built_at).total_seconds() < self.ttl:
            # Places and shipments may have moved; rules did not.
            found.built_at = now
            found.fresh[:] = False
            found.carried.clear()
            found.places.clear()
        return found

    async def applies(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        ctx: TenantContext,
        devs: Devices,
        devices: Sequence[uuid.UUID],
        now: datetime,
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.intp]]:
        """(batch device, code) -> index of the rule that applies at ``now``, or -1; and each
        batch device's row (see Devices)."""
        rows = devs.rows_of(devices)
        if len(ctx.fresh) < len(devs.ids):
            have, grow = len(ctx.fresh), len(devs.ids) - len(ctx.fresh)
            codes, metrics = len(ctx.rules.codes), len(ctx.rules.metrics)
            ctx.matrix = np.r_[ctx.matrix.reshape(have, codes), np.full((grow, codes), -1, np.int32)]
            ctx.fresh = np.r_[ctx.fresh, np.zeros(grow, bool)]
            ctx.low = np.r_[ctx.low.reshape(have, metrics), np.full((grow, metrics), -np.inf)]
            ctx.high = np.r_[ctx.high.reshape(have, metrics), np.full((grow, metrics), np.inf)]
        stale = rows[~ctx.fresh[rows]]
        if len(stale):
            await self._resolve(conn, tenant_id, ctx, devs, np.unique(stale), now)
        return ctx.matrix[rows], rows

    async def _resolve(
        self,
        conn: AsyncConnection,
        tenant_id: uuid.UUID,
        ctx: TenantContext,
        devs: Devices,
        rows: npt.NDArray[np.intp],
        now: datetime,
    ) -> None:
        """Work out again which rules win for these devices: where they are, what they carry."""
        scope = Scope.system(tenant_id)
        devices = [devs.ids[r] for r in rows.tolist()]
        asset_of: dict[uuid.UUID, uuid.UUID | None] = {}
        for device in devices:
            info = await self.directory.by_id(tenant_id, device)
            asset_of[device] = info.asset_id if info is not None else None
        assets = [a for a in set(asset_of.values()) if a is not None and a not in ctx.places]
        if assets:
            ctx.places.update(await registry.places_of_assets(conn, scope, assets))
        rs = ctx.rules
        if any(r.get("product_id") for r in rs.rules) or (rs.screen == CUMULATIVE).any():
            ctx.carried.update(await logistics.carried_by(conn, scope, devices, now))
        for row, device in zip(rows.tolist(), devices, strict=True):
            asset = asset_of[device]
            site, region, asset_type = ctx.places.get(asset, (None, None, None)) if asset else (None,) * 3
            products = ctx.carried.get(device, logistics.Carried()).product_ids
            ctx.matrix[row] = rs.index.winners(Context(region, site, asset_type, asset, products))
        ctx.fresh[rows] = True
        ctx.low[rows], ctx.high[rows] = envelope(rs, ctx.matrix[rows])
