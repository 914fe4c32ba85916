"""A shipment's business exception: its goods were outside their condition (a rule fired on
the tracker travelling with it). Logistics owns the exception, so logistics publishes it; the
rules consumer asks for it, once per shipment the device carried."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from supplyline.kernel.events import NewEvent
from supplyline.kernel.uow import UnitOfWork
from supplyline.logistics.events import SHIPMENT_CONDITION_BREACHED, SHIPMENT_TEMPERATURE_EXCEEDED

# Temperature has an exception of its own: it is what cold-chain contracts and the ERP key on.
TEMPERATURE = "temperature_c"


@dataclass(frozen=True)
class RecordExcursion:
    shipment_id: uuid.UUID
    shipment_number: str
    rule_id: uuid.UUID
    rule_code: str
    severity: str
    device_id: uuid.UUID
    device: str
    metric: str
    value: float
    at: str  # ISO 8601, as the condition carried it
    late: bool
    lot_ids: Sequence[uuid.UUID]
    recorded_by: str
    correlation_id: str | None = None


def record_excursion(uow: UnitOfWork, tenant_id: uuid.UUID, cmd: RecordExcursion) -> None:
    """Publish the shipment's exception (``shipment.temperature_exceeded``, or
    ``shipment.condition_breached`` for another metric) in the caller's transaction."""
    kind = SHIPMENT_TEMPERATURE_EXCEEDED if cmd.metric == TEMPERATURE else SHIPMENT_CONDITION_BREACHED
    data = {
        "shipment_id": str(cmd.shipment_id),
        "shipment_number": cmd.shipment_number,
        "rule_id": str(cmd.rule_id),
        "rule_code": cmd.rule_code,
        "severity": cmd.severity,
        "device_id": str(cmd.device_id),
        "device": cmd.device,
        "metric": cmd.metric,
        "value": cmd.value,
        "at": cmd.at,
        "late": cmd.late,
        "lot_ids": [str(lot) for lot in cmd.lot_ids],
    }
    uow.publish(
        NewEvent(
            type=kind.type,
            tenant_id=tenant_id,
            subject=f"shipments/{cmd.shipment_id}",
            source="/supplyline/logistics",
            data=data,
            actor=cmd.recorded_by,
            correlation_id=cmd.correlation_id,
        )
    )
