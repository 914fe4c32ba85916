"""Custom roles, role assignments (grants) and turning them into a caller's Scope grants.

An assignment gives a principal (a user or an API key) one role over a reach: the whole tenant,
a region's sites, one site, or one organisation's relationships; it may expire. People and keys
of a partner organisation only ever reach that organisation's relationships, whatever an
assignment says: that is checked when it is made and again every time grants are loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.access.events import ROLE_ASSIGNED, ROLE_ASSIGNMENT_REVOKED, ROLE_DEFINED
from supplyline.access.roles import BUILT_IN, check_permissions
from supplyline.access.tables import access_api_key, access_role, access_role_assignment, access_user
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Conflict, FieldError, Invalid, NotFound
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, Grant, Reach, ReachKind, Scope
from supplyline.kernel.uow import UnitOfWork

OWN = "own"  # organisations of this kind are the tenant itself: no narrowing


@dataclass(frozen=True)
class AssignRole:
    role: str
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    expires_at: datetime | None = None


def _event(type_: str, tenant: uuid.UUID, subject: str, data: dict[str, Any], actor: str) -> NewEvent:
    return NewEvent(
        type=type_, tenant_id=tenant, subject=subject, source="/supplyline/access", data=data, actor=actor
    )


# ---- roles ---------------------------------------------------------------------------------


async def list_roles(conn: AsyncConnection, scope: Scope) -> list[dict[str, Any]]:
    scope.require("access", Action.READ)
    out = [
        {
            "code": r.code,
            "name": r.name,
            "description": r.description,
            "permissions": sorted(r.permissions),
            "built_in": True,
            "partner": r.partner,
        }
        for r in BUILT_IN.values()
    ]
    t = access_role
    stmt = (
        select(t).where(t.c.tenant_id == scope.require_tenant(), t.c.archived_at.is_(None)).order_by(t.c.code)
    )
    for row in (await conn.execute(stmt)).mappings():
        out.append({**_role_view(row), "built_in": False, "partner": False})
    return out


def _role_view(row: Any) -> dict[str, Any]:
    keys = ("id", "code", "name", "description", "permissions", "created_at", "updated_at")
    return jsonable({k: row[k] for k in keys})


async def define_role(
    uow: UnitOfWork,
    scope: Scope,
    code: str,
    name: str,
    permissions: list[str],
    resources: Iterable[str],
    description: str | None = None,
) -> dict[str, Any]:
    """Create a custom role, or replace the permissions of one (the change is an event)."""
    scope.require("access", Action.WRITE)
    tenant = scope.require_tenant()
    if code in BUILT_IN:
        raise Invalid("code", f"'{code}' is a built-in role")
    perms = check_permissions(permissions, resources)
    t, now = access_role, utcnow()
    row = (
        (await uow.conn.execute(select(t).where(t.c.tenant_id == tenant, t.c.code == code)))
        .mappings()
        .first()
    )
    if row is None:
        values = {
            "id": new_id(),
            "tenant_id": tenant,
            "code": code,
            "name": name,
            "description": description,
            "permissions": perms,
            "created_at": now,
            "updated_at": now,
            "archived_at": None,
        }
        await uow.conn.execute(t.insert().values(**values))
    else:
        values = {**row, "name": name, "description": description, "permissions": perms, "updated_at": now}
        values["archived_at"] = None
        await uow.conn.execute(
            update(t)
            .where(t.c.id == row["id"])
            .values(name=name, description=description, permissions=perms, updated_at=now, archived_at=None)
        )
    view = _role_view(values)
    before = sorted(row["permissions"]) if row is not None else None
    uow.publish(
        _event(
            ROLE_DEFINED.type, tenant, f"roles/{code}", {**view, "previous_permissions": before}, scope.actor
        )
    )
    return view


# ---- assignments ---------------------------------------------------------------------------


async def assign_role(uow: UnitOfWork, scope: Scope, cmd: AssignRole) -> dict[str, Any]:
    scope.require("access", Action.WRITE)
    tenant = scope.require_tenant()
    conn = uow.conn
    if (cmd.user_id is None) == (cmd.api_key_id is None):
        raise Invalid("user_id", "name exactly one of user_id and api_key_id")
    reach_fields = [f for f in ("region_id", "site_id", "organization_id") if getattr(cmd, f) is not None]
    if len(reach_fields) > 1:
        raise Invalid(reach_fields[1], "a grant reaches one thing: a region, a site or an organisation")
    if cmd.expires_at is not None and cmd.expires_at <= utcnow():
        raise Invalid("expires_at", "is in the past")
    await check_role(conn, tenant, cmd.role)
    holder_org = await _holder_organization(conn, tenant, cmd)
    for field, kind in (("region_id", "regions"), ("site_id", "sites"), ("organization_id", "organizations")):
        value = getattr(cmd, field)
        if value is not None and not await registry.existing(conn, tenant, kind, [value]):
            raise Invalid(field, f"no such {kind[:-1]} in this tenant")
    if holder_org is not None:
        kinds = await registry.organization_kinds(conn, tenant, [holder_org])
        if kinds.get(holder_org, OWN) != OWN and cmd.organization_id != holder_org:
            raise Invalid(
                "organization_id",
                "a partner organisation's people and keys may only be granted its relationships",
            )
    row = {
        "id": new_id(),
        "tenant_id": tenant,
        "user_id": cmd.user_id,
        "api_key_id": cmd.api_key_id,
        "role": cmd.role,
        "region_id": cmd.region_id,
        "site_id": cmd.site_id,
        "organization_id": cmd.organization_id,
        "expires_at": cmd.expires_at,
        "created_at": utcnow(),
        "created_by": scope.actor,
        "revoked_at": None,
    }
    await conn.execute(access_role_assignment.insert().values(**row))
    view = jsonable(row)
    uow.publish(_event(ROLE_ASSIGNED.type, tenant, f"role-assignments/{row['id']}", view, scope.actor))
    return view


async def check_role(conn: AsyncConnection, tenant: uuid.UUID, role: str) -> None:
    if role in BUILT_IN:
        return
    t = access_role
    found = await conn.execute(
        select(t.c.id).where(t.c.tenant_id == tenant, t.c.code == role, t.c.archived_at.is_(None))
    )
    if found.first() is None:
        raise Invalid("role", f"no role '{role}' (built-in or defined in this tenant)")


async def _holder_organization(conn: AsyncConnection, tenant: uuid.UUID, cmd: AssignRole) -> uuid.UUID | None:
    t, field, holder = (
        (access_user, "user_id", cmd.user_id)
        if cmd.user_id is not None
        else (access_api_key, "api_key_id", cmd.api_key_id)
    )
    row = (
        await conn.execute(select(t.c.organization_id).where(t.c.tenant_id == tenant, t.c.id == holder))
    ).first()
    if row is None:
        raise Invalid(field, "no such principal in this tenant")
    org: uuid.UUID | None = row.organization_id
    return org


async def revoke_assignment(uow: UnitOfWork, scope: Scope, assignment_id: uuid.UUID) -> dict[str, Any]:
    scope.require("access", Action.WRITE)
    tenant = scope.require_tenant()
    t = access_role_assignment
    row = (
        (await uow.conn.execute(select(t).where(t.c.tenant_id == tenant, t.c.id == assignment_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no role assignment {assignment_id}")
    if row["revoked_at"] is not None:
        raise Conflict("already revoked", [FieldError("id", "revoked at " + row["revoked_at"].isoformat())])
    now = utcnow()
    await uow.conn.execute(update(t).where(t.c.id == assignment_id).values(revoked_at=now))
    view = jsonable({**row, "revoked_at": now})
    uow.publish(
        _event(ROLE_ASSIGNMENT_REVOKED.type, tenant, f"role-assignments/{assignment_id}", view, scope.actor)
    )
    return view


async def list_assignments(
    conn: AsyncConnection, scope: Scope, user_id: uuid.UUID | None = None, api_key_id: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    scope.require("access", Action.READ)
    t = access_role_assignment
    stmt = select(t).where(t.c.tenant_id == scope.require_tenant())
    if user_id is not None:
        stmt = stmt.where(t.c.user_id == user_id)
    if api_key_id is not None:
        stmt = stmt.where(t.c.api_key_id == api_key_id)
    return [jsonable(dict(r)) for r in (await conn.execute(stmt.order_by(t.c.created_at, t.c.id))).mappings()]


# ---- loading -------------------------------------------------------------------------------


async def load_grants(
    conn: AsyncConnection,
    tenant: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    api_key_id: uuid.UUID | None = None,
    base_role: str | None = None,
    organization_id: uuid.UUID | None = None,
    organization_kind: str | None = None,
    now: datetime | None = None,
) -> tuple[Grant, ...]:
    """The live grants of a principal at ``now``: expired and revoked assignments give nothing,
    so access ends at the expiry time without any job running. ``organization_kind``: the kind
    of the holder's organisation when the caller has just read it (``registry.
    organization_kind_of``), None to read it here."""
    now = now or utcnow()
    t = access_role_assignment
    holder = t.c.user_id == user_id if user_id is not None else t.c.api_key_id == api_key_id
    stmt = select(t).where(
        t.c.tenant_id == tenant,
        holder,
        t.c.revoked_at.is_(None),
        or_(t.c.expires_at.is_(None), t.c.expires_at > now),
    )
    rows: list[dict[str, Any]] = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    if base_role is not None:
        rows.insert(0, {"role": base_role, "region_id": None, "site_id": None, "organization_id": None})
    if not rows:
        return ()
    perms = await _permissions(conn, tenant, {r["role"] for r in rows})
    orgs = {r["organization_id"] for r in rows if r["organization_id"]} | ({organization_id} - {None})
    known = {organization_id: organization_kind} if organization_id and organization_kind else {}
    kinds = known | await registry.organization_kinds(
        conn, tenant, [o for o in orgs if o is not None and o not in known]
    )
    regions = await registry.region_site_ids(conn, tenant, [r["region_id"] for r in rows if r["region_id"]])
    if organization_id is not None and organization_id not in kinds:
        return ()  # the holder's organisation is gone: so is its access
    partner = organization_id is not None and kinds[organization_id] != OWN
    grants: list[Grant] = []
    for r in rows:
        if r["role"] not in perms:
            continue  # an archived custom role grants nothing
        org = organization_id if partner else r["organization_id"]
        if org is not None and kinds.get(org, OWN) != OWN:
            if partner and r["organization_id"] not in (None, organization_id):
                continue  # never wider than the holder's own organisation
            reach = Reach(ReachKind.ORGANIZATION, organization_id=org, organization_kind=kinds[org])
        elif org is not None and org not in kinds:
            continue  # the organisation is gone
        elif r["region_id"] is not None:
            reach = Reach(ReachKind.SITES, site_ids=frozenset(regions.get(r["region_id"], ())))
        elif r["site_id"] is not None:
            reach = Reach(ReachKind.SITES, site_ids=frozenset({r["site_id"]}))
        else:
            reach = Reach(ReachKind.TENANT)
        grants.append(Grant(r["role"], perms[r["role"]], reach))
    return tuple(grants)


async def _permissions(
    conn: AsyncConnection, tenant: uuid.UUID, roles: Iterable[str]
) -> dict[str, frozenset[str]]:
    out = {r: BUILT_IN[r].permissions for r in roles if r in BUILT_IN}
    custom: Sequence[str] = [r for r in roles if r not in BUILT_IN]
    if custom:
        t = access_role
        stmt = select(t.c.code, t.c.permissions).where(
            t.c.tenant_id == tenant, t.c.code.in_(custom), t.c.archived_at.is_(None)
        )
        out.update({row.code: frozenset(row.permissions) for row in await conn.execute(stmt)})
    return out
