"""alarms, lot holds, work orders, the integrations outbox, the rule action log

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarms_alarm",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("originator_kind", sa.String(length=16), nullable=False),
        sa.Column("originator_id", sa.Uuid(), nullable=False),
        sa.Column("originator", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column(
            "lot_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("raised_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_raised_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("raise_count", sa.Integer(), nullable=False),
        sa.Column("cleared_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("escalation_policy_id", sa.Uuid(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("ack_due_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms_alarm")),
    )
    with op.batch_alter_table("alarms_alarm", schema=None) as batch_op:
        batch_op.create_index("ix_alarms_alarm_due", ["active", "acknowledged", "ack_due_at"], unique=False)
        batch_op.create_index(
            "ix_alarms_alarm_open", ["tenant_id", "originator_id", "type", "active"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alarms_alarm_shipment_id"), ["shipment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_alarm_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "alarms_comment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("alarm_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms_comment")),
    )
    with op.batch_alter_table("alarms_comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarms_comment_alarm_id"), ["alarm_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_comment_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "integrations_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations_delivery")),
        sa.UniqueConstraint(
            "tenant_id",
            "target",
            "url",
            "event_id",
            name=op.f("uq_integrations_delivery_tenant_id_target_url_event_id"),
        ),
    )
    with op.batch_alter_table("integrations_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_integrations_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_integrations_delivery_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "maintenance_work_order",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("alarm_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("cause_event_id", sa.Uuid(), nullable=True),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_work_order")),
        sa.UniqueConstraint(
            "tenant_id", "cause_event_id", name=op.f("uq_maintenance_work_order_tenant_id_cause_event_id")
        ),
    )
    with op.batch_alter_table("maintenance_work_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_work_order_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_maintenance_work_order_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_maintenance_work_order_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "rules_action_log",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column(
            "outcome",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("done_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_rules_action_log")),
    )
    with op.batch_alter_table("rules_action_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_action_log_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rules_action_log_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "alarms_escalation_policy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column(
            "levels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_alarms_escalation_policy_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms_escalation_policy")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_alarms_escalation_policy_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_alarms_escalation_policy_tenant_id_id")),
    )
    with op.batch_alter_table("alarms_escalation_policy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alarms_escalation_policy_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alarms_escalation_policy_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "logistics_hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("previous_lot_status", sa.String(length=32), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column("alarm_id", sa.Uuid(), nullable=True),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("cause_event_id", sa.Uuid(), nullable=True),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("held_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lot_id"],
            ["logistics_lot.tenant_id", "logistics_lot.id"],
            name=op.f("fk_logistics_hold_tenant_id_lot_id"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_hold")),
        sa.UniqueConstraint(
            "tenant_id",
            "lot_id",
            "cause_event_id",
            name=op.f("uq_logistics_hold_tenant_id_lot_id_cause_event_id"),
        ),
    )
    with op.batch_alter_table("logistics_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_logistics_hold_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_hold_shipment_id"), ["shipment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_logistics_hold_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("logistics_hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_hold_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_hold_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_hold_lot_id"))

    op.drop_table("logistics_hold")
    with op.batch_alter_table("alarms_escalation_policy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_escalation_policy_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_alarms_escalation_policy_organization_id"))

    op.drop_table("alarms_escalation_policy")
    with op.batch_alter_table("rules_action_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rules_action_log_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_rules_action_log_rule_id"))

    op.drop_table("rules_action_log")
    with op.batch_alter_table("maintenance_work_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_work_order_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_work_order_organization_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_work_order_asset_id"))

    op.drop_table("maintenance_work_order")
    with op.batch_alter_table("integrations_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrations_delivery_tenant_id"))
        batch_op.drop_index("ix_integrations_delivery_due")

    op.drop_table("integrations_delivery")
    with op.batch_alter_table("alarms_comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_comment_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_alarms_comment_alarm_id"))

    op.drop_table("alarms_comment")
    with op.batch_alter_table("alarms_alarm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_alarm_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_alarms_alarm_shipment_id"))
        batch_op.drop_index("ix_alarms_alarm_open")
        batch_op.drop_index("ix_alarms_alarm_due")

    op.drop_table("alarms_alarm")
