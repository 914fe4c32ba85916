"""Messages to other systems: queued in the transaction of the event that causes them, then
delivered with retries. A message is never dropped: while the other side is down it stays
``pending`` (with its attempts and last error for operators to see) and is tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.db.dialect import insert_ignore
from supplyline.db.keyset import newest_first, page
from supplyline.integrations.events import NOTIFICATION_QUEUED
from supplyline.integrations.tables import integrations_delivery
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import Invalid
from supplyline.kernel.events import NewEvent, StoredEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import scoped

log = logging.getLogger(__name__)
D = integrations_delivery
MAX_BACKOFF_S = 300.0
# The headers a target's endpoint needs on every request (a connection's credentials), read at
# send time: secrets stay encrypted with their connection, never copied into the outbox.
HeadersHook = Callable[[AsyncConnection, str], Awaitable[Mapping[str, str]]]


async def enqueue(
    conn: AsyncConnection, event: StoredEvent, target: str, url: str, payload: Mapping[str, Any]
) -> None:
    """Queue one message caused by ``event``; the same event and target twice queue it once."""
    now = utcnow()
    row = {
        "id": new_id(),
        "tenant_id": event.tenant_id,
        "target": target,
        "url": url,
        "payload": dict(payload),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "response": None,
        "event_id": event.id,
        "event_type": event.type,
        "correlation_id": event.correlation_id,
        "created_at": now,
        "delivered_at": None,
    }
    await insert_ignore(conn, D, [row], keys=("tenant_id", "target", "url", "event_id"))


async def queue_webhook(
    uow: UnitOfWork, cause: StoredEvent, url: str, payload: Mapping[str, Any], actor: str
) -> None:
    """Queue a webhook caused by ``cause`` and say so on the log (``notification.queued``),
    filed under what caused it (its subject and source), in the caller's transaction."""
    await enqueue(uow.conn, cause, "webhook", url, payload)
    data = {"target": "webhook", "url": url, "cause_event_id": str(cause.id), "cause_type": cause.type}
    uow.publish(
        NewEvent(
            type=NOTIFICATION_QUEUED.type,
            tenant_id=cause.tenant_id,
            subject=cause.subject,
            source=cause.source,
            data=data,
            actor=actor,
        )
    )


class Deliverer:
    """Sends due messages, oldest first, each with its delivery id as the Idempotency-Key (the
    receiver sees a retry after a lost answer as the same message)."""

    def __init__(
        self,
        engine: AsyncEngine,
        read_engine: AsyncEngine | None = None,
        timeout_s: float = 5.0,
        batch: int = 50,
        headers: HeadersHook | None = None,
    ) -> None:
        self.engine = engine
        self.headers = headers
        # Polling reads on the read engine: on SQLite a write connection takes the write lock.
        self.read_engine = read_engine or engine
        self.timeout_s = timeout_s
        self.batch = batch
        self.wake = asyncio.Event()

    async def run_once(self) -> int:
        """Try every due message once; returns how many were delivered."""
        now = utcnow()
        async with self.read_engine.connect() as conn:
            stmt = (
                select(D)
                .where(D.c.status == "pending", D.c.next_attempt_at <= now)
                .order_by(D.c.created_at)
                .limit(self.batch)
            )
            due = [dict(r) for r in (await conn.execute(stmt)).mappings()]
            extra: dict[str, Mapping[str, str]] = {}
            if self.headers is not None:
                for t in {row["target"] for row in due}:
                    extra[t] = await self.headers(conn, t)
        if not due:
            return 0
        delivered = 0
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            for row in due:
                delivered += await self._send(client, row, extra.get(row["target"], {}))
        return delivered

    async def _send(self, client: httpx.AsyncClient, row: dict[str, Any], extra: Mapping[str, str]) -> int:
        headers = {
            **extra,
            "Idempotency-Key": str(row["id"]),
            "X-Correlation-Id": row["correlation_id"] or "",
        }
        error, answer = None, None
        try:
            response = await client.post(row["url"], json=row["payload"], headers=headers)
            if response.is_success:
                answer = _json(response)
            else:
                error = f"HTTP {response.status_code}: {response.text[:500]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        now = utcnow()
        if error is None:
            values: dict[str, Any] = {
                "status": "delivered",
                "delivered_at": now,
                "response": answer,
                "attempts": row["attempts"] + 1,
                "last_error": None,
            }
        else:
            delay = min(MAX_BACKOFF_S, 2.0 ** min(row["attempts"], 10))
            values = {
                "attempts": row["attempts"] + 1,
                "last_error": error[:2000],
                "next_attempt_at": now + timedelta(seconds=delay),
            }
            log.warning(
                "delivery %s to %s failed (attempt %d): %s", row["id"], row["url"], row["attempts"] + 1, error
            )
        async with self.engine.begin() as conn:
            await conn.execute(update(D).where(D.c.id == row["id"]).values(**values))
        return 1 if error is None else 0

    async def run(self, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the database went away; the loop must outlive it
                log.exception("delivering the outbox failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), poll_interval)
            self.wake.clear()


async def list_deliveries(
    conn: AsyncConnection,
    scope: Scope,
    status: str | None = None,
    target: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    scope.require("deliveries")
    stmt = scoped(select(D), D, scope)
    if status is not None:
        if status not in ("pending", "delivered"):
            raise Invalid("status", "is one of pending, delivered")
        stmt = stmt.where(D.c.status == status)
    if target is not None:
        stmt = stmt.where(D.c.target == target)
    found = await page(conn, stmt, newest_first(D, "deliveries"), cursor, limit)
    return Page([_view(r) for r in found.items], found.next_cursor)


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    return jsonable(row)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:500]}
