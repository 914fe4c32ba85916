"""Who is asking and what they may touch. Every read and write takes a Scope.

The partner issue adds organisation grants; they slot in as ``grants`` and are applied by the
same single filter in ``supplyline.resources.scoping``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from supplyline.kernel.errors import Forbidden


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    PLATFORM = "platform"


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    SYSTEM = "system"


_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PLATFORM_ADMIN: frozenset({Permission.PLATFORM}),
    Role.ADMIN: frozenset({Permission.READ, Permission.WRITE, Permission.ADMIN}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.SYSTEM: frozenset({Permission.READ, Permission.WRITE, Permission.ADMIN}),
}


@dataclass(frozen=True)
class Grant:
    """A narrowing of what a principal sees (filled in by the partner-access issue)."""

    resource: str
    organization_id: uuid.UUID


@dataclass(frozen=True)
class Scope:
    tenant_id: uuid.UUID | None
    role: Role
    principal_id: uuid.UUID | None = None
    principal_name: str = ""
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @classmethod
    def system(cls, tenant_id: uuid.UUID, name: str = "system") -> Scope:
        """The scope of the platform itself acting inside one tenant (imports, seeding, jobs)."""
        return cls(tenant_id=tenant_id, role=Role.SYSTEM, principal_name=name)

    @classmethod
    def platform(cls, name: str = "platform-admin") -> Scope:
        return cls(tenant_id=None, role=Role.PLATFORM_ADMIN, principal_name=name)

    @property
    def actor(self) -> str:
        """Who acts, as events record it: ``api-key:<id> (<name>)`` or the system's name."""
        if self.principal_id is not None:
            return f"api-key:{self.principal_id} ({self.principal_name})"[:200]
        return self.principal_name[:200]

    def can(self, permission: Permission) -> bool:
        return permission in _ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(f"role '{self.role}' lacks the '{permission}' permission")

    def require_tenant(self) -> uuid.UUID:
        """The tenant every query of this scope is confined to."""
        if self.tenant_id is None:
            raise Forbidden("this operation runs inside a tenant; use a tenant API key")
        return self.tenant_id
