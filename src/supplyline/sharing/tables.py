"""Webhook subscriptions of a tenant's principals (staff or partners)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, LargeBinary, String, Table, Uuid

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

sharing_webhook = Table(
    "sharing_webhook",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, ForeignKey("access_tenant.id"), nullable=False, index=True),
    # Whose grants filter the events: exactly one of the two.
    Column("api_key_id", Uuid, nullable=True),
    Column("user_id", Uuid, nullable=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JsonType, nullable=False),  # [] = every type the owner may see
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("archived_at", UTCDateTime, nullable=True),
    # The Standard Webhooks signing secret (whsec_...), encrypted with the server key; after a
    # rotation the previous one signs too until previous_secret_until. Subscriptions made
    # before signing have none until their secret is rotated.
    Column("secret_enc", LargeBinary, nullable=True),
    Column("previous_secret_enc", LargeBinary, nullable=True),
    Column("previous_secret_until", UTCDateTime, nullable=True),
)
