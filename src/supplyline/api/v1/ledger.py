"""The traceability ledger over HTTP: the caller's tenant's checkpoints, and their verification."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel
from starlette.responses import Response

from supplyline import trace
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.json import INT_MAX
from supplyline.kernel.scope import Scope

router = APIRouter()
LEDGER_READ = requires("ledger", whole_tenant=True)


class CheckpointOut(BaseModel):
    tenant_id: str
    seq: int
    event_id: str
    event_position: int
    event_type: str
    subject: str
    correlation_id: str | None
    event_hash: str
    prev_hash: str
    hash: str
    signature: str
    recorded_at: AwareDatetime


class CheckpointPage(BaseModel):
    items: list[CheckpointOut]
    next_cursor: str | None


class ProblemOut(BaseModel):
    tenant_id: str
    seq: int | None
    kind: trace.ProblemKind
    message: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    tenants: int
    problems: list[ProblemOut]


@router.get(
    "/ledger/checkpoints",
    response_model=CheckpointPage,
    tags=["ledger"],
    summary="This tenant's traceability checkpoints, in chain order",
)
async def list_checkpoints(
    after: int = Query(0, ge=0, le=INT_MAX, description="Only checkpoints after this seq"),
    page_: PageQuery = PAGE,
    scope: Scope = LEDGER_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await trace.list_checkpoints(
            conn, scope.require_tenant(), after=after, cursor=page_.cursor, limit=page_.limit
        )
    return JSON({"items": [c.as_dict() for c in found.items], "next_cursor": found.next_cursor})


@router.get(
    "/ledger/verify",
    response_model=VerifyOut,
    tags=["ledger"],
    summary="Verify this tenant's checkpoint chain against the event log",
)
async def verify_ledger(scope: Scope = LEDGER_READ, svc: Services = Depends(services)) -> Response:
    key = trace.ledger_key(svc.settings.secret_key, svc.settings.data_dir)
    coverage = await trace.recorder_coverage(svc.consumers)
    async with svc.read_engine.connect() as conn:
        report = await trace.verify(conn, key, scope.require_tenant(), coverage=coverage)
    return JSON(report.as_dict())
