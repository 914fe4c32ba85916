"""Tenants, API keys and idempotency records."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
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
    Column("role", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
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
