"""Logistics entities declared as resources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import FieldError
from supplyline.kernel.scope import Scope
from supplyline.logistics import model as m
from supplyline.logistics import tables as t
from supplyline.resources import Child, Ref, ResourceSpec, rows_by_id, scoped

Errors = list[tuple[int, FieldError]]
Values = Sequence[dict[str, Any]]
Rows = Sequence[dict[str, Any] | None]
WRONG_LOT = "the lot is of another product than product_id"


async def _check_order(conn: AsyncConnection, scope: Scope, values: Values, rows: Rows) -> Errors:
    lots = await rows_by_id(conn, scope, t.logistics_lot, (ln["lot_id"] for v in values for ln in v["lines"]))
    return [
        (i, FieldError(f"lines.{j}.lot_id", WRONG_LOT))
        for i, v in enumerate(values)
        for j, ln in enumerate(v["lines"])
        if ln["lot_id"] in lots and lots[ln["lot_id"]]["product_id"] != ln["product_id"]
    ]


async def _check_position(conn: AsyncConnection, scope: Scope, values: Values, rows: Rows) -> Errors:
    errors: Errors = []
    lots = await rows_by_id(conn, scope, t.logistics_lot, (v["lot_id"] for v in values))
    for i, v in enumerate(values):
        if v["lot_id"] in lots and lots[v["lot_id"]]["product_id"] != v["product_id"]:
            errors.append((i, FieldError("lot_id", WRONG_LOT)))
    # NULL never equals NULL in a unique constraint, so lot-less positions are checked here.
    lotless = [(i, v) for i, v in enumerate(values) if v["lot_id"] is None]
    if not lotless:
        return errors
    p = t.logistics_inventory
    stmt = scoped(select(p.c.id, p.c.site_id, p.c.product_id), p, scope).where(
        p.c.lot_id.is_(None),
        p.c.site_id.in_({v["site_id"] for _, v in lotless}),
        p.c.product_id.in_({v["product_id"] for _, v in lotless}),
    )
    taken = {(r.site_id, r.product_id): r.id for r in await conn.execute(stmt)}
    for i, v in lotless:
        pair = (v["site_id"], v["product_id"])
        current = rows[i]
        other = taken.get(pair)
        if other is not None and (current is None or other != current["id"]):
            reason = f"inventory position {other} already holds this product without a lot at this site"
            errors.append((i, FieldError("lot_id", reason)))
        taken.setdefault(pair, current["id"] if current else f"item {i}")
    return errors


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
    commercial=frozenset({"unit_cost"}),
    event_version=2,
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
    commercial=frozenset({"currency", "contract_terms", "lines.unit_price"}),
    event_version=2,
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
    commercial=frozenset({"freight_cost", "currency"}),
    event_version=2,
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
