"""Who is asking and what they may touch. Every read and write takes a Scope.

A Scope is a tenant plus the caller's grants. A grant is a set of permissions (``resource:
action`` strings, e.g. ``shipments:read``) and a reach: the whole tenant, a set of sites (a
region or site subtree), or one organisation's relationships (a carrier's shipments, an OEM's
equipment). What a grant reaches is turned into SQL in exactly one place,
``supplyline.resources.scoping.scoped``; here it is only data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from supplyline.kernel.errors import Forbidden


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    APPROVE = "approve"  # a human decision (releasing a hold): not implied by write


class ReachKind(StrEnum):
    TENANT = "tenant"
    SITES = "sites"
    ORGANIZATION = "organization"


@dataclass(frozen=True)
class Reach:
    """Where a grant looks. ``organization_kind`` says which relationships count (a carrier's
    are its shipments, an OEM's the assets it made); it is read from the organisation when the
    caller authenticates, never from the request."""

    kind: ReachKind
    site_ids: frozenset[uuid.UUID] = frozenset()
    organization_id: uuid.UUID | None = None
    organization_kind: str | None = None


TENANT_WIDE = Reach(ReachKind.TENANT)


@dataclass(frozen=True)
class Grant:
    role: str
    permissions: frozenset[str]  # "shipments:read", "*:read", "alarms:*", "*:*"
    reach: Reach = TENANT_WIDE

    def allows(self, resource: str, action: str) -> bool:
        p = self.permissions
        if f"{resource}:{action}" in p or f"{resource}:*" in p:
            return True
        return resource not in SENSITIVE and (f"*:{action}" in p or "*:*" in p)


# Resources a wildcard does not cover: a custom role built from "*:read" must not see prices
# or the audit trail, or manage access, unless it names them. Governance (retention, legal
# holds) too: with "*:write" a key could shorten retention and purge the trail of what it did,
# and a legal hold's reason may name a dispute. Integrations too: a connection receives the
# whole tenant's events whatever its creator's grants, so enabling one is a decision to name.
SENSITIVE = frozenset({"access", "audit", "commercial", "governance", "integrations", "quotas"})
ALL = frozenset({"*:*", *(f"{r}:*" for r in SENSITIVE)})


class PrincipalKind(StrEnum):
    API_KEY = "api_key"
    USER = "user"
    SYSTEM = "system"
    PLATFORM = "platform"


@dataclass(frozen=True)
class Scope:
    tenant_id: uuid.UUID | None
    grants: tuple[Grant, ...] = ()
    principal_id: uuid.UUID | None = None
    principal_name: str = ""
    principal_kind: PrincipalKind = PrincipalKind.API_KEY
    organization_id: uuid.UUID | None = None  # the caller's organisation (None: the tenant's staff)
    is_platform: bool = field(default=False)
    # The visibility rules that interpret narrowed grants (supplyline.resources.VisibilityRules),
    # attached by access when it mints the scope; the platform's own scopes need none.
    visibility: object | None = field(default=None, compare=False, repr=False)

    @classmethod
    def system(cls, tenant_id: uuid.UUID, name: str = "system") -> Scope:
        """The scope of the platform itself acting inside one tenant (imports, seeding, jobs)."""
        return cls(
            tenant_id=tenant_id,
            grants=(Grant("system", ALL),),
            principal_name=name,
            principal_kind=PrincipalKind.SYSTEM,
        )

    @classmethod
    def platform(cls, name: str = "platform-admin") -> Scope:
        return cls(
            tenant_id=None, principal_name=name, principal_kind=PrincipalKind.PLATFORM, is_platform=True
        )

    @property
    def actor(self) -> str:
        """Who acts, as events record it: ``api-key:<id> (<name>)``, ``user:<id> (<email>)`` or
        the system's name."""
        if self.principal_id is not None:
            kind = "user" if self.principal_kind is PrincipalKind.USER else "api-key"
            return f"{kind}:{self.principal_id} ({self.principal_name})"[:200]
        return self.principal_name[:200]

    @property
    def roles(self) -> list[str]:
        return list(dict.fromkeys(g.role for g in self.grants))

    def can(self, resource: str, action: str = Action.READ) -> bool:
        return any(g.allows(resource, action) for g in self.grants)

    def require(self, resource: str, action: str = Action.READ) -> None:
        if not self.can(resource, action):
            roles = ", ".join(self.roles) or "none"
            raise Forbidden(f"'{resource}:{action}' is not granted to this caller (roles: {roles})")

    def reaches(self, resource: str, action: str = Action.READ) -> tuple[Reach, ...] | None:
        """What the grants allowing ``resource:action`` reach; None when one of them reaches the
        whole tenant (no narrowing), an empty tuple when none allows it."""
        out: list[Reach] = []
        for g in self.grants:
            if g.allows(resource, action):
                if g.reach.kind is ReachKind.TENANT:
                    return None
                out.append(g.reach)
        return tuple(out)

    def require_platform(self) -> None:
        if not self.is_platform:
            raise Forbidden("only the platform administrator may do this")

    def require_tenant(self) -> uuid.UUID:
        """The tenant every query of this scope is confined to."""
        if self.tenant_id is None:
            raise Forbidden("this operation runs inside a tenant; use a tenant API key")
        return self.tenant_id
