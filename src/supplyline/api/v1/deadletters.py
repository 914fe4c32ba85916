"""Dead-lettered MQTT messages of the caller's tenant: list them, replay one once it can pass."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from supplyline import access
from supplyline.api import idempotency
from supplyline.api.deps import JSON, requires, services
from supplyline.api.pagination import PAGE, PageQuery
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Conflict
from supplyline.kernel.json import INT_MAX
from supplyline.kernel.scope import Action, Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.telemetry import list_dead_letters, replay_dead_letter

router = APIRouter(tags=["telemetry"])
DEAD_LETTERS_READ = requires("dead-letters", whole_tenant=True)
DEAD_LETTERS_WRITE = requires("dead-letters", Action.WRITE, whole_tenant=True)


async def _slug(svc: Services, scope: Scope) -> str:
    async with svc.read_engine.connect() as conn:
        return (await access.get_tenant(conn, scope.require_tenant())).slug


@router.get(
    "/dead-letters",
    summary="MQTT messages that were refused, with the reason",
    description="Oldest first.",
)
async def list_(
    after: int | None = Query(None, ge=0, le=INT_MAX, description="Only dead letters with a greater id"),
    page_: PageQuery = PAGE,
    scope: Scope = DEAD_LETTERS_READ,
    svc: Services = Depends(services),
) -> Response:
    slug = await _slug(svc, scope)
    found = await list_dead_letters(
        svc.read_engine, slug, after=after, cursor=page_.cursor, limit=page_.limit
    )
    return JSON({"items": found.items, "next_cursor": found.next_cursor})


@router.post(
    "/dead-letters/{letter_id}/replay",
    summary="Run a dead letter through ingestion again",
    description=(
        "On success `replayed_at` is set and its readings are stored; otherwise it stays with the "
        "new `reason`. A dead letter is replayed at most once (409 after that)."
    ),
    dependencies=[idempotency.IDEMPOTENT],
)
async def replay(
    letter_id: Annotated[int, Path(ge=1, le=INT_MAX)],
    request: Request,
    scope: Scope = DEAD_LETTERS_WRITE,
    svc: Services = Depends(services),
) -> Response:
    slug = await _slug(svc, scope)
    # The readings commit through the telemetry writer, in its own transaction: it cannot run
    # inside the idempotency record's transaction (on SQLite that would wait on itself). So the
    # replay runs first and the record keeps its answer. A retry with the same key finds the
    # letter replayed (409) and then gets the recorded answer; without a key it gets the 409.
    body: dict[str, Any] = {}
    refused: Conflict | None = None
    try:
        body = await replay_dead_letter(svc.telemetry.messages, slug, letter_id)
    except Conflict as exc:
        refused = exc

    async def action(uow: UnitOfWork) -> dict[str, Any]:
        if refused is not None:
            raise refused
        return body

    return await idempotency.write(request, svc, scope, action, status_code=200)
