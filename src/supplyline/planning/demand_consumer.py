"""The ``planning.demand`` consumer: daily demand seen on the event log, kept in
``planning_demand`` (source ``events``) for every product at every site it left.

Demand is what logistics calls outbound (``logistics.daily_outbound``, what replenishment
reads): lots shipped from the site, on the day they left, and shipped sales-order lines from
the site that no shipment carries. Receipts are supply, not demand. Rather than add and subtract
each event's share, the consumer recomputes every (product, site) series an order or shipment
touches, now or before (``planning_demand_subject`` remembers which), from logistics' own
query: a changed quantity, a cancellation or a shipment that takes over an order's lines is then
corrected rather than doubled, a replay rebuilds the same table, and the series agrees with
``daily_outbound`` by construction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.eventlog import EventLog
from supplyline.kernel.clock import utcnow
from supplyline.kernel.events import TYPE_PREFIX, StoredEvent
from supplyline.kernel.scope import Scope
from supplyline.planning.demand_spike import spikes_of
from supplyline.planning.tables import planning_demand, planning_demand_subject

CONSUMER_NAME = "planning.demand"
SOURCE = "events"
_ACTIONS = ("created", "updated", "archived")
Pair = tuple[uuid.UUID, uuid.UUID]  # (product id, site id)


def _entity(event_type: str) -> str | None:
    """``supplyline.order.updated.v2`` -> ``order``; None for what the consumer does not take."""
    if not event_type.startswith(TYPE_PREFIX):
        return None
    parts = event_type[len(TYPE_PREFIX) :].split(".")
    if len(parts) != 3 or parts[0] not in ("order", "shipment") or parts[1] not in _ACTIONS:
        return None
    return parts[0]


def _record(event: StoredEvent) -> dict[str, Any]:
    data = event.data
    rec = data.get("record") if event.type.split(".")[2] == "updated" else data
    return rec if isinstance(rec, dict) else {}


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


class DemandProjection:
    """Implements ``supplyline.eventlog.Consumer`` over order and shipment events. With an event
    log it also publishes ``demand.spike_detected`` when a series' latest day stands out."""

    name = CONSUMER_NAME

    def __init__(self, log: EventLog | None = None) -> None:
        self.log = log

    def accepts(self, event_type: str) -> bool:
        return _entity(event_type) is not None

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        await self.handle_batch(conn, [event])

    async def handle_batch(self, conn: AsyncConnection, events: list[StoredEvent]) -> None:
        """The newest record of each order and shipment in the batch; orders first, so that a
        shipment finds the series of the order it carries."""
        newest: dict[uuid.UUID, dict[str, dict[str, Any]]] = {}
        for ev in events:
            if ev.tenant_id is not None and _entity(ev.type) is not None:
                newest.setdefault(ev.tenant_id, {})[ev.subject] = _record(ev)
        for tenant_id, records in newest.items():
            await self._tenant(conn, tenant_id, records)

    async def reset(self, conn: AsyncConnection) -> None:
        """Forget the seen demand (imported history stays: it is not built from the log)."""
        await conn.execute(delete(planning_demand).where(planning_demand.c.source == SOURCE))
        await conn.execute(delete(planning_demand_subject))

    async def _tenant(
        self, conn: AsyncConnection, tenant_id: uuid.UUID, records: Mapping[str, dict[str, Any]]
    ) -> None:
        before = await _fed(conn, tenant_id, records.keys())
        now: dict[str, set[Pair]] = {}
        for subject, rec in records.items():
            if subject.startswith("orders/"):
                now[subject] = _order_pairs(rec)
        await _remember(conn, tenant_id, now)
        shipments = {s: r for s, r in records.items() if s.startswith("shipments/")}
        lot_ids = [i for r in shipments.values() for i in _lot_ids(r)]
        products = {
            k: v["product_id"] for k, v in (await logistics.lot_details(conn, tenant_id, lot_ids)).items()
        }
        orders = {f"orders/{r.get('order_id')}" for r in shipments.values() if r.get("order_id")}
        of_orders = await _fed(conn, tenant_id, orders)
        for subject, rec in shipments.items():
            site = _uuid(rec.get("origin_site_id"))
            pairs = {(products[lot], site) for lot in _lot_ids(rec) if lot in products and site is not None}
            now[subject] = pairs | of_orders.get(f"orders/{rec.get('order_id')}", set())
        await _remember(conn, tenant_id, {s: p for s, p in now.items() if s in shipments})
        touched = set().union(*before.values(), *now.values()) if (before or now) else set()
        await _recompute(conn, tenant_id, touched)
        if self.log is not None and touched:
            spikes = await spikes_of(conn, tenant_id, touched)
            if spikes:
                await self.log.append(conn, spikes, spikes[0].correlation_id or "")


def _order_pairs(rec: Mapping[str, Any]) -> set[Pair]:
    """The series a sales order can feed: each line's product at the site it ships from."""
    site = _uuid(rec.get("from_site_id"))
    if rec.get("kind") != "sales" or site is None:
        return set()
    lines = rec.get("lines") or []
    return {
        (p, site) for ln in lines if isinstance(ln, dict) and (p := _uuid(ln.get("product_id"))) is not None
    }


def _lot_ids(rec: Mapping[str, Any]) -> list[uuid.UUID]:
    lots = rec.get("lots") or []
    return [i for ln in lots if isinstance(ln, dict) and (i := _uuid(ln.get("lot_id"))) is not None]


async def _fed(conn: AsyncConnection, tenant_id: uuid.UUID, subjects: Iterable[str]) -> dict[str, set[Pair]]:
    """The series each of these subjects fed when last seen."""
    t = planning_demand_subject
    out: dict[str, set[Pair]] = {}
    wanted = sorted(set(subjects))
    for i in range(0, len(wanted), 500):
        stmt = select(t.c.subject, t.c.product_id, t.c.site_id).where(
            t.c.tenant_id == tenant_id, t.c.subject.in_(wanted[i : i + 500])
        )
        for r in await conn.execute(stmt):
            out.setdefault(r.subject, set()).add((r.product_id, r.site_id))
    return out


async def _remember(conn: AsyncConnection, tenant_id: uuid.UUID, pairs: Mapping[str, set[Pair]]) -> None:
    t = planning_demand_subject
    subjects = sorted(pairs)
    for i in range(0, len(subjects), 500):
        await conn.execute(
            delete(t).where(t.c.tenant_id == tenant_id, t.c.subject.in_(subjects[i : i + 500]))
        )
    rows = [
        {"tenant_id": tenant_id, "subject": s, "product_id": p, "site_id": site}
        for s, ps in pairs.items()
        for p, site in ps
    ]
    if rows:
        await conn.execute(insert(t), rows)


async def _recompute(conn: AsyncConnection, tenant_id: uuid.UUID, pairs: Iterable[Pair]) -> None:
    """Each series again from logistics' outbound query, over the tenant's whole history."""
    scope = Scope.system(tenant_id, CONSUMER_NAME)
    d, now = planning_demand, utcnow()
    for product_id, site_id in sorted(pairs):
        days = await logistics.daily_outbound(conn, scope, product_id, site_id, date.min)
        await conn.execute(
            delete(d).where(
                d.c.tenant_id == tenant_id,
                d.c.product_id == product_id,
                d.c.site_id == site_id,
                d.c.source == SOURCE,
            )
        )
        rows = [
            {
                "tenant_id": tenant_id,
                "product_id": product_id,
                "site_id": site_id,
                "day": day,
                "source": SOURCE,
                "quantity": float(q),
                "updated_at": now,
            }
            for day, q in sorted(days.items())
            if q
        ]
        if rows:
            await conn.execute(insert(d), rows)
