"""The outbox of messages to other systems (the ERP, webhooks, connections), filled from the
event log, and the tenants' connections of installed integrations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

integrations_delivery = Table(
    "integrations_delivery",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("target", String(64), nullable=False),  # erp | webhook | webhook:<subscription id>
    Column("url", String(2000), nullable=False),
    Column("payload", JsonType, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("response", JsonType, nullable=True),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("correlation_id", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    # The cause's subject and log position: deliveries of one subject to one target go in
    # position order (the next waits while an earlier one is pending).
    Column("subject", String(200), nullable=True),
    Column("position", BigInteger, nullable=True),
    # "" for the delivery the event made; a replay's id for the copies a replay queued.
    Column("replay_id", String(64), nullable=False, server_default=""),
    Column("errors", JsonType, nullable=True),  # the last few failures: [{at, attempt, error}]
    Column("dead_at", UTCDateTime, nullable=True),  # set aside after too many failures
    Column("retried_at", UTCDateTime, nullable=True),  # when an operator last asked for it again
    # One message per target, event and replay: consuming an event again, or repeating a
    # replay, finds the delivery it made.
    UniqueConstraint(
        "tenant_id", "target", "url", "event_id", "replay_id", name="uq_integrations_delivery_once"
    ),
    Index("ix_integrations_delivery_due", "status", "next_attempt_at"),
    Index("ix_integrations_delivery_subject", "target", "subject", "status"),
)

# A tenant's enabled integration: which plug-in, its config (secrets apart, encrypted with the
# server key), and whether its messages flow. Its deliveries are the outbox rows whose target
# is ``connection:<id>``; health is read from them.
integrations_connection = Table(
    "integrations_connection",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("integration", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("config", JsonType, nullable=False),
    Column("secrets_enc", LargeBinary, nullable=True),
    Column("status", String(16), nullable=False),  # active | paused
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("checked_at", UTCDateTime, nullable=True),
    Column("check_error", Text, nullable=True),
    Column("archived_at", UTCDateTime, nullable=True),
    Index("ix_integrations_connection_tenant", "tenant_id", "archived_at"),
    ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
)
