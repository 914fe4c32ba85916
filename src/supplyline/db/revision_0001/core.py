"""Migration 0001: the event log and access tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema


def upgrade() -> None:
    op.create_table(
        "access_idempotency_key",
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name=op.f("pk_access_idempotency_key")),
    )
    op.create_table(
        "access_tenant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tenant")),
        sa.UniqueConstraint("slug", name=op.f("uq_access_tenant_slug")),
    )
    op.create_table(
        "eventlog_consumer",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failing_position", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_eventlog_consumer")),
    )
    op.create_table(
        "eventlog_entity_index",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("last_type", sa.String(length=200), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "subject", name=op.f("pk_eventlog_entity_index")),
    )
    op.create_table(
        "eventlog_event",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("time", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_eventlog_event")),
        sa.UniqueConstraint("id", name=op.f("uq_eventlog_event_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("eventlog_event", schema=None) as batch_op:
        batch_op.create_index("ix_eventlog_event_tenant_position", ["tenant_id", "position"], unique=False)

    op.create_table(
        "access_api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_access_api_key_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_access_api_key_prefix")),
    )
    with op.batch_alter_table("access_api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_api_key_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_api_key_tenant_id"))

    op.drop_table("access_api_key")
    with op.batch_alter_table("eventlog_event", schema=None) as batch_op:
        batch_op.drop_index("ix_eventlog_event_tenant_position")

    op.drop_table("eventlog_event")
    op.drop_table("eventlog_entity_index")
    op.drop_table("eventlog_consumer")
    op.drop_table("access_tenant")
    op.drop_table("access_idempotency_key")
