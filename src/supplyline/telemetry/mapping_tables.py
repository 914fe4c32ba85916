"""Vendor payload mappings stored per tenant, one row per (vendor, version)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String

from supplyline.kernel.schema import JsonType, entity_table

# ``version`` is taken by every entity table (the row's ETag counter), hence ``mapping_version``.
telemetry_payload_mapping = entity_table(
    "telemetry_payload_mapping",
    Column("code", String(64), nullable=False),
    Column("mapping_version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("spec", JsonType, nullable=False),
    natural_keys=(("code", "mapping_version"),),
)
