"""Lineage and recall over HTTP: the chain of custody of a lot, and the recall answer."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import epcis
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter()
TRACE_READ = requires("traceability", whole_tenant=True)
TRACE_WRITE = requires("traceability", Action.WRITE, whole_tenant=True)
MAX_SEEDS = 500
# An identifier: a platform lot UUID, an EPC URN or a GS1 Digital Link (any URI, canonicalised).
LOT_REF = r"^\S{1,512}$"
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "A lot named by platform id does not exist"}
}


class SupplierBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    organization_id: uuid.UUID = Field(description="The supplier organisation")
    lot_code: str = Field(min_length=1, max_length=64, description="The supplier's own lot code")


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lots: list[str] = Field(
        default_factory=list,
        max_length=MAX_SEEDS,
        description="Platform lot ids, or lot identifiers (LGTIN/SGTIN as EPC URN or Digital Link)",
        json_schema_extra={"items": {"type": "string", "pattern": LOT_REF, "maxLength": 512}},
    )
    serials: list[str] = Field(
        default_factory=list,
        max_length=MAX_SEEDS,
        description="Serialised items (SGTIN as EPC URN or Digital Link)",
        json_schema_extra={"items": {"type": "string", "pattern": LOT_REF, "maxLength": 512}},
    )
    supplier_batch: SupplierBatchIn | None = None
    hold: bool = Field(False, description="Place every exposed platform lot on hold")
    reason: str = Field(min_length=1, max_length=400, description="Why: recorded on each hold")


def _seeds(body: RecallIn) -> epcis.RecallSeeds:
    batch = body.supplier_batch
    return epcis.RecallSeeds(
        lots=body.lots,
        serials=body.serials,
        supplier_batch=None if batch is None else epcis.SupplierBatch(batch.organization_id, batch.lot_code),
    )


@router.get(
    "/traceability/lots/{lot_id:path}",
    tags=["traceability"],
    summary="The chain of custody of a lot: lineage edges with the events that justify them",
    description="``lot_id`` is a platform lot id or a lot identifier (EPC URN or GS1 Digital Link, "
    "URL-encoded). Nodes carry their platform lot and their custody events (shipping, receiving...).",
)
async def lot_lineage(
    lot_id: str = Path(..., min_length=1, max_length=512, pattern=LOT_REF),
    direction: Literal["backward", "forward"] = Query("backward"),
    depth: int = Query(5, ge=1, le=50, description="Hops to follow"),
    scope: Scope = TRACE_READ,
    svc: Services = Depends(services),
) -> Response:
    tenant_id = scope.require_tenant()
    async with svc.read_engine.connect() as conn:
        ids, _ = await epcis.resolve_lot(conn, tenant_id, lot_id, "lot_id")
        lineage = await epcis.trace(conn, tenant_id, ids, direction, depth)
    return JSON(lineage.as_dict())


@router.post(
    "/traceability/recalls",
    tags=["traceability"],
    summary="Recall: every lot, shipment, order, site and customer exposed; optionally hold the lots",
    description="Seeds are lots, serials or a supplier's batch; the forward trace runs to its end. "
    "With ``hold`` every exposed platform lot is put on hold in the same transaction (a lot "
    "already on hold keeps its hold: repeating a recall makes no new holds).",
    dependencies=[idempotency.IDEMPOTENT],
    responses=NOT_FOUND,
)
async def create_recall(
    body: RecallIn, request: Request, scope: Scope = TRACE_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        exposure = await epcis.recall(uow, scope, _seeds(body), body.hold, body.reason)
        return exposure.as_dict()

    return await idempotency.write(request, svc, scope, action, status_code=200)
