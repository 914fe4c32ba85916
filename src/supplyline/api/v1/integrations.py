"""Installed integrations and the tenant's connections to them.

``GET /v1/integrations`` lists the plug-ins installed in this deployment (entry-point group
``supplyline.integrations``) with their config schema; a tenant enables one with
``POST /v1/connections``, which validates the config, tries the live endpoint, and stores the
secrets encrypted. Connections reach the whole tenant's events, so the permission is named
(``integrations:*`` is not covered by ``*`` wildcards).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import integrations
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(tags=["integrations"])
READ = requires("integrations", whole_tenant=True)
WRITE = requires("integrations", Action.WRITE, whole_tenant=True)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such connection in this tenant"}}
ARCHIVED: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"description": "The connection is archived"},
}


class EnableIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    integration: str = Field(min_length=1, max_length=64, description="An installed integration's slug")
    name: str = Field(min_length=1, max_length=200, description="What operators call this connection")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Validated by the integration's config schema (GET /v1/integrations)",
    )


@router.get(
    "/integrations", summary="The integrations installed in this deployment, with their config schema"
)
async def list_installed(scope: Scope = READ, svc: Services = Depends(services)) -> Response:
    return JSON({"items": [p.manifest.as_dict() for p in svc.integrations.all()]})


@router.post(
    "/connections",
    status_code=201,
    summary="Enable an integration for this tenant: config validated and tried against the live endpoint",
    description="A 422 names each refused config field (`config.url`), or `config` when the "
    "endpoint check failed (nothing is saved then). Secret fields are stored encrypted and "
    "shown masked from then on.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def enable(
    body: EnableIn, request: Request, scope: Scope = WRITE, svc: Services = Depends(services)
) -> Response:
    cmd = integrations.Enable(body.integration, body.name, body.config)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await integrations.enable(uow, scope, svc.integrations, svc.telemetry.box, cmd)

    return await idempotency.write(request, svc, scope, action, audit_action="connections.create")


@router.get("/connections", summary="This tenant's connections with their health (newest first)")
async def list_connections(
    archived: bool = Query(False, description="Archived connections instead of live ones"),
    page_: PageQuery = PAGE,
    scope: Scope = READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        found = await integrations.list_connections(
            conn, scope, svc.integrations, archived=archived, cursor=page_.cursor, limit=page_.limit
        )
    return JSON({"items": found.items, "next_cursor": found.next_cursor})


@router.get(
    "/connections/{connection_id}",
    summary="One connection: config (secrets masked), health, lag",
    responses=NOT_FOUND,
)
async def get_connection(
    connection_id: uuid.UUID, scope: Scope = READ, svc: Services = Depends(services)
) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON(await integrations.get(conn, scope, svc.integrations, connection_id))


def _status_route(status: str, summary: str, audit_action: str) -> Any:
    async def change(
        connection_id: uuid.UUID, request: Request, scope: Scope = WRITE, svc: Services = Depends(services)
    ) -> Response:
        async def action(uow: UnitOfWork) -> dict[str, Any]:
            return await integrations.set_status(uow, scope, svc.integrations, connection_id, status)

        return await idempotency.write(
            request, svc, scope, action, status_code=200, audit_action=audit_action
        )

    change.__doc__ = summary
    return change


router.post(
    "/connections/{connection_id}/pause",
    summary="Pause a connection: its messages wait in the outbox, none is dropped",
    dependencies=[idempotency.IDEMPOTENT],
    responses=ARCHIVED,
)(_status_route("paused", "Pause", "connections.pause"))
router.post(
    "/connections/{connection_id}/resume",
    summary="Resume a paused connection: waiting messages flow again, oldest first",
    dependencies=[idempotency.IDEMPOTENT],
    responses=ARCHIVED,
)(_status_route("active", "Resume", "connections.resume"))


@router.post(
    "/connections/{connection_id}/test",
    summary="Try the connection's live endpoint again with its stored config",
    dependencies=[idempotency.IDEMPOTENT],
    responses=NOT_FOUND,
)
async def test_connection(
    connection_id: uuid.UUID, request: Request, scope: Scope = WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await integrations.test(uow, scope, svc.integrations, svc.telemetry.box, connection_id)

    return await idempotency.write(
        request, svc, scope, action, status_code=200, audit_action="connections.test"
    )


@router.post(
    "/connections/{connection_id}/archive",
    summary="End a connection: no new messages; waiting ones stay visible, paused",
    dependencies=[idempotency.IDEMPOTENT],
    responses=NOT_FOUND,
)
async def archive_connection(
    connection_id: uuid.UUID, request: Request, scope: Scope = WRITE, svc: Services = Depends(services)
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await integrations.archive(uow, scope, svc.integrations, connection_id)

    return await idempotency.write(
        request, svc, scope, action, status_code=200, audit_action="connections.archive"
    )
