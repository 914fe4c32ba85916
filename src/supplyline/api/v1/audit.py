"""The audit trail over HTTP: the tenant's entries for auditors, as JSON pages or one CSV file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel
from starlette.responses import Response, StreamingResponse

from supplyline import audit
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Scope

# The trail answers about the tenant as a whole: an auditor's grant must reach all of it.
AUDIT_READ = requires("audit", whole_tenant=True)
router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntry(BaseModel):
    id: str
    position: int
    time: str
    tenant_id: str | None
    actor: str | None
    principal_id: str | None
    organization_id: str | None
    action: str
    object: str
    outcome: audit.Outcome
    reason: str | None
    before: Any
    after: Any
    method: str | None
    path: str | None
    request_id: str | None
    correlation_id: str | None
    key_prefix: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


def filters(
    actor: str | None = Query(None, description="Entries whose actor starts with this, e.g. api-key:<id>"),
    action: str | None = Query(None, description="e.g. shipments.update, or shipments.* for all of them"),
    object: str | None = Query(None, description="e.g. shipments/<id>, or shipments/* for all of them"),
    outcome: Literal["ok", "denied"] | None = Query(None),
    since: AwareDatetime | None = Query(None, description="From this instant (inclusive)"),
    until: AwareDatetime | None = Query(None, description="Before this instant (exclusive)"),
    correlation_id: str | None = Query(None),
) -> audit.AuditFilter:
    return audit.AuditFilter(actor, action, object, outcome, since, until, correlation_id)


@router.get("", response_model=AuditPage, summary="The tenant's audit trail, newest first (admin)")
async def list_audit(
    f: audit.AuditFilter = Depends(filters),
    page_: PageQuery = PAGE,
    scope: Scope = AUDIT_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        page = await audit.list_entries(conn, scope.require_tenant(), f, page_.cursor, page_.limit)
    return JSON({"items": page.items, "next_cursor": page.next_cursor})


@router.get(
    "/export",
    summary="The tenant's audit trail as CSV, newest first (admin); the export is itself recorded",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "A header row, then one row per entry"}},
)
async def export_audit(
    f: audit.AuditFilter = Depends(filters),
    scope: Scope = AUDIT_READ,
    svc: Services = Depends(services),
) -> Response:
    tenant_id = scope.require_tenant()
    # Recorded before the first row is read: an export cut short was still an export.
    await audit.record_security(svc.uow, scope, "audit.export", "audit", outcome="ok")

    async def rows() -> AsyncIterator[str]:
        yield audit.csv_text([], header=True)
        async with svc.read_engine.connect() as conn:
            async for batch in audit.stream_entries(conn, tenant_id, f):
                yield audit.csv_text(batch)

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
