"""users, sessions, roles, grants, partner keys, commercial fields

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_role",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=True),
        sa.Column(
            "permissions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_access_role_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_role")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_access_role_tenant_id_code")),
    )
    op.create_table(
        "access_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_access_user_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_user")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_access_user_tenant_id_email")),
    )
    with op.batch_alter_table("access_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_user_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "access_role_assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["access_api_key.id"], name=op.f("fk_access_role_assignment_api_key_id")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_access_role_assignment_tenant_id")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["access_user.id"], name=op.f("fk_access_role_assignment_user_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_role_assignment")),
    )
    with op.batch_alter_table("access_role_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_role_assignment_api_key_id"), ["api_key_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_role_assignment_user_id"), ["user_id"], unique=False)

    op.create_table(
        "access_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_access_session_tenant_id")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["access_user.id"], name=op.f("fk_access_session_user_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_session")),
        sa.UniqueConstraint("prefix", name=op.f("uq_access_session_prefix")),
    )
    with op.batch_alter_table("access_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_session_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("access_api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Uuid(), nullable=True))
        batch_op.alter_column(
            "role", existing_type=sa.VARCHAR(length=32), type_=sa.String(length=64), existing_nullable=False
        )

    with op.batch_alter_table("logistics_lot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_cost", sa.Float(), nullable=True))

    with op.batch_alter_table("logistics_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("contract_terms", sa.Text(), nullable=True))

    with op.batch_alter_table("logistics_order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_price", sa.Float(), nullable=True))

    with op.batch_alter_table("logistics_shipment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("freight_cost", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logistics_shipment", schema=None) as batch_op:
        batch_op.drop_column("currency")
        batch_op.drop_column("freight_cost")

    with op.batch_alter_table("logistics_order_line", schema=None) as batch_op:
        batch_op.drop_column("unit_price")

    with op.batch_alter_table("logistics_order", schema=None) as batch_op:
        batch_op.drop_column("contract_terms")
        batch_op.drop_column("currency")

    with op.batch_alter_table("logistics_lot", schema=None) as batch_op:
        batch_op.drop_column("unit_cost")

    with op.batch_alter_table("access_api_key", schema=None) as batch_op:
        batch_op.alter_column(
            "role", existing_type=sa.String(length=64), type_=sa.VARCHAR(length=32), existing_nullable=False
        )
        batch_op.drop_column("organization_id")

    with op.batch_alter_table("access_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_session_user_id"))

    op.drop_table("access_session")
    with op.batch_alter_table("access_role_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_role_assignment_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_role_assignment_api_key_id"))

    op.drop_table("access_role_assignment")
    with op.batch_alter_table("access_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_user_organization_id"))

    op.drop_table("access_user")
    op.drop_table("access_role")
