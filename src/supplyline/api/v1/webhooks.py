"""Webhook subscriptions: a key or user asks for the events its grants reach, pushed to a URL,
signed after the Standard Webhooks specification (docs/webhooks.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from supplyline import sharing
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
WEBHOOKS_READ, WEBHOOKS_WRITE = requires("webhooks"), requires("webhooks", Action.WRITE)
MAX_POSITION = 2**63 - 1


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        max_length=2000,
        description="Where to POST each event (CloudEvents JSON, signed). Private, loopback, "
        "link-local and reserved addresses are refused unless the operator allows them.",
        # As sharing checks it (any case of the scheme, a host): documented for clients.
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]+"},
    )
    event_types: list[str] = Field(
        default_factory=list, max_length=200, description="Wire types to send; none: every type you may see"
    )


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_position: int = Field(
        ge=1, le=MAX_POSITION, description="First position of the event log to send again"
    )
    to_position: int = Field(ge=1, le=MAX_POSITION, description="Last position to send again (included)")
    replay_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern="^[A-Za-z0-9._:-]+$",
        description="Names the replay: the same id again queues no event twice. Unset: a new one.",
    )


def _secret_kept_out(body: dict[str, Any]) -> dict[str, Any]:
    """What the idempotency record and the audit trail keep: everything but the secret (a
    replay answers ``"secret": null``)."""
    return {**body, "secret": None}


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to the events your grants reach",
    description="The answer carries the signing secret (`whsec_...`) once; a retry with the same "
    "Idempotency-Key answers without it. Keep it to verify the `webhook-signature` header.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def subscribe(
    request: Request, body: SubscribeIn, scope: Scope = WEBHOOKS_WRITE, svc: Services = Depends(services)
) -> Response:
    known = {et.type for et in svc.event_types.all()}
    await sharing.vet_url(body.url, svc.deliverer.policy.targets)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        cmd = sharing.Subscribe(body.url, body.event_types)
        return await sharing.subscribe(uow, scope, cmd, known, svc.telemetry.box)

    return await idempotency.write(request, svc, scope, action, redact=_secret_kept_out)


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


@router.post(
    "/{subscription_id}/rotate-secret",
    summary="A new signing secret, shown once; the old one signs too during the overlap",
    description="Both secrets sign every delivery (two `v1,` signatures) for "
    "SUPPLYLINE_WEBHOOK_SECRET_OVERLAP_HOURS, then only the new one.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def rotate_secret(
    request: Request,
    subscription_id: uuid.UUID,
    scope: Scope = WEBHOOKS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    overlap = timedelta(hours=svc.settings.webhook_secret_overlap_hours)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        box = svc.telemetry.box
        return await sharing.rotate_secret(uow, scope, subscription_id, box, svc.clock(), overlap)

    return await idempotency.write(request, svc, scope, action, status_code=200, redact=_secret_kept_out)


@router.get(
    "/{subscription_id}/deliveries",
    summary="A subscription's deliveries, newest first: status=dead lists its dead letters",
)
async def list_deliveries(
    subscription_id: uuid.UUID,
    status: Literal["pending", "delivered", "dead"] | None = Query(None),
    page_: PageQuery = PAGE,
    scope: Scope = WEBHOOKS_READ,
    svc: Services = Depends(services),
) -> Response:
    async with svc.read_engine.connect() as conn:
        page = await sharing.list_deliveries(conn, scope, subscription_id, status, page_.cursor, page_.limit)
    return JSON({"items": page.items, "next_cursor": page.next_cursor})


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/retry",
    summary="Send a dead (or pending) delivery again, now, with a fresh count of attempts",
    responses={409: {"description": "The delivery was delivered: replay its event instead"}},
    dependencies=[idempotency.IDEMPOTENT],
)
async def retry_delivery(
    request: Request,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    scope: Scope = WEBHOOKS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await sharing.retry_delivery(uow, scope, subscription_id, delivery_id, svc.clock())

    response = await idempotency.write(request, svc, scope, action, status_code=200)
    svc.deliverer.wake.set()
    return response


@router.post(
    "/{subscription_id}/replay",
    status_code=202,
    summary="Send a range of the event log again, as the subscription's grants reach it now",
    description="Each event between the two positions (included) that the subscription would "
    "carry is queued as a new delivery flagged with `replay_id`; the same replay_id again "
    "queues nothing twice.",
    dependencies=[idempotency.IDEMPOTENT],
)
async def replay(
    request: Request,
    subscription_id: uuid.UUID,
    body: ReplayIn,
    scope: Scope = WEBHOOKS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    fanout = sharing.WebhookFanout(svc.catalog, svc.visibility)
    cmd = sharing.Replay(body.from_position, body.to_position, body.replay_id)

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        return await sharing.replay(uow, scope, subscription_id, cmd, fanout)

    response = await idempotency.write(request, svc, scope, action, status_code=202)
    svc.deliverer.wake.set()
    return response
