"""Logistics entities declared as resources."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import FieldError, Invalid
from supplyline.kernel.scope import Scope
from supplyline.logistics import model as m
from supplyline.logistics import tables as t
from supplyline.resources import Child, Ref, ResourceSpec, scoped


async def _lot_products(conn: AsyncConnection, scope: Scope, lot_ids: set[Any]) -> dict[Any, Any]:
    if not lot_ids:
        return {}
    lot = t.logistics_lot
    stmt = scoped(select(lot.c.id, lot.c.product_id), lot, scope).where(lot.c.id.in_(lot_ids))
    return {r.id: r.product_id for r in await conn.execute(stmt)}


async def _check_order(
    conn: AsyncConnection, scope: Scope, values: dict[str, Any], row: dict[str, Any] | None
) -> None:
    lines = values["lines"]
    products = await _lot_products(conn, scope, {ln["lot_id"] for ln in lines if ln["lot_id"]})
    errors = [
        FieldError(f"lines.{i}.lot_id", "the lot is of another product than product_id")
        for i, ln in enumerate(lines)
        if ln["lot_id"] in products and products[ln["lot_id"]] != ln["product_id"]
    ]
    if errors:
        raise Invalid.many(errors)


async def _check_position(
    conn: AsyncConnection, scope: Scope, values: dict[str, Any], row: dict[str, Any] | None
) -> None:
    errors: list[FieldError] = []
    if values["lot_id"] is not None:
        products = await _lot_products(conn, scope, {values["lot_id"]})
        if values["lot_id"] in products and products[values["lot_id"]] != values["product_id"]:
            errors.append(FieldError("lot_id", "the lot is of another product than product_id"))
    else:
        # NULL never equals NULL in a unique constraint, so the lot-less position is checked here.
        p = t.logistics_inventory
        stmt = scoped(select(p.c.id), p, scope).where(
            p.c.site_id == values["site_id"],
            p.c.product_id == values["product_id"],
            p.c.lot_id.is_(None),
        )
        if row is not None:
            stmt = stmt.where(p.c.id != row["id"])
        other = (await conn.execute(stmt)).scalar()
        if other is not None:
            errors.append(
                FieldError(
                    "lot_id",
                    f"inventory position {other} already holds this product without a lot at this site",
                )
            )
    if errors:
        raise Invalid.many(errors)


def _sellable(rec: dict[str, Any]) -> dict[str, Any]:
    return {"sellable": max(0.0, rec["on_hand"] - rec["allocated"] - rec["held"])}


PRODUCTS = ResourceSpec(
    name="products",
    entity="product",
    title="Product",
    capability="logistics",
    table=t.logistics_product,
    fields=m.ProductIn,
    natural_keys=(("sku",), ("gtin",)),
    filters=("sku", "gtin", "storage_condition"),
    description="The item master: SKU, GTIN, unit and storage condition.",
)
LOTS = ResourceSpec(
    name="lots",
    entity="lot",
    title="Lot",
    capability="logistics",
    table=t.logistics_lot,
    fields=m.LotIn,
    refs=(Ref("product_id", "products"), Ref("supplier_organization_id", "organizations")),
    natural_keys=(("product_id", "lot_code"),),
    immutable=frozenset({"product_id"}),
    filters=("product_id", "lot_code", "status", "supplier_organization_id"),
    description="A batch of one product with its dates and quantity.",
)
ORDERS = ResourceSpec(
    name="orders",
    entity="order",
    title="Order",
    capability="logistics",
    table=t.logistics_order,
    fields=m.OrderIn,
    refs=(
        Ref("organization_id", "organizations"),
        Ref("from_site_id", "sites"),
        Ref("to_site_id", "sites"),
    ),
    children=(
        Child(
            "lines",
            t.logistics_order_line,
            "order_id",
            m.OrderLineIn,
            refs=(Ref("product_id", "products"), Ref("lot_id", "lots")),
        ),
    ),
    natural_keys=(("number",),),
    immutable=frozenset({"kind"}),
    filters=("kind", "status", "organization_id", "from_site_id", "to_site_id", "number"),
    validate=_check_order,
    description="A purchase, sales or transfer order with its lines.",
)
SHIPMENTS = ResourceSpec(
    name="shipments",
    entity="shipment",
    title="Shipment",
    capability="logistics",
    table=t.logistics_shipment,
    fields=m.ShipmentIn,
    refs=(
        Ref("origin_site_id", "sites"),
        Ref("destination_site_id", "sites"),
        Ref("carrier_organization_id", "organizations"),
        Ref("order_id", "orders"),
    ),
    children=(
        Child(
            "lots",
            t.logistics_shipment_lot,
            "shipment_id",
            m.ShipmentLotIn,
            refs=(Ref("lot_id", "lots"),),
        ),
        Child(
            "devices",
            t.logistics_shipment_device,
            "shipment_id",
            m.ShipmentDeviceIn,
            refs=(Ref("device_id", "devices"),),
        ),
        Child(
            "assets",
            t.logistics_shipment_asset,
            "shipment_id",
            m.ShipmentAssetIn,
            refs=(Ref("asset_id", "assets"),),
        ),
    ),
    natural_keys=(("number",),),
    filters=(
        "status",
        "origin_site_id",
        "destination_site_id",
        "carrier_organization_id",
        "order_id",
        "number",
    ),
    description="Goods moving between two sites: lots carried, trackers and assets assigned.",
)
INVENTORY_POSITIONS = ResourceSpec(
    name="inventory-positions",
    entity="inventory_position",
    title="InventoryPosition",
    capability="logistics",
    table=t.logistics_inventory,
    fields=m.InventoryPositionIn,
    refs=(Ref("site_id", "sites"), Ref("product_id", "products"), Ref("lot_id", "lots")),
    natural_keys=(("site_id", "product_id", "lot_id"),),
    immutable=frozenset({"site_id", "product_id", "lot_id"}),
    filters=("site_id", "product_id", "lot_id"),
    validate=_check_position,
    derive=_sellable,
    derived_model=m.InventoryDerived,
    description="Stock of one product (and lot) at one site: on hand, allocated, held, sellable.",
)

RESOURCES = [PRODUCTS, LOTS, ORDERS, SHIPMENTS, INVENTORY_POSITIONS]
