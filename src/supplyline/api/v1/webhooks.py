"""Webhook subscriptions: a key or user asks for the events its grants reach, pushed to a URL."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import sharing
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
WEBHOOKS_READ, WEBHOOKS_WRITE = requires("webhooks"), requires("webhooks", Action.WRITE)


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        max_length=2000,
        description="Where to POST each event (CloudEvents JSON)",
        # As sharing checks it (any case of the scheme, a host): documented for clients.
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]+"},
    )
    event_types: list[str] = Field(
        default_factory=list, max_length=200, description="Wire types to send; none: every type you may see"
    )


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to the events your grants reach",
    dependencies=[idempotency.IDEMPOTENT],
)
async def subscribe(
    request: Request, body: SubscribeIn, scope: Scope = WEBHOOKS_WRITE, svc: Services = Depends(services)
) -> Response:
    known = {et.type for et in svc.event_types.all()}

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await sharing.subscribe(uow, scope, sharing.Subscribe(body.url, body.event_types), known)

    return await idempotency.write(request, svc, scope, action)


@router.get("", summary="Your webhook subscriptions (all of them for staff over the whole tenant)")
async def list_subscriptions(scope: Scope = WEBHOOKS_READ, svc: Services = Depends(services)) -> Response:
    async with svc.read_engine.connect() as conn:
        return JSON({"items": await sharing.list_subscriptions(conn, scope)})


@router.post(
    "/{subscription_id}/archive", summary="End a subscription", dependencies=[idempotency.IDEMPOTENT]
)
async def archive(
    request: Request,
    subscription_id: uuid.UUID,
    scope: Scope = WEBHOOKS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await sharing.archive_subscription(uow, scope, subscription_id)

    return await idempotency.write(request, svc, scope, action, status_code=200)
