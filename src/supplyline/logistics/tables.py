"""Logistics tables: item master, lots, orders, shipments and inventory positions."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, entity_table, metadata, tenant_fk

logistics_product = entity_table(
    "logistics_product",
    Column("sku", String(64), nullable=False),
    Column("gtin", String(14), nullable=True),
    Column("name", String(200), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("storage_condition", String(64), nullable=True),
    Column("storage_min_c", Float, nullable=True),
    Column("storage_max_c", Float, nullable=True),
    Column("shelf_life_days", Integer, nullable=True),
    Column("attributes", JsonType, nullable=False),
    natural_keys=(("sku",), ("gtin",)),
)

logistics_lot = entity_table(
    "logistics_lot",
    Column("product_id", Uuid, nullable=False, index=True),
    Column("lot_code", String(64), nullable=False),
    Column("production_date", Date, nullable=True),
    Column("expiry_date", Date, nullable=True),
    Column("quantity", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("supplier_organization_id", Uuid, nullable=True),
    Column("status", String(32), nullable=False),
    Column("unit_cost", Float, nullable=True),
    tenant_fk("product_id", "logistics_product"),
    tenant_fk("supplier_organization_id", "registry_organization"),
    natural_keys=(("product_id", "lot_code"),),
)

logistics_order = entity_table(
    "logistics_order",
    Column("number", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("organization_id", Uuid, nullable=True, index=True),
    Column("from_site_id", Uuid, nullable=True),
    Column("to_site_id", Uuid, nullable=True),
    Column("requested_at", UTCDateTime, nullable=True),
    Column("external_ref", String(128), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("contract_terms", Text, nullable=True),
    tenant_fk("organization_id", "registry_organization"),
    tenant_fk("from_site_id", "registry_site"),
    tenant_fk("to_site_id", "registry_site"),
    natural_keys=(("number",),),
)


def _child(
    name: str,
    parent_fk: str,
    parent: str,
    *columns: Column[object],
    fks: tuple[ForeignKeyConstraint, ...] = (),
) -> Table:
    return Table(
        name,
        metadata,
        Column("tenant_id", Uuid, nullable=False),
        Column(parent_fk, Uuid, nullable=False),
        Column("line_no", Integer, nullable=False),
        *columns,
        PrimaryKeyConstraint(parent_fk, "line_no"),
        tenant_fk(parent_fk, parent),
        *fks,
    )


logistics_order_line = _child(
    "logistics_order_line",
    "order_id",
    "logistics_order",
    Column("product_id", Uuid, nullable=False, index=True),
    Column("lot_id", Uuid, nullable=True, index=True),
    Column("quantity", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("unit_price", Float, nullable=True),
    fks=(tenant_fk("product_id", "logistics_product"), tenant_fk("lot_id", "logistics_lot")),
)

logistics_shipment = entity_table(
    "logistics_shipment",
    Column("number", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("origin_site_id", Uuid, nullable=False, index=True),
    Column("destination_site_id", Uuid, nullable=False, index=True),
    Column("carrier_organization_id", Uuid, nullable=True),
    Column("order_id", Uuid, nullable=True),
    Column("planned_departure_at", UTCDateTime, nullable=True),
    Column("planned_arrival_at", UTCDateTime, nullable=True),
    Column("actual_departure_at", UTCDateTime, nullable=True),
    Column("actual_arrival_at", UTCDateTime, nullable=True),
    Column("freight_cost", Float, nullable=True),
    Column("currency", String(3), nullable=True),
    tenant_fk("origin_site_id", "registry_site"),
    tenant_fk("destination_site_id", "registry_site"),
    tenant_fk("carrier_organization_id", "registry_organization"),
    tenant_fk("order_id", "logistics_order"),
    # What a carrier reaches (scoped queries always name the tenant too). With the carrier
    # alone SQLite, without statistics, preferred the tenant_id index and read every shipment
    # of the tenant; with the id the carrier's shipment ids come from the index alone.
    Index("ix_logistics_shipment_tenant_carrier", "tenant_id", "carrier_organization_id", "id"),
    natural_keys=(("number",),),
)

logistics_shipment_lot = _child(
    "logistics_shipment_lot",
    "shipment_id",
    "logistics_shipment",
    Column("lot_id", Uuid, nullable=False, index=True),
    Column("quantity", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    fks=(tenant_fk("lot_id", "logistics_lot"),),
)

logistics_shipment_device = _child(
    "logistics_shipment_device",
    "shipment_id",
    "logistics_shipment",
    Column("device_id", Uuid, nullable=False, index=True),
    Column("assigned_at", UTCDateTime, nullable=True),
    Column("unassigned_at", UTCDateTime, nullable=True),
    fks=(tenant_fk("device_id", "registry_device"),),
)

logistics_shipment_asset = _child(
    "logistics_shipment_asset",
    "shipment_id",
    "logistics_shipment",
    Column("asset_id", Uuid, nullable=False, index=True),
    fks=(tenant_fk("asset_id", "registry_asset"),),
)

logistics_inventory = entity_table(
    "logistics_inventory",
    Column("site_id", Uuid, nullable=False, index=True),
    Column("product_id", Uuid, nullable=False, index=True),
    Column("lot_id", Uuid, nullable=True, index=True),
    Column("on_hand", Float, nullable=False),
    Column("allocated", Float, nullable=False),
    Column("held", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    tenant_fk("site_id", "registry_site"),
    tenant_fk("product_id", "logistics_product"),
    tenant_fk("lot_id", "logistics_lot"),
    natural_keys=(("site_id", "product_id", "lot_id"),),
)

# A lot put on hold (quarantine) for inspection, and its release by an approver. One active
# hold per lot; the cause's event id makes a replayed action find the hold it already made.
logistics_hold = Table(
    "logistics_hold",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("lot_id", Uuid, nullable=False, index=True),
    Column("status", String(16), nullable=False),  # active | released
    Column("reason", String(500), nullable=False),
    Column("quantity", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("previous_lot_status", String(32), nullable=False),
    Column("shipment_id", Uuid, nullable=True, index=True),
    Column("alarm_id", Uuid, nullable=True),
    Column("rule_id", Uuid, nullable=True),
    Column("cause_event_id", Uuid, nullable=True),
    Column("correlation_id", String(200), nullable=True),
    Column("held_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("released_at", UTCDateTime, nullable=True),
    Column("released_by", String(200), nullable=True),
    Column("release_reason", String(500), nullable=True),
    tenant_fk("lot_id", "logistics_lot"),
    UniqueConstraint("tenant_id", "lot_id", "cause_event_id"),
)
