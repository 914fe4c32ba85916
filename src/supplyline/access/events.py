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


class ApiKeyCreatedV2(ApiKeyCreated):
    organization_id: uuid.UUID | None = None


class RoleDefined(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    code: str
    name: str
    description: str | None = None
    permissions: list[str]
    previous_permissions: list[str] | None = None
    created_at: datetime
    updated_at: datetime


class RoleAssignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    role: str
    region_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    expires_at: datetime | None = None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


class User(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID
    tenant_id: uuid.UUID
    organization_id: uuid.UUID | None = None
    email: str
    name: str
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None = None


class UserChanged(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record: User
    changed: list[str]


class SessionsRevoked(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID
    sessions: int
    reason: str


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
API_KEY_CREATED_V1 = EventType("api_key.created", 1, ApiKeyCreated, "An API key was issued.")
API_KEY_CREATED = EventType(
    "api_key.created", 2, ApiKeyCreatedV2, "An API key was issued (for a partner organisation if named)."
)
API_KEY_REVOKED = EventType("api_key.revoked", 1, ApiKeyRevoked, "An API key was revoked.")

QUOTA_SET = EventType("quota.set", 1, QuotaSet, "A tenant's or an API key's quota was set.")
QUOTA_CLEARED = EventType("quota.cleared", 1, QuotaCleared, "A quota was removed; defaults apply.")

ROLE_DEFINED = EventType(
    "role.defined", 1, RoleDefined, "A custom role was created or its permissions changed."
)
ROLE_ASSIGNED = EventType(
    "role_assignment.created", 1, RoleAssignment, "A role was granted to a user or key."
)
ROLE_ASSIGNMENT_REVOKED = EventType("role_assignment.revoked", 1, RoleAssignment, "A grant was revoked.")
USER_CREATED = EventType("user.created", 1, User, "A user was created.")
USER_UPDATED = EventType("user.updated", 1, UserChanged, "A user changed (name, password, disabled).")
SESSIONS_REVOKED = EventType("user.sessions_revoked", 1, SessionsRevoked, "A user's sessions were ended.")

EVENT_TYPES = [
    TENANT_CREATED,
    API_KEY_CREATED_V1,
    API_KEY_CREATED,
    API_KEY_REVOKED,
    ROLE_DEFINED,
    ROLE_ASSIGNED,
    ROLE_ASSIGNMENT_REVOKED,
    USER_CREATED,
    USER_UPDATED,
    SESSIONS_REVOKED,
    QUOTA_SET,
    QUOTA_CLEARED,
]
