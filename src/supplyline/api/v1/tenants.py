"""Tenants (platform admins) and API keys (tenant admins)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import access
from supplyline.api import idempotency
from supplyline.api.deps import JSON, PLATFORM, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter()
ACCESS_READ, ACCESS_WRITE = requires("access"), requires("access", Action.WRITE)


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=200)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(description="A built-in role (GET /v1/roles) or one defined in this tenant")
    expires_at: AwareDatetime | None = None
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="A partner organisation's key: it reaches that organisation's relationships only.",
    )


class Tenant(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: AwareDatetime


class ApiKey(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID | None
    name: str
    prefix: str
    role: str
    organization_id: uuid.UUID | None = None
    created_at: AwareDatetime
    expires_at: AwareDatetime | None
    revoked_at: AwareDatetime | None


class IssuedKey(ApiKey):
    token: str | None = Field(
        description="The secret, shown once. A replay (Idempotency-Key) answers null: secrets are not stored."
    )


class TenantCreated(BaseModel):
    tenant: Tenant
    admin_key: IssuedKey


def _jsonable(obj: Any) -> dict[str, Any]:
    from pydantic import TypeAdapter

    out: dict[str, Any] = TypeAdapter(dict[str, Any]).dump_python(asdict(obj), mode="json")
    return out


def _issued(created: access.CreatedKey) -> dict[str, Any]:
    return {**_jsonable(created.key), "token": created.token}


def _without_token(body: dict[str, Any]) -> dict[str, Any]:
    """What an idempotency record may keep of a key-issuing answer: everything but the secret."""
    if "admin_key" in body:
        return {**body, "admin_key": {**body["admin_key"], "token": None}}
    return {**body, "token": None}


@router.post(
    "/tenants",
    status_code=201,
    response_model=TenantCreated,
    tags=["tenants"],
    summary="Create a tenant and its first admin API key (platform admin)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def create_tenant(
    request: Request,
    body: TenantCreate,
    scope: Scope = PLATFORM,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        tenant, key = await access.create_tenant(uow, scope, body.slug, body.name)
        return {"tenant": _jsonable(tenant), "admin_key": _issued(key)}

    return await idempotency.write(
        request,
        svc,
        scope,
        action,
        redact=_without_token,
        audit_object=lambda body: f"tenants/{body['tenant']['id']}",
    )


@router.get(
    "/tenants",
    response_model=list[Tenant],
    tags=["tenants"],
    summary="List tenants (platform admin)",
)
async def list_tenants(scope: Scope = PLATFORM, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        tenants = await access.list_tenants(conn, scope)
    return JSON([_jsonable(t) for t in tenants])


@router.post(
    "/api-keys",
    status_code=201,
    response_model=IssuedKey,
    tags=["api-keys"],
    summary="Issue an API key in this tenant (admin)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def create_api_key(
    request: Request,
    body: ApiKeyCreate,
    scope: Scope = ACCESS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        key = await access.create_api_key(
            uow, scope, body.name, body.role, body.expires_at, body.organization_id
        )
        return _issued(key)

    return await idempotency.write(request, svc, scope, action, redact=_without_token)


@router.get(
    "/api-keys",
    response_model=list[ApiKey],
    tags=["api-keys"],
    summary="List this tenant's API keys (admin)",
)
async def list_api_keys(scope: Scope = ACCESS_READ, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        keys = await access.list_api_keys(conn, scope)
    return JSON([_jsonable(k) for k in keys])


@router.post(
    "/api-keys/{key_id}/revoke",
    response_model=ApiKey,
    tags=["api-keys"],
    summary="Revoke an API key now (admin)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def revoke_api_key(
    request: Request, key_id: uuid.UUID, scope: Scope = ACCESS_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return _jsonable(await access.revoke_api_key(uow, scope, key_id))

    return await idempotency.write(request, svc, scope, action, status_code=200)
