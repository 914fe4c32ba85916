"""Alarms and their comments; escalation policies are a resource (see resources.py)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, Uuid

from supplyline.kernel.schema import JsonType, UTCDateTime, entity_table, metadata

alarms_alarm = Table(
    "alarms_alarm",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    # What it is about (a rule's code) and what raised it (a device): one open alarm per pair.
    Column("type", String(64), nullable=False),
    Column("originator_kind", String(16), nullable=False),
    Column("originator_id", Uuid, nullable=False),
    Column("originator", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("acknowledged", Boolean, nullable=False),
    Column("assignee", String(200), nullable=True),
    Column("rule_id", Uuid, nullable=True),
    # Propagation: the things the alarm is also about, so each of their views shows it.
    Column("device_id", Uuid, nullable=True),
    Column("asset_id", Uuid, nullable=True),
    Column("site_id", Uuid, nullable=True),
    Column("shipment_id", Uuid, nullable=True, index=True),
    Column("lot_ids", JsonType, nullable=False),
    Column("details", JsonType, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("last_raised_at", UTCDateTime, nullable=False),
    Column("raise_count", Integer, nullable=False),
    Column("cleared_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("escalation_policy_id", Uuid, nullable=True),
    Column("escalation_level", Integer, nullable=False),
    Column("ack_due_at", UTCDateTime, nullable=True),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("correlation_id", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_alarms_alarm_open", "tenant_id", "originator_id", "type", "active"),
    Index("ix_alarms_alarm_due", "active", "acknowledged", "ack_due_at"),
)

alarms_comment = Table(
    "alarms_comment",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False, index=True),
    Column("alarm_id", Uuid, nullable=False, index=True),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

alarms_escalation_policy = entity_table(
    "alarms_escalation_policy",
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("organization_id", Uuid, nullable=True, index=True),
    Column("levels", JsonType, nullable=False),
    natural_keys=(("code",),),
)
