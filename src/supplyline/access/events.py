"""Events of the access capability. Secrets never appear in an event."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class TenantCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    slug: str
    name: str


class ApiKeyCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    name: str
    role: str
    prefix: str
    expires_at: datetime | None = None


class ApiKeyRevoked(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    prefix: str


class QuotaSet(BaseModel):
    """The limits now in force for a tenant (``api_key_id`` null) or one API key; null: none."""

    model_config = ConfigDict(extra="forbid")
    tenant_id: uuid.UUID
    api_key_id: uuid.UUID | None
    requests_per_s: float | None
    requests_burst: int | None
    readings_per_s: float | None
    devices: int | None


class QuotaCleared(BaseModel):
    """The tenant's own limits were removed: the platform defaults apply again."""

    model_config = ConfigDict(extra="forbid")
    tenant_id: uuid.UUID
    api_key_id: uuid.UUID | None


TENANT_CREATED = EventType("tenant.created", 1, TenantCreated, "A tenant was created.")
API_KEY_CREATED = EventType("api_key.created", 1, ApiKeyCreated, "An API key was issued.")
API_KEY_REVOKED = EventType("api_key.revoked", 1, ApiKeyRevoked, "An API key was revoked.")

QUOTA_SET = EventType("quota.set", 1, QuotaSet, "A tenant's or an API key's quota was set.")
QUOTA_CLEARED = EventType("quota.cleared", 1, QuotaCleared, "A quota was removed; defaults apply.")

EVENT_TYPES = [TENANT_CREATED, API_KEY_CREATED, API_KEY_REVOKED, QUOTA_SET, QUOTA_CLEARED]
