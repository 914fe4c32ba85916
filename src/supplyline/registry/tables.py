"""Registry tables: who and where (organisations, sites) and what (assets, devices)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Text, Uuid

from supplyline.kernel.schema import JsonType, entity_table, tenant_fk

registry_organization = entity_table(
    "registry_organization",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("contact_email", String(254), nullable=True),
    Column("attributes", JsonType, nullable=False),
    natural_keys=(("code",),),
)

registry_region = entity_table(
    "registry_region",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=True),
    natural_keys=(("code",),),
)

registry_site = entity_table(
    "registry_site",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("region_id", Uuid, nullable=True, index=True),
    Column("organization_id", Uuid, nullable=True),
    Column("address", JsonType, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("attributes", JsonType, nullable=False),
    tenant_fk("region_id", "registry_region"),
    tenant_fk("organization_id", "registry_organization"),
    natural_keys=(("code",),),
)

registry_zone = entity_table(
    "registry_zone",
    Column("site_id", Uuid, nullable=False, index=True),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("storage_min_c", Float, nullable=True),
    Column("storage_max_c", Float, nullable=True),
    tenant_fk("site_id", "registry_site"),
    natural_keys=(("site_id", "code"),),
)

registry_asset_type = entity_table(
    "registry_asset_type",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("attributes_schema", JsonType, nullable=False),
    natural_keys=(("code",),),
)

registry_asset = entity_table(
    "registry_asset",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("asset_type_id", Uuid, nullable=False, index=True),
    Column("parent_id", Uuid, nullable=True, index=True),
    Column("site_id", Uuid, nullable=True, index=True),
    Column("zone_id", Uuid, nullable=True),
    Column("owner_organization_id", Uuid, nullable=True),
    Column("manufacturer_organization_id", Uuid, nullable=True),
    Column("maintainer_organization_id", Uuid, nullable=True),
    Column("serial_number", String(128), nullable=True),
    Column("status", String(32), nullable=False),
    Column("attributes", JsonType, nullable=False),
    tenant_fk("asset_type_id", "registry_asset_type"),
    tenant_fk("parent_id", "registry_asset"),
    tenant_fk("site_id", "registry_site"),
    tenant_fk("zone_id", "registry_zone"),
    tenant_fk("owner_organization_id", "registry_organization"),
    tenant_fk("manufacturer_organization_id", "registry_organization"),
    tenant_fk("maintainer_organization_id", "registry_organization"),
    natural_keys=(("code",),),
)

registry_device_profile = entity_table(
    "registry_device_profile",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("device_kind", String(32), nullable=False),
    Column("vendor", String(128), nullable=True),
    Column("model", String(128), nullable=True),
    Column("metrics", JsonType, nullable=False),
    # A vendor payload mapping (telemetry_payload_mapping code and mapping_version), or none.
    Column("payload_mapping", String(64), nullable=True),
    Column("payload_mapping_version", Integer, nullable=True),
    natural_keys=(("code",),),
)

registry_device = entity_table(
    "registry_device",
    Column("code", String(128), nullable=False),
    Column("name", String(200), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("device_profile_id", Uuid, nullable=False, index=True),
    Column("asset_id", Uuid, nullable=True, index=True),
    Column("gateway_id", Uuid, nullable=True, index=True),
    Column("serial_number", String(128), nullable=True),
    Column("status", String(32), nullable=False),
    Column("attributes", JsonType, nullable=False),
    tenant_fk("device_profile_id", "registry_device_profile"),
    tenant_fk("asset_id", "registry_asset"),
    tenant_fk("gateway_id", "registry_device"),
    natural_keys=(("code",),),
)
