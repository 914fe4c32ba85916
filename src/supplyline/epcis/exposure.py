"""What a forward trace exposes, gathered into the recall answer (``Exposure``).

Lots and serials are the trace's object nodes (seeds included), containers its carrier nodes.
Shipments, orders, sites and customers come from two sides that complement each other: the
platform's own records of the exposed lots (``logistics``: shipment lots, order lines, the
orders' organisations) and what the EPCIS custody events of every exposed identifier say
(shipping events, business transactions, business locations and destinations, owning parties,
the platform records they refer to).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.epcis.custody import CustodyEvent
from supplyline.epcis.store import canonical_term
from supplyline.epcis.traceability import Lineage, Node

SHIPPING = canonical_term("shipping", "BizStep-")
OWNING_PARTY = canonical_term("owning_party", "SDT-")


@dataclass
class Exposure:
    seeds: list[str]
    lots: list[dict[str, Any]] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    shipping_events: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    biz_transactions: list[dict[str, str]] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)  # platform site ids
    locations: list[str] = field(default_factory=list)  # bizLocation and destination identifiers
    customers: list[str] = field(default_factory=list)  # platform organisation ids
    parties: list[str] = field(default_factory=list)  # owning parties of the destinations
    edges: list[dict[str, Any]] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)

    def platform_lots(self) -> list[uuid.UUID]:
        return sorted({uuid.UUID(lot["lot_id"]) for lot in self.lots if lot["lot_id"] is not None})

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _lot_entry(node: Node | None, lot: logistics.LotIdentity | None) -> dict[str, Any]:
    quantity = node.quantity if node is not None else None
    uom = node.uom if node is not None else None
    if quantity is None and lot is not None:
        quantity, uom = lot.quantity, lot.unit
    return {
        "identifier": None if node is None else node.id,
        "lot_id": None if lot is None else str(lot.lot_id),
        "lot_code": None if lot is None else lot.lot_code,
        "quantity": quantity,
        "uom": uom,
        "hops": 0 if node is None else node.hops,
    }


def _shipping_event(e: CustodyEvent, ids: list[str]) -> dict[str, Any]:
    return {**e.as_dict(), "ids": sorted(ids)}


def _custody(lineage: Lineage, exposure: Exposure) -> dict[str, set[uuid.UUID]]:
    """Read what the custody events say into the exposure; returns their platform refs by kind."""
    refs: dict[str, set[uuid.UUID]] = {}
    shipped: dict[int, tuple[CustodyEvent, list[str]]] = {}
    btx: set[tuple[str, str]] = set()
    locations: set[str] = set()
    parties: set[str] = set()
    for node in lineage.nodes:
        for e in node.custody:
            if e.biz_step == SHIPPING:
                shipped.setdefault(e.seq, (e, []))[1].append(node.id)
            btx |= set(e.biz_transactions)
            locations |= {e.biz_location} if e.biz_location else set()
            locations |= {v for _, v in e.destinations}
            parties |= {v for t, v in e.destinations if t == OWNING_PARTY}
            for kind, ref in e.refs:
                refs.setdefault(kind, set()).add(ref)
    exposure.shipping_events = [_shipping_event(e, ids) for _, (e, ids) in sorted(shipped.items())]
    exposure.biz_transactions = [{"type": t, "bizTransaction": v} for t, v in sorted(btx)]
    exposure.locations = sorted(locations)
    exposure.parties = sorted(parties)
    return refs


async def _platform(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    exposure: Exposure,
    lot_ids: list[uuid.UUID],
    refs: dict[str, set[uuid.UUID]],
) -> None:
    shipments: dict[uuid.UUID, dict[str, Any]] = {}
    sites: set[uuid.UUID] = set(refs.get("site", set()))
    for s in await logistics.shipments_of_lots(conn, tenant_id, lot_ids):
        entry = shipments.setdefault(
            s.shipment_id, {"shipment_id": str(s.shipment_id), "number": s.number, "lots": []}
        )
        entry["lots"].append({"lot_id": str(s.lot_id), "quantity": s.quantity, "unit": s.unit})
        sites.add(s.destination_site_id)
    extra = sorted(refs.get("shipment", set()) - shipments.keys())
    for sid, number in (await logistics.shipment_numbers(conn, tenant_id, extra)).items():
        shipments[sid] = {"shipment_id": str(sid), "number": number, "lots": []}
    orders: dict[uuid.UUID, dict[str, Any]] = {}
    customers: set[uuid.UUID] = set()
    for line in await logistics.order_lines_of_lots(conn, tenant_id, lot_ids):
        entry = orders.setdefault(
            line.order_id,
            {"order_id": str(line.order_id), "number": line.number, "kind": line.kind, "lines": []},
        )
        entry["lines"].append({"lot_id": str(line.lot_id), "quantity": line.quantity, "unit": line.unit})
        if line.kind == "sales" and line.organization_id is not None:
            customers.add(line.organization_id)
        if line.to_site_id is not None:
            sites.add(line.to_site_id)
    for oid in sorted(refs.get("order", set()) - orders.keys()):
        orders[oid] = {"order_id": str(oid), "number": None, "kind": None, "lines": []}
    exposure.shipments = [shipments[k] for k in sorted(shipments, key=lambda k: shipments[k]["number"] or "")]
    exposure.orders = [orders[k] for k in sorted(orders, key=str)]
    exposure.sites = sorted(str(s) for s in sites)
    exposure.customers = sorted(str(c) for c in customers)


async def build_exposure(
    conn: AsyncConnection, tenant_id: uuid.UUID, lineage: Lineage, seed_lots: set[uuid.UUID]
) -> Exposure:
    """The recall answer of a forward trace (``seed_lots``: platform lots named as seeds)."""
    exposure = Exposure(seeds=lineage.start)
    named = {n.lot_id for n in lineage.nodes if n.lot_id is not None and n.role != "carrier"}
    lots = await logistics.lot_identities(conn, tenant_id, seed_lots | named)
    for node in lineage.nodes:
        if node.role == "carrier":
            exposure.containers.append({"identifier": node.id, "hops": node.hops})
        else:
            exposure.lots.append(_lot_entry(node, None if node.lot_id is None else lots.get(node.lot_id)))
    exposure.lots += [_lot_entry(None, lots[lot]) for lot in sorted(seed_lots - named) if lot in lots]
    exposure.edges = [e.as_dict() for e in lineage.edges]
    refs = _custody(lineage, exposure)
    await _platform(conn, tenant_id, exposure, exposure.platform_lots(), refs)
    return exposure
