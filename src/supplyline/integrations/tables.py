"""The outbox of messages to other systems (the ERP, webhooks), filled from the event log."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint, Uuid

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

integrations_delivery = Table(
    "integrations_delivery",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("target", String(64), nullable=False),  # erp | webhook | webhook:<subscription id>
    Column("url", String(2000), nullable=False),
    Column("payload", JsonType, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("response", JsonType, nullable=True),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("correlation_id", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    # One message per target and event: a replayed event finds the delivery it made.
    UniqueConstraint("tenant_id", "target", "url", "event_id"),
    Index("ix_integrations_delivery_due", "status", "next_attempt_at"),
)
