"""The ERP adapter: business exceptions and lot holds become messages the ERP acts on (it holds
the allocations of a held lot). Messages are queued in the outbox in the consumer's transaction,
so an ERP that is down delays them and loses none.

The message contract (JSON, POST {erp_url}/erp/v1/messages, Idempotency-Key = delivery id):
``exception`` (a shipment's goods out of condition, with its lots), ``hold``, ``release`` and
``replenishment`` (a recommended purchase: the orders to place for a product at a site, and why).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import __version__, logistics
from supplyline.integrations.outbox import enqueue
from supplyline.integrations.plugins import EndpointDown, Manifest, Message
from supplyline.kernel.events import StoredEvent

EXCEPTION_TYPES = {logistics.SHIPMENT_TEMPERATURE_EXCEEDED.type, logistics.SHIPMENT_CONDITION_BREACHED.type}
HOLD = logistics.LOT_HELD.type
RELEASE = logistics.LOT_RELEASED.type
# Planning sits beside this capability: its recommendation is named by its wire type.
REPLENISHMENT = "supplyline.replenishment.recommended.v1"


class ErpConfig(BaseModel):
    """A connection to an ERP that speaks the contract above."""

    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl = Field(description="The ERP's base URL; messages go to {url}/erp/v1/messages")
    token: SecretStr | None = Field(default=None, description="Sent as Authorization: Bearer <token>")
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="Of the endpoint check")


def _base(config: ErpConfig) -> str:
    return str(config.url).rstrip("/")


class ErpIntegration:
    """The built-in outbound ERP integration, registered through the entry point like any
    other (``erp`` in supplyline's pyproject)."""

    manifest = Manifest(
        slug="erp",
        name="Generic ERP (outbound)",
        version=__version__,
        config=ErpConfig,
        consumes=tuple(sorted({*EXCEPTION_TYPES, HOLD, RELEASE, REPLENISHMENT})),
        capabilities=("outbound",),
        description="Exceptions, holds, releases and replenishment recommendations as ERP messages "
        "(the ERP holds the allocations of a held lot); acknowledged by the ERP's answer.",
    )

    def headers(self, config: ErpConfig) -> dict[str, str]:
        return {"Authorization": f"Bearer {config.token.get_secret_value()}"} if config.token else {}

    async def check(self, config: ErpConfig) -> None:
        """The ERP is up (its health answers) and takes the credentials (its allocations do)."""
        async with httpx.AsyncClient(timeout=config.timeout_s) as client:
            try:
                health = await client.get(f"{_base(config)}/erp/v1/health")
                if not health.is_success:
                    raise EndpointDown(f"GET /erp/v1/health answered {health.status_code}")
                probe = await client.get(f"{_base(config)}/erp/v1/allocations", headers=self.headers(config))
            except httpx.HTTPError as exc:
                raise EndpointDown(f"{type(exc).__name__}: {exc}") from None
        if probe.status_code in (401, 403):
            raise EndpointDown(f"the ERP refused the credentials ({probe.status_code})")
        if not probe.is_success:
            raise EndpointDown(f"GET /erp/v1/allocations answered {probe.status_code}")

    async def render(self, conn: AsyncConnection, event: StoredEvent, config: ErpConfig) -> Message | None:
        message = await erp_message(conn, event)
        return None if message is None else Message(f"{_base(config)}/erp/v1/messages", message)


PLUGIN = ErpIntegration()


class ErpAdapter:
    """Event-log consumer: exceptions, holds and releases of every tenant to the one ERP named
    by SUPPLYLINE_ERP_URL (a platform-wide shortcut for a single-ERP deployment and the demo;
    a tenant's own ERP is a connection of the ``erp`` integration)."""

    name = "integrations.erp"

    def __init__(self, erp_url: str) -> None:
        self.url = erp_url.rstrip("/") + "/erp/v1/messages"

    def accepts(self, event_type: str) -> bool:
        return event_type in EXCEPTION_TYPES or event_type in (HOLD, RELEASE, REPLENISHMENT)

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        message = await erp_message(conn, event)
        if message is not None:
            await enqueue(conn, event, "erp", self.url, message)

    async def reset(self, conn: AsyncConnection) -> None:
        """Nothing to forget: a replay finds the deliveries it queued (one per event)."""


async def erp_message(conn: AsyncConnection, event: StoredEvent) -> dict[str, Any] | None:
    data = event.data
    base = {
        "id": str(event.id),
        "correlation_id": event.correlation_id,
        "occurred_at": event.time.isoformat(),
        "tenant": str(event.tenant_id),
    }
    if event.type in EXCEPTION_TYPES and event.tenant_id is not None:
        lots = await logistics.lot_details(conn, event.tenant_id, [uuid.UUID(x) for x in data["lot_ids"]])
        return {
            **base,
            "type": "exception",
            "shipment": {"id": data["shipment_id"], "number": data["shipment_number"]},
            "lots": [
                {
                    "id": str(k),
                    "lot_code": v["lot_code"],
                    "sku": v["sku"],
                    "quantity": v["quantity"],
                    "unit": v["unit"],
                }
                for k, v in lots.items()
            ],
            "severity": data["severity"],
            "reason": _reason(data),
        }
    if event.type == REPLENISHMENT:
        return {
            **base,
            "type": "replenishment",
            "product": {"id": data["product_id"]},
            "site": {"id": data["site_id"]},
            "unit": data["unit"],
            "orders": data["orders"],
            "reason": "; ".join(data["reasons"]) or "reorder point reached",
        }
    lot = {"id": data.get("lot_id"), "lot_code": data.get("lot_code"), "sku": data.get("sku")}
    if event.type == HOLD:
        return {
            **base,
            "type": "hold",
            "hold_id": data["hold_id"],
            "lot": lot,
            "quantity": data["quantity"],
            "unit": data["unit"],
            "reason": data["reason"],
        }
    if event.type == RELEASE:
        return {
            **base,
            "type": "release",
            "hold_id": data["hold_id"],
            "lot": lot,
            "approved_by": data["approved_by"],
        }
    return None


def _reason(data: dict[str, Any]) -> str:
    return f"{data['rule_code']}: {data['metric']} {data['value']:g} at {data['at']} ({data['device']})"
