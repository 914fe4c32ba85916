"""People and grants over HTTP: login and logout, who am I, users, roles, role assignments.

Login is the one write without a caller: it answers a session token (shown once) for the right
password. Everything else needs 'access:read' or 'access:write' in the tenant.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from starlette.responses import Response

from supplyline import access, audit
from supplyline.api import idempotency
from supplyline.api.deps import JSON, bearer_token, current_scope, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.errors import NotFound, Unauthorized
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Action, PrincipalKind, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(tags=["access"])
ACCESS_READ, ACCESS_WRITE = requires("access"), requires("access", Action.WRITE)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    tenant: str = Field(description="The tenant's slug")
    email: str
    password: str


# Refused by access with reasons of its own ("is not an e-mail address"): documented here, so
# that a generated client refuses them too, and checked there, so that the reasons stay.
EMAIL: JsonDict = {"pattern": access.EMAIL_RE.pattern}
PASSWORD: JsonDict = {"minLength": access.MIN_PASSWORD}


class UserIn(Strict):
    email: str = Field(max_length=254, json_schema_extra=EMAIL)
    name: str = Field(default="", max_length=200)
    password: str = Field(min_length=1, max_length=1000, json_schema_extra=PASSWORD)
    organization_id: uuid.UUID | None = Field(
        default=None, description="A partner organisation the person belongs to (none: the tenant's staff)"
    )


class UserPatch(Strict):
    name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1000, json_schema_extra=PASSWORD)
    disabled: bool | None = None


class RoleIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    permissions: list[Annotated[str, Field(json_schema_extra={"pattern": "^[^:]+:[^:]+$"})]] = Field(
        min_length=1, max_length=500, description="'resource:action' entries"
    )


class AssignmentIn(Strict):
    role: str
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    expires_at: AwareDatetime | None = None


class RevokeIn(Strict):
    reason: str = Field(default="", max_length=500)


async def _tenant_id(svc: Services, slug: str) -> uuid.UUID | None:
    async with svc.read_engine.connect() as conn:
        try:
            return (await access.get_tenant_by_slug(conn, slug)).id
        except NotFound:
            return None


def _resources(svc: Services) -> list[str]:
    return [spec.name for spec in svc.resources.catalog]


@router.post(
    "/auth/login",
    summary="Log in with e-mail and password; answers a session token",
    responses={401: {"description": "No such tenant, user or password, or a disabled user"}},
)
async def login(request: Request, body: LoginIn, svc: Services = Depends(services)) -> Response:
    session = await start_session(svc, body.tenant, body.email, body.password)
    return JSON({"token": session.token, "expires_at": session.expires_at.isoformat(), "user": session.user})


async def start_session(svc: Services, tenant: str, email: str, password: str) -> access.Session:
    """A session for the right password, its login on the audit trail either way; shared by
    this route and the console's form (``supplyline.console``)."""
    ttl = timedelta(hours=svc.settings.session_ttl_hours)
    try:
        async with svc.uow() as uow:
            session = await access.login(uow, tenant, email, password, ttl)
            await uow.commit()
    except Unauthorized as exc:
        tenant_id = await _tenant_id(svc, tenant)
        await audit.record_security(
            svc.uow,
            None,
            "auth.login",
            f"users/{email[:200]}",
            outcome="denied",
            reason=exc.detail,
            tenant_id=tenant_id,
        )
        raise
    user = session.user
    who = Scope(uuid.UUID(user["tenant_id"]), (), uuid.UUID(user["id"]), user["email"], PrincipalKind.USER)
    await audit.record_security(svc.uow, who, "auth.login", f"users/{user['id']}", outcome="ok")
    return session


@router.post(
    "/auth/logout",
    summary="End this session now",
    status_code=204,
    responses={422: {"description": "The credential is not a session token (an API key)"}},
)
async def logout(
    request: Request, scope: Scope = Depends(current_scope), svc: Services = Depends(services)
) -> Response:
    await end_session(svc, scope, bearer_token(request) or "")
    return Response(status_code=204)


async def end_session(svc: Services, scope: Scope, token: str) -> None:
    """End the session ``token`` of ``scope`` and record it; shared with the console."""
    async with svc.uow() as uow:
        await access.logout(uow, scope, token)
        await uow.commit()
    await audit.record_security(svc.uow, scope, "auth.logout", f"users/{scope.principal_id}", outcome="ok")


@router.get("/auth/me", summary="Who the caller is and what their grants reach")
async def me(scope: Scope = Depends(current_scope)) -> Response:
    return JSON(
        {
            "tenant_id": str(scope.tenant_id) if scope.tenant_id else None,
            "principal": scope.actor,
            "kind": scope.principal_kind.value,
            "organization_id": str(scope.organization_id) if scope.organization_id else None,
            "grants": [
                {
                    "role": g.role,
                    "permissions": sorted(g.permissions),
                    "reach": jsonable(
                        {
                            "kind": g.reach.kind.value,
                            "site_ids": sorted(str(s) for s in g.reach.site_ids),
                            "organization_id": g.reach.organization_id,
                            "organization_kind": g.reach.organization_kind,
                        }
                    ),
                }
                for g in scope.grants
            ],
        }
    )


@router.post(
    "/users",
    status_code=201,
    summary="Create a user (staff, or of a partner organisation)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def create_user(
    request: Request, body: UserIn, scope: Scope = ACCESS_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await access.create_user(
            uow, scope, body.email, body.name, body.password, body.organization_id
        )

    return await idempotency.write(request, svc, scope, action)


@router.get("/users", summary="Users of the tenant")
async def list_users(scope: Scope = ACCESS_READ, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON({"items": await access.list_users(conn, scope)})


@router.get("/users/{user_id}", summary="One user")
async def get_user(
    user_id: uuid.UUID, scope: Scope = ACCESS_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(await access.get_user(conn, scope, user_id))


@router.patch(
    "/users/{user_id}",
    summary="Rename, set a password, disable or enable a user",
    dependencies=[idempotency.IDEMPOTENT],
)
async def update_user(
    request: Request,
    user_id: uuid.UUID,
    body: UserPatch,
    scope: Scope = ACCESS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await access.update_user(
            uow, scope, user_id, name=body.name, password=body.password, disabled=body.disabled
        )

    return await idempotency.write(request, svc, scope, action, status_code=200)


@router.post(
    "/users/{user_id}/revoke-sessions",
    summary="End every session of a user now",
    dependencies=[idempotency.IDEMPOTENT],
)
async def revoke_sessions(
    request: Request,
    user_id: uuid.UUID,
    body: RevokeIn,
    scope: Scope = ACCESS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        ended = await access.revoke_sessions(uow, scope, user_id, body.reason)
        return {"user_id": str(user_id), "sessions_ended": ended}

    return await idempotency.write(request, svc, scope, action, status_code=200)


@router.get("/roles", summary="Built-in and custom roles with their permissions")
async def list_roles(scope: Scope = ACCESS_READ, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON({"items": await access.list_roles(conn, scope)})


@router.put(
    "/roles/{code}",
    summary="Define a custom role, or change its permissions",
    dependencies=[idempotency.IDEMPOTENT],
)
async def define_role(
    request: Request, code: str, body: RoleIn, scope: Scope = ACCESS_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await access.define_role(
            uow, scope, code, body.name, body.permissions, _resources(svc), body.description
        )

    return await idempotency.write(request, svc, scope, action, status_code=200)


@router.post(
    "/role-assignments",
    status_code=201,
    summary="Grant a role to a user or API key, over a reach",
    dependencies=[idempotency.IDEMPOTENT],
)
async def assign_role(
    request: Request, body: AssignmentIn, scope: Scope = ACCESS_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        cmd = access.AssignRole(**body.model_dump())
        return await access.assign_role(uow, scope, cmd)

    return await idempotency.write(request, svc, scope, action)


@router.get("/role-assignments", summary="Grants of the tenant (filter by user or key)")
async def list_assignments(
    user_id: uuid.UUID | None = Query(None),
    api_key_id: uuid.UUID | None = Query(None),
    scope: Scope = ACCESS_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON({"items": await access.list_assignments(conn, scope, user_id, api_key_id)})


@router.post(
    "/role-assignments/{assignment_id}/revoke",
    summary="Revoke a grant now",
    dependencies=[idempotency.IDEMPOTENT],
)
async def revoke_assignment(
    request: Request, assignment_id: uuid.UUID, scope: Scope = ACCESS_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await access.revoke_assignment(uow, scope, assignment_id)

    return await idempotency.write(request, svc, scope, action, status_code=200)
