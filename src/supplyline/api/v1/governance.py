"""Governance over HTTP: the tenant's retention per data class, and its legal holds.

Whole-tenant routes: ``governance:read`` / ``governance:write`` (a sensitive resource: a
wildcard grant does not cover it). A PUT of retention replaces it whole and names every class,
null meaning the default, as quotas do: a class left out is refused rather than reset.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import governance
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

GOVERNANCE_READ = requires("governance", whole_tenant=True)
GOVERNANCE_WRITE = requires("governance", Action.WRITE, whole_tenant=True)
router = APIRouter()

KEEP = "null: the default"


def _days(data_class: governance.DataClass, what: str) -> Any:
    low, high = governance.MIN_DAYS[data_class], governance.MAX_DAYS
    return Field(..., ge=low, le=high, description=f"{what}: days, {low} to {high}; {KEEP}.")


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    telemetry: int | None = _days(
        "telemetry",
        "Readings, where no retention policy (/v1/retention-policies) covers the device's profile "
        "or the tenant; default SUPPLYLINE_TELEMETRY_RETENTION_DAYS",
    )
    events: int | None = _days("events", "Event-log events other than audit entries; default: kept")
    audit: int | None = _days("audit", "Audit entries; default: kept")
    traceability: int | None = _days("traceability", "Ledger checkpoints; default: kept")


class ClassRetentionOut(BaseModel):
    days: int | None = Field(description="null: kept for ever")
    source: Literal["tenant", "default"] = Field(
        description="tenant: set for this tenant; default: the platform's."
    )
    updated_at: AwareDatetime | None
    updated_by: str | None


class RetentionOut(BaseModel):
    tenant_id: uuid.UUID
    telemetry: ClassRetentionOut
    events: ClassRetentionOut
    audit: ClassRetentionOut
    traceability: ClassRetentionOut


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data_class: governance.DataClass | None = Field(
        default=None, description="The class whose purging stops; null: every class."
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why the data must be kept.")


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=2000)


class HoldOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    data_class: governance.DataClass | None
    reason: str
    active: bool
    placed_at: AwareDatetime
    placed_by: str
    released_at: AwareDatetime | None
    released_by: str | None
    release_reason: str | None


class HoldList(BaseModel):
    items: list[HoldOut]


@router.get(
    "/governance/retention",
    response_model=RetentionOut,
    tags=["governance"],
    summary="How long each class of this tenant's data is kept",
)
async def get_retention(scope: Scope = GOVERNANCE_READ, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        view = await governance.retention(conn, scope, svc.settings.telemetry_retention_days)
    return JSON(view.as_dict())


@router.put(
    "/governance/retention",
    response_model=RetentionOut,
    tags=["governance"],
    summary="Set how long each class of this tenant's data is kept",
    description="The purge runs in the background (SUPPLYLINE_RETENTION_PURGE_INTERVAL_S) and leaves "
    "an audit entry (retention.purge) for what it deleted. An audit entry or a checkpointed event "
    "is kept while its ledger checkpoint is: in effect, for the longer of its class's retention "
    "and traceability's.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def put_retention(
    request: Request, body: RetentionIn, scope: Scope = GOVERNANCE_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        days: dict[governance.DataClass, int | None] = {
            cls: getattr(body, cls) for cls in governance.DATA_CLASSES
        }
        view = await governance.set_retention(uow, scope, days, svc.settings.telemetry_retention_days)
        return view.as_dict()

    return await idempotency.write(request, svc, scope, action, status_code=200)


@router.get(
    "/governance/legal-holds",
    response_model=HoldList,
    tags=["governance"],
    summary="This tenant's legal holds, newest first",
)
async def get_holds(
    active: bool | None = Query(None, description="true: only holds in force; false: only released ones"),
    scope: Scope = GOVERNANCE_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        holds = await governance.list_holds(conn, scope, active=active)
    return JSON({"items": [h.as_dict() for h in holds]})


@router.post(
    "/governance/legal-holds",
    response_model=HoldOut,
    status_code=201,
    tags=["governance"],
    summary="Place a legal hold: nothing of its class is purged until it is released",
    description="A hold on audit entries or events holds the ledger's checkpoints too.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def post_hold(
    request: Request, body: HoldIn, scope: Scope = GOVERNANCE_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return (await governance.place_hold(uow, scope, body.data_class, body.reason)).as_dict()

    return await idempotency.write(request, svc, scope, action)


@router.post(
    "/governance/legal-holds/{hold_id}/release",
    response_model=HoldOut,
    tags=["governance"],
    summary="Release a legal hold: purging resumes at the next run, unless another hold covers it",
    dependencies=[idempotency.IDEMPOTENT],
)
async def release_hold(
    request: Request,
    hold_id: uuid.UUID,
    body: ReleaseIn | None = None,
    scope: Scope = GOVERNANCE_WRITE,
    svc: Services = Depends(services),
) -> Response:
    reason = body.reason if body is not None else None

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return (await governance.release_hold(uow, scope, hold_id, reason)).as_dict()

    return await idempotency.write(request, svc, scope, action, status_code=200)
