"""Tenants, API keys, their quotas and idempotency records."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

access_tenant = Table(
    "access_tenant",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("archived_at", UTCDateTime, nullable=True),
)

access_api_key = Table(
    "access_api_key",
    metadata,
    Column("id", Uuid, primary_key=True),
    # NULL tenant: a platform-admin key, which may only manage tenants.
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=True, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("role", String(64), nullable=False),
    # A partner's service identity: the key reaches that organisation's relationships only.
    Column("organization_id", Uuid, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

access_user = Table(
    "access_user",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False),
    # NULL: the tenant's own staff; otherwise a partner organisation (registry_organization).
    Column("organization_id", Uuid, nullable=True, index=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant_id", "email"),
)

access_session = Table(
    "access_session",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False),
    Column("user_id", Uuid, ForeignKey("access_user.id"), nullable=False, index=True),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

access_role = Table(
    "access_role",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", String(1000), nullable=True),
    Column("permissions", JsonType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("archived_at", UTCDateTime, nullable=True),
    UniqueConstraint("tenant_id", "code"),
)

access_role_assignment = Table(
    "access_role_assignment",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False),
    # Exactly one of user_id and api_key_id.
    Column("user_id", Uuid, ForeignKey("access_user.id"), nullable=True, index=True),
    Column("api_key_id", Uuid, ForeignKey("access_api_key.id"), nullable=True, index=True),
    Column("role", String(64), nullable=False),
    # The reach: all NULL = the whole tenant; else a region or site subtree, or one
    # organisation's relationships.
    Column("region_id", Uuid, nullable=True),
    Column("site_id", Uuid, nullable=True),
    Column("organization_id", Uuid, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

access_idempotency_key = Table(
    "access_idempotency_key",
    metadata,
    # Who sent it: the API key id, or "platform" for the admin token.
    Column("principal", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", JsonType, nullable=True),
    Column("headers", JsonType, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("principal", "key"),
)

access_quota = Table(
    "access_quota",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False, index=True),
    # NULL: the tenant-wide row (at most one per tenant, see the partial index below).
    Column("api_key_id", Uuid, ForeignKey("access_api_key.id"), nullable=True, unique=True),
    # Each limit NULL: no limit.
    Column("requests_per_s", Float, nullable=True),
    Column("requests_burst", Integer, nullable=True),
    Column("readings_per_s", Float, nullable=True),
    Column("devices", Integer, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)
# NULLs are distinct in a unique constraint on both databases, so the one tenant-wide row per
# tenant needs a partial index (same syntax on SQLite and PostgreSQL).
Index(
    "uq_access_quota_tenant_wide",
    access_quota.c.tenant_id,
    unique=True,
    sqlite_where=access_quota.c.api_key_id.is_(None),
    postgresql_where=access_quota.c.api_key_id.is_(None),
)
