"""What a client sends to create logistics entities."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from supplyline.kernel.json import JsonObject
from supplyline.registry import Name, Strict, not_before

Unit = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_%/.-]+$")
Number = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")

LotStatus = Literal["available", "quarantined", "released", "recalled", "consumed", "expired"]
OrderKind = Literal["purchase", "sales", "transfer"]
OrderStatus = Literal["draft", "open", "allocated", "shipped", "delivered", "closed", "cancelled"]
ShipmentStatus = Literal["planned", "in_transit", "delivered", "cancelled", "exception"]


def gtin_ok(value: str) -> bool:
    """GS1 mod-10 check digit over GTIN-8/12/13/14."""
    digits = [int(c) for c in value]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


class ProductIn(Strict):
    sku: str = Number
    gtin: str | None = Field(default=None, pattern=r"^(\d{8}|\d{12}|\d{13}|\d{14})$")
    name: str = Name
    unit: str = Unit
    storage_condition: str | None = Field(
        default=None, max_length=64, description="A label such as '2-8 C' or 'frozen'."
    )
    storage_min_c: float | None = Field(default=None, ge=-100, le=100)
    storage_max_c: float | None = Field(default=None, ge=-100, le=100)
    shelf_life_days: int | None = Field(default=None, ge=0, le=36_500)
    attributes: JsonObject = Field(default_factory=dict)

    @field_validator("gtin")
    @classmethod
    def _check_digit(cls, value: str | None) -> str | None:
        if value is not None and not gtin_ok(value):
            raise ValueError("GTIN check digit does not match")
        return value

    _range = field_validator("storage_max_c")(not_before("storage_min_c", "is below"))


class LotIn(Strict):
    product_id: uuid.UUID
    lot_code: str = Number
    production_date: date | None = None
    expiry_date: date | None = None
    quantity: float = Field(ge=0)
    unit: str = Unit
    supplier_organization_id: uuid.UUID | None = None
    status: LotStatus = "available"
    unit_cost: float | None = Field(default=None, ge=0, description="Cost per unit (commercial).")

    _dates = field_validator("expiry_date")(not_before("production_date"))


class OrderLineIn(Strict):
    product_id: uuid.UUID
    lot_id: uuid.UUID | None = None
    quantity: float = Field(gt=0)
    unit: str = Unit
    unit_price: float | None = Field(default=None, ge=0, description="Price per unit (commercial).")


class OrderIn(Strict):
    number: str = Number
    kind: OrderKind
    status: OrderStatus = "open"
    organization_id: uuid.UUID | None = Field(
        default=None, description="The customer of a sales order, the supplier of a purchase."
    )
    from_site_id: uuid.UUID | None = Field(default=None, validate_default=True)
    to_site_id: uuid.UUID | None = Field(default=None, validate_default=True)
    requested_at: AwareDatetime | None = None
    external_ref: str | None = Field(default=None, max_length=128)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 (commercial).")
    contract_terms: str | None = Field(default=None, max_length=4000, description="Commercial.")
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=1000)

    @field_validator("from_site_id", "to_site_id")
    @classmethod
    def _transfer_sites(cls, value: uuid.UUID | None, info: ValidationInfo) -> uuid.UUID | None:
        if value is None and info.data.get("kind") == "transfer":
            raise ValueError("a transfer order needs both sites")
        return value


class ShipmentLotIn(Strict):
    lot_id: uuid.UUID
    quantity: float = Field(gt=0)
    unit: str = Unit


class ShipmentDeviceIn(Strict):
    device_id: uuid.UUID
    assigned_at: AwareDatetime | None = None
    unassigned_at: AwareDatetime | None = None


class ShipmentAssetIn(Strict):
    asset_id: uuid.UUID


class ShipmentIn(Strict):
    number: str = Number
    status: ShipmentStatus = "planned"
    origin_site_id: uuid.UUID
    destination_site_id: uuid.UUID
    carrier_organization_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    planned_departure_at: AwareDatetime | None = None
    planned_arrival_at: AwareDatetime | None = None
    actual_departure_at: AwareDatetime | None = None
    actual_arrival_at: AwareDatetime | None = None
    freight_cost: float | None = Field(
        default=None, ge=0, description="What the carriage costs (commercial)."
    )
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 (commercial).")
    lots: list[ShipmentLotIn] = Field(default_factory=list, max_length=1000)
    devices: list[ShipmentDeviceIn] = Field(default_factory=list, max_length=100)
    assets: list[ShipmentAssetIn] = Field(default_factory=list, max_length=100)

    @field_validator("destination_site_id")
    @classmethod
    def _two_sites(cls, value: uuid.UUID, info: ValidationInfo) -> uuid.UUID:
        if value == info.data.get("origin_site_id"):
            raise ValueError("is the same site as origin_site_id")
        return value

    _planned = field_validator("planned_arrival_at")(not_before("planned_departure_at"))
    _actual = field_validator("actual_arrival_at")(not_before("actual_departure_at"))


class InventoryPositionIn(Strict):
    site_id: uuid.UUID
    product_id: uuid.UUID
    lot_id: uuid.UUID | None = None
    on_hand: float = Field(ge=0)
    allocated: float = Field(default=0, ge=0)
    held: float = Field(default=0, ge=0, description="Quarantined or on hold for inspection.")
    unit: str = Unit


class InventoryDerived(Strict):
    sellable: float = Field(description="on_hand - allocated - held, never below zero.")
