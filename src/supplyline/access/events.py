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


TENANT_CREATED = EventType("tenant.created", 1, TenantCreated, "A tenant was created.")
API_KEY_CREATED = EventType("api_key.created", 1, ApiKeyCreated, "An API key was issued.")
API_KEY_REVOKED = EventType("api_key.revoked", 1, ApiKeyRevoked, "An API key was revoked.")

EVENT_TYPES = [TENANT_CREATED, API_KEY_CREATED, API_KEY_REVOKED]
