"""Migration 0001: the registry tables."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import supplyline.kernel.schema


def upgrade() -> None:
    op.create_table(
        "registry_asset_type",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column(
            "attributes_schema",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_asset_type_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_asset_type")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_asset_type_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_asset_type_tenant_id_id")),
    )
    with op.batch_alter_table("registry_asset_type", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_asset_type_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_device_profile",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("device_kind", sa.String(length=32), nullable=False),
        sa.Column("vendor", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_device_profile_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_device_profile")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_device_profile_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_device_profile_tenant_id_id")),
    )
    with op.batch_alter_table("registry_device_profile", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_device_profile_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_organization",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_organization_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_organization")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_organization_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_organization_tenant_id_id")),
    )
    with op.batch_alter_table("registry_organization", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_organization_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_region",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_region_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_region")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_region_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_region_tenant_id_id")),
    )
    with op.batch_alter_table("registry_region", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_region_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_site",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_registry_site_tenant_id_organization_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["registry_region.tenant_id", "registry_region.id"],
            name=op.f("fk_registry_site_tenant_id_region_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_site_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_site")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_site_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_site_tenant_id_id")),
    )
    with op.batch_alter_table("registry_site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_site_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_site_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_zone",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("storage_min_c", sa.Float(), nullable=True),
        sa.Column("storage_max_c", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_registry_zone_tenant_id_site_id"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_zone_tenant_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_zone")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_zone_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "site_id", "code", name=op.f("uq_registry_zone_tenant_id_site_id_code")
        ),
    )
    with op.batch_alter_table("registry_zone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_zone_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_zone_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_asset",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("asset_type_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("zone_id", sa.Uuid(), nullable=True),
        sa.Column("owner_organization_id", sa.Uuid(), nullable=True),
        sa.Column("manufacturer_organization_id", sa.Uuid(), nullable=True),
        sa.Column("maintainer_organization_id", sa.Uuid(), nullable=True),
        sa.Column("serial_number", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_type_id"],
            ["registry_asset_type.tenant_id", "registry_asset_type.id"],
            name=op.f("fk_registry_asset_tenant_id_asset_type_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "maintainer_organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_registry_asset_tenant_id_maintainer_organization_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "manufacturer_organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_registry_asset_tenant_id_manufacturer_organization_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "owner_organization_id"],
            ["registry_organization.tenant_id", "registry_organization.id"],
            name=op.f("fk_registry_asset_tenant_id_owner_organization_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["registry_asset.tenant_id", "registry_asset.id"],
            name=op.f("fk_registry_asset_tenant_id_parent_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "site_id"],
            ["registry_site.tenant_id", "registry_site.id"],
            name=op.f("fk_registry_asset_tenant_id_site_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "zone_id"],
            ["registry_zone.tenant_id", "registry_zone.id"],
            name=op.f("fk_registry_asset_tenant_id_zone_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_asset_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_asset")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_asset_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_asset_tenant_id_id")),
    )
    with op.batch_alter_table("registry_asset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_asset_asset_type_id"), ["asset_type_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_asset_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_asset_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_asset_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "registry_device",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", supplyline.kernel.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device_profile_id", sa.Uuid(), nullable=False),
        sa.Column("asset_id", sa.Uuid(), nullable=True),
        sa.Column("gateway_id", sa.Uuid(), nullable=True),
        sa.Column("serial_number", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["registry_asset.tenant_id", "registry_asset.id"],
            name=op.f("fk_registry_device_tenant_id_asset_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_profile_id"],
            ["registry_device_profile.tenant_id", "registry_device_profile.id"],
            name=op.f("fk_registry_device_tenant_id_device_profile_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "gateway_id"],
            ["registry_device.tenant_id", "registry_device.id"],
            name=op.f("fk_registry_device_tenant_id_gateway_id"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["access_tenant.id"], name=op.f("fk_registry_device_tenant_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_device")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_registry_device_tenant_id_code")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_registry_device_tenant_id_id")),
    )
    with op.batch_alter_table("registry_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_device_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_registry_device_device_profile_id"), ["device_profile_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registry_device_gateway_id"), ["gateway_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_device_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("registry_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_device_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_registry_device_gateway_id"))
        batch_op.drop_index(batch_op.f("ix_registry_device_device_profile_id"))
        batch_op.drop_index(batch_op.f("ix_registry_device_asset_id"))

    op.drop_table("registry_device")
    with op.batch_alter_table("registry_asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_asset_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_registry_asset_site_id"))
        batch_op.drop_index(batch_op.f("ix_registry_asset_parent_id"))
        batch_op.drop_index(batch_op.f("ix_registry_asset_asset_type_id"))

    op.drop_table("registry_asset")
    with op.batch_alter_table("registry_zone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_zone_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_registry_zone_site_id"))

    op.drop_table("registry_zone")
    with op.batch_alter_table("registry_site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_site_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_registry_site_region_id"))

    op.drop_table("registry_site")
    with op.batch_alter_table("registry_region", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_region_tenant_id"))

    op.drop_table("registry_region")
    with op.batch_alter_table("registry_organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_organization_tenant_id"))

    op.drop_table("registry_organization")
    with op.batch_alter_table("registry_device_profile", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_device_profile_tenant_id"))

    op.drop_table("registry_device_profile")
    with op.batch_alter_table("registry_asset_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_asset_type_tenant_id"))

    op.drop_table("registry_asset_type")
