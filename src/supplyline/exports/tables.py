"""Export jobs: what was asked, by whom, and the files it wrote."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text, Uuid

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

exports_job = Table(
    "exports_job",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False),
    # The principal that asked (api-key or user id, or a name): only it reads the job and its files.
    Column("owner", String(200), nullable=False),
    Column("datasets", JsonType, nullable=False),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date, nullable=False),
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("files", JsonType, nullable=False),
    Column("rows", JsonType, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_exports_job_tenant_owner", "tenant_id", "owner", "created_at"),
)
