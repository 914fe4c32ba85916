"""Governance tables: a tenant's retention per data class, and its legal holds."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Uuid

from supplyline.kernel.schema import UTCDateTime, metadata

# One row per class the tenant has set; a class without a row has the platform's default.
governance_retention = Table(
    "governance_retention",
    metadata,
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), primary_key=True),
    Column("data_class", String(32), primary_key=True),
    Column("days", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

# A hold stays as the record once released: released_at says it no longer applies.
governance_legal_hold = Table(
    "governance_legal_hold",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False, index=True),
    Column("data_class", String(32), nullable=True),  # NULL: every class
    Column("reason", String(2000), nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("released_at", UTCDateTime, nullable=True),
    Column("released_by", String(200), nullable=True),
    Column("release_reason", String(2000), nullable=True),
)
