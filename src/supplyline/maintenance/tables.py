"""Work orders opened by rules (a failing compressor) or people."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text, UniqueConstraint, Uuid

from supplyline.kernel.schema import UTCDateTime, metadata

maintenance_work_order = Table(
    "maintenance_work_order",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=True),
    Column("status", String(16), nullable=False),  # open | closed
    Column("asset_id", Uuid, nullable=True, index=True),
    Column("device_id", Uuid, nullable=True),
    Column("organization_id", Uuid, nullable=True, index=True),  # who is to do the work
    Column("alarm_id", Uuid, nullable=True),
    Column("rule_id", Uuid, nullable=True),
    Column("cause_event_id", Uuid, nullable=True),
    Column("correlation_id", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant_id", "cause_event_id"),
)
