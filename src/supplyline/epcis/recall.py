"""The recall answer: everything downstream of some lots, serials or a supplier's batch.

Seeds resolve to identifiers (a platform lot to its LGTIN and the identifiers its events name),
the forward trace runs to its fixpoint, and the exposure is read off the nodes: the lots and
serials (with their platform lots), the containers that carried them, the platform shipments
and order lines of the exposed lots, the EPCIS shipping events and business transactions naming
what is exposed, the sites they went to, and the customers: organisations of sales orders and
the owning parties of the events' destinations. With ``hold`` every exposed platform lot is put
on hold through logistics in the caller's unit of work, the same hold the rules place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics
from supplyline.epcis.exposure import Exposure, build_exposure
from supplyline.epcis.identity import identifiers_of_lots
from supplyline.epcis.store import canonical_id
from supplyline.epcis.traceability import trace
from supplyline.kernel.errors import Invalid, NotFound
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

__all__ = ["Exposure", "RecallSeeds", "SupplierBatch", "recall", "resolve_lot"]


@dataclass(frozen=True)
class SupplierBatch:
    organization_id: uuid.UUID
    lot_code: str


@dataclass(frozen=True)
class RecallSeeds:
    lots: list[str] = field(default_factory=list)  # platform lot ids, or LGTIN / SGTIN identifiers
    serials: list[str] = field(default_factory=list)  # SGTIN (or any instance identifier)
    supplier_batch: SupplierBatch | None = None


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _identifier(value: str, name: str) -> str:
    """An identifier URI (EPC URN, Digital Link, any URI) in canonical form."""
    value = value.strip()
    if ":" not in value or any(c.isspace() for c in value):
        raise Invalid(name, "is a platform lot id or an identifier URI (EPC URN or GS1 Digital Link)")
    return canonical_id(value)


async def resolve_lot(
    conn: AsyncConnection, tenant_id: uuid.UUID, value: str, name: str
) -> tuple[list[str], set[uuid.UUID]]:
    """A lot given by platform id or identifier: its identifiers, and the platform lot if by id."""
    lot_id = _as_uuid(value)
    if lot_id is None:
        return [_identifier(value, name)], set()
    found = await identifiers_of_lots(conn, tenant_id, [lot_id])
    if lot_id not in found:
        raise NotFound(f"no lot {lot_id}")
    return found[lot_id], {lot_id}


async def _seed_ids(
    conn: AsyncConnection, tenant_id: uuid.UUID, seeds: RecallSeeds
) -> tuple[list[str], set[uuid.UUID]]:
    """The seeds' identifiers and platform lots, in a few batched queries whatever their number."""
    by_id = {i: lot for i, v in enumerate(seeds.lots) if (lot := _as_uuid(v)) is not None}
    ids = [_identifier(v, f"lots[{i}]") for i, v in enumerate(seeds.lots) if i not in by_id]
    ids += [_identifier(v, f"serials[{i}]") for i, v in enumerate(seeds.serials)]
    lots = set(by_id.values())
    batch = seeds.supplier_batch
    if batch is not None:
        delivered = await logistics.supplier_batch_lots(
            conn, tenant_id, batch.organization_id, batch.lot_code
        )
        lots |= {lot.lot_id for lot in delivered}
    names = await identifiers_of_lots(conn, tenant_id, lots)
    missing = sorted(i for i, lot in by_id.items() if lot not in names)
    if missing:
        raise NotFound(f"no lot {by_id[missing[0]]} (lots[{missing[0]}])")
    for found in names.values():
        ids += found
    return list(dict.fromkeys(ids)), lots


async def recall(uow: UnitOfWork, scope: Scope, seeds: RecallSeeds, hold: bool, reason: str) -> Exposure:
    """Every lot, container, shipment, order, site and customer downstream of ``seeds``; with
    ``hold``, every exposed platform lot on hold (a lot already held keeps its hold, so a second
    recall of the same seeds makes no new one)."""
    scope.require("traceability", Action.WRITE if hold else Action.READ)
    if hold:
        scope.require("holds", Action.WRITE)
    if not (seeds.lots or seeds.serials or seeds.supplier_batch):
        raise Invalid("lots", "name at least one lot, serial or supplier batch")
    tenant_id = scope.require_tenant()
    ids, seed_lots = await _seed_ids(uow.conn, tenant_id, seeds)
    lineage = await trace(uow.conn, tenant_id, ids, "forward", None)
    exposure = await build_exposure(uow.conn, tenant_id, lineage, seed_lots)
    if hold:
        for lot_id in exposure.platform_lots():
            made, created = await logistics.hold_lot(
                uow,
                tenant_id,
                logistics.HoldLot(lot_id=lot_id, reason=f"recall: {reason}", held_by=scope.actor),
            )
            exposure.holds.append({"hold_id": str(made["id"]), "lot_id": str(lot_id), "created": created})
    return exposure
