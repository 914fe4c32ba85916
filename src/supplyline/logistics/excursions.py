"""A shipment's business exception: its goods were outside their condition (a rule fired on
the tracker travelling with it). Logistics owns the exception, so logistics publishes it; the
rules consumer asks for it, once per shipment the device carried."""

from __future__ import annotations

import uuid

from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork
from supplyline.logistics.events import (
    SHIPMENT_CONDITION_BREACHED,
    SHIPMENT_TEMPERATURE_EXCEEDED,
    ShipmentExcursion,
)

# Temperature has an exception of its own: it is what cold-chain contracts and the ERP key on.
TEMPERATURE = "temperature_c"


def record_excursion(
    uow: UnitOfWork, tenant_id: uuid.UUID, excursion: ShipmentExcursion, recorded_by: str
) -> None:
    """Publish the shipment's exception (``shipment.temperature_exceeded``, or
    ``shipment.condition_breached`` for another metric) in the caller's transaction."""
    kind = SHIPMENT_TEMPERATURE_EXCEEDED if excursion.metric == TEMPERATURE else SHIPMENT_CONDITION_BREACHED
    uow.publish(
        NewEvent(
            type=kind.type,
            tenant_id=tenant_id,
            subject=f"shipments/{excursion.shipment_id}",
            source="/supplyline/logistics",
            data=excursion.model_dump(mode="json"),
            actor=recorded_by,
        )
    )
