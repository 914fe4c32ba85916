"""Alarms, lot holds, work orders and the outbox over HTTP: what operators act on.

Every write goes through ``idempotency.write`` (an Idempotency-Key makes a retry return the
first answer) and publishes its event in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import alarms, audit, integrations, logistics, maintenance, rules
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter()
ALARMS_READ, ALARMS_WRITE = requires("alarms"), requires("alarms", Action.WRITE)
HOLDS_READ, HOLDS_WRITE = requires("holds"), requires("holds", Action.WRITE)
HOLDS_APPROVE = requires("holds", Action.APPROVE)
WORK_ORDERS_READ, DELIVERIES_READ, RULES_READ = (
    requires("work-orders"),
    requires("deliveries", whole_tenant=True),
    requires("rules"),
)


class ClearIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str | None = Field(default=None, max_length=500)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=500, description="The inspection's finding.")


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    lot_id: uuid.UUID = Field(description="The lot to take out of sellable stock")
    reason: str = Field(min_length=1, max_length=500, description="Why it is held: what to inspect.")


HOLD_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such lot within the caller's reach"},
    409: {"description": "The lot is already on hold (the problem names the hold)"},
}


def _page(items: list[dict[str, Any]], next_cursor: str | None) -> Response:
    return JSON({"items": items, "next_cursor": next_cursor})


@router.get("/alarms", tags=["alarms"], summary="Alarms of the tenant, newest first")
async def list_alarms(
    status: alarms.Status | None = Query(None),
    active: bool | None = Query(None),
    severity: str | None = Query(None),
    type: str | None = Query(None, description="The rule code"),
    assignee: str | None = Query(None),
    originator_id: uuid.UUID | None = Query(None),
    rule_id: uuid.UUID | None = Query(None),
    device_id: uuid.UUID | None = Query(None),
    asset_id: uuid.UUID | None = Query(None),
    site_id: uuid.UUID | None = Query(None),
    shipment_id: uuid.UUID | None = Query(None),
    lot_id: uuid.UUID | None = Query(None),
    page_: PageQuery = PAGE,
    scope: Scope = ALARMS_READ,
    svc: Services = Depends(services),
) -> Response:
    filters = {k: v for k, v in locals().items() if k not in ("page_", "scope", "svc") and v is not None}
    async with svc.read_engine.connect() as conn:
        page = await alarms.list_alarms(conn, scope, filters, page_.cursor, page_.limit)
    return _page(page.items, page.next_cursor)


@router.get("/alarms/{alarm_id}", tags=["alarms"], summary="One alarm with its comments and SLA")
async def get_alarm(
    alarm_id: uuid.UUID, scope: Scope = ALARMS_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(await alarms.get_alarm(conn, scope, alarm_id))


async def _alarm_write(
    request: Request, svc: Services, scope: Scope, alarm_id: uuid.UUID, change: Any
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        await change(uow)
        return await alarms.get_alarm(uow.conn, scope, alarm_id)

    return await idempotency.write(request, svc, scope, action, status_code=200)


@router.post(
    "/alarms/{alarm_id}/acknowledge",
    tags=["alarms"],
    summary="Take the alarm on (stops its SLA)",
    dependencies=[idempotency.IDEMPOTENT],
)
async def acknowledge(
    alarm_id: uuid.UUID, request: Request, scope: Scope = ALARMS_WRITE, svc: Services = Depends(services)
) -> Response:
    return await _alarm_write(
        request, svc, scope, alarm_id, lambda uow: alarms.acknowledge(uow, scope, alarm_id)
    )


@router.post(
    "/alarms/{alarm_id}/assign",
    tags=["alarms"],
    summary="Assign (or unassign) the alarm",
    dependencies=[idempotency.IDEMPOTENT],
)
async def assign(
    alarm_id: uuid.UUID,
    body: alarms.AssignIn,
    request: Request,
    scope: Scope = ALARMS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    return await _alarm_write(
        request, svc, scope, alarm_id, lambda uow: alarms.assign(uow, scope, alarm_id, body.assignee)
    )


@router.post(
    "/alarms/{alarm_id}/comments",
    tags=["alarms"],
    summary="Comment on the alarm",
    dependencies=[idempotency.IDEMPOTENT],
)
async def comment(
    alarm_id: uuid.UUID,
    body: alarms.CommentIn,
    request: Request,
    scope: Scope = ALARMS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        note = await alarms.comment(uow, scope, alarm_id, body.text)
        return {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in note.items()} | {
            "created_at": note["created_at"].isoformat()
        }

    return await idempotency.write(request, svc, scope, action, audit_action="alarms.comment")


@router.post(
    "/alarms/{alarm_id}/clear",
    tags=["alarms"],
    summary="Clear the alarm by hand",
    dependencies=[idempotency.IDEMPOTENT],
)
async def clear(
    alarm_id: uuid.UUID,
    request: Request,
    body: ClearIn | None = None,
    scope: Scope = ALARMS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    reason = body.reason if body else None
    return await _alarm_write(
        request, svc, scope, alarm_id, lambda uow: alarms.clear(uow, scope, alarm_id, reason)
    )


@router.get("/holds", tags=["holds"], summary="Lot holds (quarantine for inspection), newest first")
async def list_holds(
    status: Literal["active", "released"] | None = Query(None),
    lot_id: list[uuid.UUID] = Query(
        [], max_length=100, description="Holds of these lots (repeatable, at most 100)"
    ),
    shipment_id: uuid.UUID | None = Query(None),
    alarm_id: uuid.UUID | None = Query(None),
    page_: PageQuery = PAGE,
    scope: Scope = HOLDS_READ,
    svc: Services = Depends(services),
) -> Response:
    filters = {"status": status, "lot_id": lot_id or None, "shipment_id": shipment_id, "alarm_id": alarm_id}
    async with svc.read_engine.connect() as conn:
        page = await logistics.list_holds(conn, scope, filters, page_.cursor, page_.limit)
    return _page(page.items, page.next_cursor)


@router.post(
    "/holds",
    status_code=201,
    tags=["holds"],
    summary="Hold a lot by hand: quarantined, all of its stock counted as held until released",
    description="Needs 'holds:write' reaching the lot; the hold is recorded as the caller's. "
    "Releasing it needs 'holds:approve' (POST /v1/holds/{hold_id}/release).",
    dependencies=[idempotency.IDEMPOTENT],
    responses=HOLD_ERRORS,
)
async def place_hold(
    body: HoldIn, request: Request, scope: Scope = HOLDS_WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await logistics.place_hold(uow, scope, body.lot_id, body.reason)

    return await idempotency.write(request, svc, scope, action)


@router.post(
    "/holds/{hold_id}/release",
    tags=["holds"],
    summary="Release a held lot (approval: admin role)",
    description="The approver's decision after inspection; the lot returns to its earlier status "
    "and to sellable stock. Needs a key with the admin role: an operator cannot approve.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def release(
    hold_id: uuid.UUID,
    body: ReleaseIn,
    request: Request,
    scope: Scope = HOLDS_APPROVE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await logistics.release_hold(uow, scope, hold_id, body.reason)

    return await idempotency.write(request, svc, scope, action, status_code=200)


@router.get("/work-orders", tags=["work orders"], summary="Work orders for service providers")
async def list_work_orders(
    status: Literal["open", "closed"] | None = Query(None),
    page_: PageQuery = PAGE,
    scope: Scope = WORK_ORDERS_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        page = await maintenance.list_work_orders(conn, scope, status, page_.cursor, page_.limit)
    return _page(page.items, page.next_cursor)


@router.get(
    "/deliveries",
    tags=["integrations"],
    summary="Messages to the ERP and webhooks: pending ones show attempts and the last error",
)
async def list_deliveries(
    status: Literal["pending", "delivered", "dead"] | None = Query(None),
    target: Literal["erp", "webhook"] | None = Query(None),
    page_: PageQuery = PAGE,
    scope: Scope = DELIVERIES_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        page = await integrations.list_deliveries(conn, scope, status, target, page_.cursor, page_.limit)
    return _page(page.items, page.next_cursor)


@router.post(
    "/rules/dry-run",
    tags=["rules"],
    summary="What a rule would have fired over stored history (nothing is written)",
    description="Checks the rule as a save would, then evaluates it on a fresh state over the "
    "readings of every device it would apply to, between `from` and `to`. The rule is judged on "
    "its own: other rules of its code that win elsewhere are not consulted.",
)
async def dry_run_rule(
    body: rules.DryRunIn, scope: Scope = RULES_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(await rules.dry_run(conn, scope, body, svc.clock()))


@router.get(
    "/rules/{rule_id}/history",
    tags=["rules"],
    summary="Every version of a rule: who changed what, when",
)
async def rule_history(
    rule_id: uuid.UUID, scope: Scope = RULES_READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        await svc.resources.get(conn, scope, "rules", rule_id)  # 404 for another tenant's
        events = await svc.events.read(
            conn,
            0,
            1000,
            tenant_id=scope.require_tenant(),
            subject=f"rules/{rule_id}",
            exclude_types=(audit.AUDIT_RECORDED.type,),  # the rule's own events fill the page
        )
    items = []
    for ev in events:
        kind = ev.type.removeprefix("supplyline.rule.").rsplit(".", 1)[0]
        if kind not in ("created", "updated", "archived"):
            continue
        record = ev.data.get("record", ev.data)
        items.append(
            {
                "version": record.get("version"),
                "change": kind,
                "changed": ev.data.get("changed", []),
                "actor": ev.actor,
                "at": ev.time.isoformat(),
                "rule": record,
            }
        )
    return JSON({"items": items})
