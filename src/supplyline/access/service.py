"""Use cases for tenants and API keys (service identities, possibly of a partner organisation)."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.access.auth import PLATFORM_ROLE
from supplyline.access.events import API_KEY_CREATED, API_KEY_REVOKED, TENANT_CREATED
from supplyline.access.grants import check_role
from supplyline.access.keys import digest
from supplyline.access.tables import access_api_key, access_tenant
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, FieldError, Invalid, NotFound
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class TenantView:
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyView:
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    name: str
    prefix: str
    role: str
    organization_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKeyView
    token: str  # shown once, never stored


def _key_view(row: Any) -> ApiKeyView:
    return ApiKeyView(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        prefix=row["prefix"],
        role=row["role"],
        organization_id=row["organization_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


async def _insert_key(
    uow: UnitOfWork,
    tenant_id: uuid.UUID | None,
    name: str,
    role: str,
    expires_at: datetime | None,
    organization_id: uuid.UUID | None = None,
) -> CreatedKey:
    if expires_at is not None and expires_at.tzinfo is None:
        raise Invalid("expires_at", "must carry a time zone")
    prefix = secrets.token_hex(6)
    token = f"sl_{prefix}_{secrets.token_urlsafe(32)}"
    key_id = new_id()
    row: dict[str, Any] = {
        "id": key_id,
        "tenant_id": tenant_id,
        "name": name,
        "prefix": prefix,
        "secret_hash": digest(token),
        "role": role,
        "organization_id": organization_id,
        "created_at": utcnow(),
        "expires_at": expires_at,
        "revoked_at": None,
    }
    await uow.conn.execute(access_api_key.insert().values(**row))
    uow.publish(
        NewEvent(
            type=API_KEY_CREATED.type,
            tenant_id=tenant_id,
            subject=f"api-keys/{key_id}",
            source="/supplyline/access",
            data={
                "id": str(key_id),
                "name": name,
                "role": role,
                "prefix": prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "organization_id": str(organization_id) if organization_id else None,
            },
        )
    )
    return CreatedKey(_key_view(row), token)


async def create_tenant(uow: UnitOfWork, scope: Scope, slug: str, name: str) -> tuple[TenantView, CreatedKey]:
    """Create a tenant and its first admin key (the only way into a new tenant)."""
    scope.require_platform()
    if not SLUG_RE.match(slug):
        raise Invalid("slug", "2-63 characters: lower-case letters, digits and '-'")
    if not name.strip():
        raise Invalid("name", "must not be empty")
    taken = await uow.conn.execute(select(access_tenant.c.id).where(access_tenant.c.slug == slug))
    if taken.first() is not None:
        raise Conflict(f"a tenant with slug '{slug}' exists", [FieldError("slug", "taken by another tenant")])
    tenant = TenantView(id=new_id(), slug=slug, name=name.strip(), created_at=utcnow())
    await uow.conn.execute(
        access_tenant.insert().values(id=tenant.id, slug=slug, name=tenant.name, created_at=tenant.created_at)
    )
    uow.publish(
        NewEvent(
            type=TENANT_CREATED.type,
            tenant_id=tenant.id,
            subject=f"tenants/{tenant.id}",
            source="/supplyline/access",
            data={"id": str(tenant.id), "slug": slug, "name": tenant.name},
        )
    )
    key = await _insert_key(uow, tenant.id, "first admin key", "tenant_admin", None)
    return tenant, key


async def create_platform_key(uow: UnitOfWork, name: str = "platform admin") -> CreatedKey:
    """A key that may create tenants and nothing else (``supplyline admin bootstrap``)."""
    return await _insert_key(uow, None, name, PLATFORM_ROLE, None)


async def create_api_key(
    uow: UnitOfWork,
    scope: Scope,
    name: str,
    role: str,
    expires_at: datetime | None = None,
    organization_id: uuid.UUID | None = None,
) -> CreatedKey:
    """A service identity with one role; a partner organisation's key reaches only that
    organisation's relationships, whatever the role."""
    scope.require("access", Action.WRITE)
    tenant_id = scope.require_tenant()
    await check_role(uow.conn, tenant_id, role)
    if not name.strip():
        raise Invalid("name", "must not be empty")
    if organization_id is not None and not await registry.existing(
        uow.conn, tenant_id, "organizations", [organization_id]
    ):
        raise Invalid("organization_id", "no such organisation in this tenant")
    return await _insert_key(uow, tenant_id, name.strip(), role, expires_at, organization_id)


async def list_api_keys(conn: AsyncConnection, scope: Scope) -> list[ApiKeyView]:
    scope.require("access", Action.READ)
    stmt = (
        select(access_api_key)
        .where(access_api_key.c.tenant_id == scope.require_tenant())
        .order_by(access_api_key.c.id)
    )
    return [_key_view(r) for r in (await conn.execute(stmt)).mappings().all()]


async def revoke_api_key(uow: UnitOfWork, scope: Scope, key_id: uuid.UUID) -> ApiKeyView:
    scope.require("access", Action.WRITE)
    tenant_id = scope.require_tenant()
    row = (
        (
            await uow.conn.execute(
                select(access_api_key).where(
                    access_api_key.c.id == key_id, access_api_key.c.tenant_id == tenant_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no API key {key_id}")
    if row["revoked_at"] is not None:
        return _key_view(row)
    now = utcnow()
    await uow.conn.execute(update(access_api_key).where(access_api_key.c.id == key_id).values(revoked_at=now))
    uow.publish(
        NewEvent(
            type=API_KEY_REVOKED.type,
            tenant_id=tenant_id,
            subject=f"api-keys/{key_id}",
            source="/supplyline/access",
            data={"id": str(key_id), "prefix": row["prefix"]},
        )
    )
    return _key_view({**row, "revoked_at": now})


async def refused_key_scope(conn: AsyncConnection, prefix: str) -> Scope | None:
    """The key with this public prefix as it would act, without grants (it was refused), so
    that an audit entry of its refusal names it like its writes; None for no such key."""
    t = access_api_key
    stmt = select(t.c.id, t.c.name, t.c.tenant_id).where(t.c.prefix == prefix)
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return Scope(row.tenant_id, (), principal_id=row.id, principal_name=row.name)


async def list_tenants(conn: AsyncConnection, scope: Scope) -> list[TenantView]:
    scope.require_platform()
    rows = (await conn.execute(select(access_tenant).order_by(access_tenant.c.id))).mappings()
    return [TenantView(r["id"], r["slug"], r["name"], r["created_at"]) for r in rows.all()]


async def get_tenant(conn: AsyncConnection, tenant_id: uuid.UUID) -> TenantView:
    row = (
        (await conn.execute(select(access_tenant).where(access_tenant.c.id == tenant_id))).mappings().first()
    )
    if row is None:
        raise NotFound(f"no tenant {tenant_id}")
    return TenantView(row["id"], row["slug"], row["name"], row["created_at"])


async def tenant_id_of_slug(conn: AsyncConnection, slug: str) -> uuid.UUID:
    """The id of the tenant with this slug (NotFound otherwise)."""
    return (await get_tenant_by_slug(conn, slug)).id


async def get_tenant_by_slug(conn: AsyncConnection, slug: str) -> TenantView:
    row = (await conn.execute(select(access_tenant).where(access_tenant.c.slug == slug))).mappings().first()
    if row is None:
        raise NotFound(f"no tenant '{slug}'")
    return TenantView(row["id"], row["slug"], row["name"], row["created_at"])
