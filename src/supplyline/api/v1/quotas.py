"""Quotas: a tenant's (platform admin) and each API key's (the tenant's admin).

A PUT replaces the limits whole and names each one, null meaning no limit: a limit left out
is refused rather than silently lifted. The change applies at once in this process and within
SUPPLYLINE_QUOTA_REFRESH_S in the others.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import access
from supplyline.api import idempotency
from supplyline.api.deps import JSON, PLATFORM, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

QUOTAS_READ = requires("quotas", whole_tenant=True)
QUOTAS_WRITE = requires("quotas", Action.WRITE, whole_tenant=True)
router = APIRouter()

RATE = f"A second, from {access.MIN_RATE:g} to {access.MAX_RATE:,.0f}; null: no limit."
BURST = f"Requests at once, from 1 to {access.MAX_BURST:,}; null or absent: one second's worth."
# The bounds of access.Quota.checked, in the schema too: a client generated from the OpenAPI
# refuses what the server would.
RATE_BOUNDS: dict[str, Any] = {"ge": access.MIN_RATE, "le": access.MAX_RATE, "allow_inf_nan": False}


class KeyQuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests_per_s: float | None = Field(
        ..., **RATE_BOUNDS, description=f"API requests with this key. {RATE}"
    )
    requests_burst: int | None = Field(None, ge=1, le=access.MAX_BURST, description=BURST)


class TenantQuotaIn(KeyQuotaIn):
    requests_per_s: float | None = Field(
        ..., **RATE_BOUNDS, description=f"API requests, all keys together. {RATE}"
    )
    readings_per_s: float | None = Field(
        ..., **RATE_BOUNDS, description=f"Telemetry readings, HTTP and MQTT. {RATE}"
    )
    devices: int | None = Field(
        ..., ge=0, le=access.MAX_DEVICES, description="Devices (not archived); null: no limit."
    )


class KeyQuotaOut(BaseModel):
    tenant_id: uuid.UUID
    api_key_id: uuid.UUID
    requests_per_s: float | None
    requests_burst: int | None
    source: Literal["api_key", "none"] = Field(
        description="api_key: set for this key; none: only the tenant's limits apply to it."
    )
    updated_at: AwareDatetime | None


class TenantQuotaOut(BaseModel):
    tenant_id: uuid.UUID
    requests_per_s: float | None
    requests_burst: int | None
    readings_per_s: float | None
    devices: int | None
    source: Literal["tenant", "default"] = Field(
        description="tenant: set for this tenant; default: the platform's (SUPPLYLINE_QUOTA_*)."
    )
    updated_at: AwareDatetime | None


async def _write(
    request: Request, svc: Services, scope: Scope, action: idempotency.Action, audit_action: str
) -> Response:
    try:
        return await idempotency.write(
            request, svc, scope, action, status_code=200, audit_action=audit_action
        )
    finally:
        svc.throttle.invalidate()


@router.get(
    "/tenants/{tenant_id}/quotas",
    response_model=TenantQuotaOut,
    tags=["tenants"],
    summary="A tenant's quotas (platform admin)",
)
async def tenant_quotas(
    tenant_id: uuid.UUID, scope: Scope = PLATFORM, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        view = await access.tenant_quota(conn, scope, tenant_id, svc.throttle.defaults)
    return JSON(view.as_dict())


@router.put(
    "/tenants/{tenant_id}/quotas",
    response_model=TenantQuotaOut,
    tags=["tenants"],
    summary="Set a tenant's quotas, in place of the defaults (platform admin)",
    description="Past a limit the API answers 429 with Retry-After; an MQTT message is dead-lettered.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def set_tenant_quotas(
    request: Request,
    tenant_id: uuid.UUID,
    body: TenantQuotaIn,
    scope: Scope = PLATFORM,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        quota = access.Quota(**body.model_dump())
        return (await access.set_tenant_quota(uow, scope, tenant_id, quota)).as_dict()

    return await _write(request, svc, scope, action, "tenants.quotas.set")


@router.delete(
    "/tenants/{tenant_id}/quotas",
    response_model=TenantQuotaOut,
    tags=["tenants"],
    summary="Remove a tenant's own quotas: the defaults apply again (platform admin)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def clear_tenant_quotas(
    request: Request, tenant_id: uuid.UUID, scope: Scope = PLATFORM, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        view = await access.clear_tenant_quota(uow, scope, tenant_id, svc.throttle.defaults)
        return view.as_dict()

    return await _write(request, svc, scope, action, "tenants.quotas.clear")


@router.get(
    "/api-keys/{key_id}/quotas",
    response_model=KeyQuotaOut,
    tags=["api-keys"],
    summary="An API key's own request limit (admin)",
)
async def key_quotas(
    key_id: uuid.UUID, scope: Scope = QUOTAS_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON((await access.key_quota(conn, scope, key_id)).as_dict())


@router.put(
    "/api-keys/{key_id}/quotas",
    response_model=KeyQuotaOut,
    tags=["api-keys"],
    summary="Limit one API key's requests, within the tenant's (admin)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def set_key_quotas(
    request: Request,
    key_id: uuid.UUID,
    body: KeyQuotaIn,
    scope: Scope = QUOTAS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        quota = access.Quota(**body.model_dump())
        return (await access.set_key_quota(uow, scope, key_id, quota)).as_dict()

    return await _write(request, svc, scope, action, "api_keys.quotas.set")
