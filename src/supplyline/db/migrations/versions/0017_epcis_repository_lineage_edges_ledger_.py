"""The EPCIS repository (events, keys, refs, capture jobs, lineage edges), the ledger's leaf data
column (EPCIS Event Hash IDs as leaves) and its stored subtree hashes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 12:01:22.809147
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "epcis_capture",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("capture_error_behaviour", sa.String(length=16), nullable=False),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_epcis_capture_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_capture")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_epcis_capture_tenant_id_id")),
    )
    with op.batch_alter_table("epcis_capture", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_capture_tenant_created", ["tenant_id", "created_at"], unique=False)

    op.create_table(
        "epcis_event",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=512), nullable=False),
        sa.Column("hash_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("event_time", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_time_zone_offset", sa.String(length=6), nullable=False),
        sa.Column("record_time", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=True),
        sa.Column("biz_step", sa.String(length=300), nullable=True),
        sa.Column("disposition", sa.String(length=300), nullable=True),
        sa.Column("read_point", sa.String(length=512), nullable=True),
        sa.Column("biz_location", sa.String(length=512), nullable=True),
        sa.Column("declaration", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("capture_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_epcis_event_tenant_id")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_epcis_event")),
        sa.UniqueConstraint(
            "tenant_id", "event_id", "declaration", name=op.f("uq_epcis_event_tenant_id_event_id_declaration")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("epcis_event", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_event_tenant_event_time", ["tenant_id", "event_time"], unique=False)
        batch_op.create_index("ix_epcis_event_tenant_hash_id", ["tenant_id", "hash_id"], unique=False)
        batch_op.create_index("ix_epcis_event_tenant_record_time", ["tenant_id", "record_time"], unique=False)
        batch_op.create_index("ix_epcis_event_tenant_seq", ["tenant_id", "seq"], unique=False)

    op.create_table(
        "epcis_event_key",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("qualifier", sa.String(length=300), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_epcis_event_key_tenant_id")
        ),
        sa.PrimaryKeyConstraint("seq", "role", "qualifier", "value", name=op.f("pk_epcis_event_key")),
    )
    with op.batch_alter_table("epcis_event_key", schema=None) as batch_op:
        batch_op.create_index(
            "ix_epcis_event_key_lookup", ["tenant_id", "role", "value", "seq"], unique=False
        )

    op.create_table(
        "epcis_event_ref",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_epcis_event_ref_tenant_id")
        ),
        sa.PrimaryKeyConstraint("seq", "kind", "ref_id", name=op.f("pk_epcis_event_ref")),
    )
    with op.batch_alter_table("epcis_event_ref", schema=None) as batch_op:
        batch_op.create_index(
            "ix_epcis_event_ref_lookup", ["tenant_id", "kind", "ref_id", "seq"], unique=False
        )

    op.create_table(
        "epcis_lineage_edge",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_id", sa.String(length=512), nullable=False),
        sa.Column("to_id", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_epcis_lineage_edge_tenant_id")
        ),
        sa.PrimaryKeyConstraint("seq", "from_id", "to_id", "kind", name=op.f("pk_epcis_lineage_edge")),
    )
    with op.batch_alter_table("epcis_lineage_edge", schema=None) as batch_op:
        batch_op.create_index("ix_epcis_lineage_edge_from", ["tenant_id", "from_id"], unique=False)
        batch_op.create_index("ix_epcis_lineage_edge_to", ["tenant_id", "to_id"], unique=False)

    op.create_table(
        "trace_subtree",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_trace_subtree_tenant_id")),
        sa.PrimaryKeyConstraint("tenant_id", "level", "index", name=op.f("pk_trace_subtree")),
    )
    with op.batch_alter_table("trace_checkpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf", sa.String(length=120), nullable=True))
        batch_op.create_index("ix_trace_checkpoint_tenant_leaf", ["tenant_id", "leaf"], unique=False)

    with op.batch_alter_table("trace_leaf", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf", sa.String(length=120), nullable=True))
        batch_op.create_index("ix_trace_leaf_tenant_leaf", ["tenant_id", "leaf"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trace_leaf", schema=None) as batch_op:
        batch_op.drop_index("ix_trace_leaf_tenant_leaf")
        batch_op.drop_column("leaf")

    with op.batch_alter_table("trace_checkpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_trace_checkpoint_tenant_leaf")
        batch_op.drop_column("leaf")

    op.drop_table("trace_subtree")
    with op.batch_alter_table("epcis_lineage_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_lineage_edge_to")
        batch_op.drop_index("ix_epcis_lineage_edge_from")

    op.drop_table("epcis_lineage_edge")
    with op.batch_alter_table("epcis_event_ref", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_ref_lookup")

    op.drop_table("epcis_event_ref")
    with op.batch_alter_table("epcis_event_key", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_key_lookup")

    op.drop_table("epcis_event_key")
    with op.batch_alter_table("epcis_event", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_event_tenant_seq")
        batch_op.drop_index("ix_epcis_event_tenant_record_time")
        batch_op.drop_index("ix_epcis_event_tenant_hash_id")
        batch_op.drop_index("ix_epcis_event_tenant_event_time")

    op.drop_table("epcis_event")
    with op.batch_alter_table("epcis_capture", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_capture_tenant_created")

    op.drop_table("epcis_capture")
