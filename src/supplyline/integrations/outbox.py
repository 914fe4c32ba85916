"""Messages to other systems: queued in the transaction of the event that causes them, then
delivered at least once, with retries (``delivery``: backoff with full jitter, a circuit breaker
per endpoint). A message is never dropped: while the other side is down it stays ``pending``
(with its attempts and last errors for operators to see) and is tried again later; a webhook
subscription's delivery that keeps failing becomes ``dead``, set aside until someone asks for
it again. Deliveries of one subject to one target go in log order: the next waits while an
earlier one is pending. Webhooks are signed (``signing``) and guarded against SSRF (``ssrf``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.db.dialect import insert_ignore
from supplyline.db.keyset import newest_first, page
from supplyline.integrations.delivery import Breakers, DeliveryPolicy
from supplyline.integrations.events import NOTIFICATION_QUEUED
from supplyline.integrations.signing import signed_headers
from supplyline.integrations.ssrf import Pinned, TargetRefused, pin
from supplyline.integrations.tables import integrations_delivery
from supplyline.kernel.clock import Clock, utcnow
from supplyline.kernel.errors import Conflict, Invalid, NotFound
from supplyline.kernel.events import NewEvent, StoredEvent
from supplyline.kernel.ids import new_id
from supplyline.kernel.pagination import Page
from supplyline.kernel.rows import jsonable
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.resources import scoped

log = logging.getLogger(__name__)
D = integrations_delivery
KEPT_ERRORS = 5
STATUSES = ("pending", "delivered", "dead")
# The HMAC keys that sign a target's deliveries now (newest first); [] sends them unsigned.
SecretsFor = Callable[[AsyncConnection, str, datetime], Awaitable[list[bytes]]]
# The headers a target's endpoint needs on every request (a connection's credentials), read at
# send time: secrets stay encrypted with their connection, never copied into the outbox.
HeadersHook = Callable[[AsyncConnection, str], Awaitable[Mapping[str, str]]]


async def enqueue(
    conn: AsyncConnection,
    event: StoredEvent,
    target: str,
    url: str,
    payload: Mapping[str, Any],
    *,
    replay_id: str = "",
) -> None:
    """Queue one message caused by ``event``; the same event, target and replay twice queue it
    once (``replay_id`` "" is the delivery the event itself made)."""
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
        "subject": event.subject,
        "position": event.position,
        "replay_id": replay_id,
        "errors": None,
        "dead_at": None,
        "retried_at": None,
    }
    await insert_ignore(conn, D, [row], keys=("tenant_id", "target", "url", "event_id", "replay_id"))


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


async def _unsigned(conn: AsyncConnection, target: str, now: datetime) -> list[bytes]:
    return []


class Deliverer:
    """Sends due messages in log order, each endpoint on its own (at most ``concurrency`` at a
    time), so that a slow or hanging endpoint holds up only its own deliveries, for at most one
    attempt's timeout per round. Each message carries its delivery id as the Idempotency-Key and
    the ``webhook-id`` (a receiver sees a retry after a lost answer as the same message)."""

    def __init__(
        self,
        engine: AsyncEngine,
        read_engine: AsyncEngine | None = None,
        *,
        policy: DeliveryPolicy | None = None,
        clock: Clock = utcnow,
        secrets: SecretsFor = _unsigned,
        headers: HeadersHook | None = None,
        batch: int = 200,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        # Polling reads on the read engine: on SQLite a write connection takes the write lock.
        self.read_engine = read_engine or engine
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        self.secrets = secrets
        self.headers = headers
        self.batch = batch
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.breakers = Breakers(self.policy.breaker_failures, self.policy.breaker_cooldown_s)
        self.wake = asyncio.Event()

    async def due(self, now: datetime) -> list[dict[str, Any]]:
        """Pending messages whose time has come, but for those of an endpoint whose breaker is
        open and those behind an earlier message of their subject that must wait."""
        earlier = D.alias("earlier")
        waits = exists().where(
            earlier.c.status == "pending",
            earlier.c.target == D.c.target,
            earlier.c.subject == D.c.subject,
            earlier.c.tenant_id == D.c.tenant_id,
            earlier.c.url == D.c.url,
            earlier.c.next_attempt_at > now,
            or_(
                earlier.c.position < D.c.position,
                and_(earlier.c.position == D.c.position, earlier.c.created_at < D.c.created_at),
            ),
        )
        stmt = select(D).where(D.c.status == "pending", D.c.next_attempt_at <= now, ~waits)
        if closed := self.breakers.open_urls(now):
            stmt = stmt.where(D.c.url.not_in(closed))
        stmt = stmt.order_by(D.c.position, D.c.created_at, D.c.id).limit(self.batch)
        async with self.read_engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(stmt)).mappings()]

    async def run_once(self) -> int:
        """Try every due message once (an endpoint stops at its first failure); returns how
        many were delivered."""
        due = await self.due(self.clock())
        if not due:
            return 0
        by_url: dict[str, list[dict[str, Any]]] = {}
        for row in due:
            by_url.setdefault(row["url"], []).append(row)
        bound = asyncio.Semaphore(self.policy.concurrency)
        async with httpx.AsyncClient(timeout=self.policy.timeout_s, follow_redirects=False) as client:
            sent = await asyncio.gather(
                *(self._endpoint(client, bound, rows) for rows in by_url.values()), return_exceptions=True
            )
        for url, outcome in zip(by_url, sent, strict=True):
            if isinstance(outcome, BaseException):  # one endpoint's trouble is not the others'
                log.error("delivering to %s failed", url, exc_info=outcome)
        return sum(n for n in sent if isinstance(n, int))

    async def _endpoint(
        self, client: httpx.AsyncClient, bound: asyncio.Semaphore, rows: list[dict[str, Any]]
    ) -> int:
        """One endpoint's due messages in order, until one fails: the rest of its subject must
        not pass it, and an endpoint that fails once would likely fail again this round. The
        outcomes are written in one transaction at the end (on SQLite every write transaction
        takes the lock ingestion needs); a crash before it sends them again: at least once."""
        keys: dict[str, list[bytes]] = {}
        extra: dict[str, Mapping[str, str]] = {}
        outcomes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        try:
            async with bound:
                for row in rows:
                    if row["target"] not in keys:
                        try:
                            async with self.read_engine.connect() as conn:
                                keys[row["target"]] = await self.secrets(conn, row["target"], self.clock())
                                if self.headers is not None:
                                    extra[row["target"]] = await self.headers(conn, row["target"])
                        except RuntimeError as exc:  # a secret that does not decrypt: not sent unsigned
                            outcomes.append(
                                (row, self._failed(row, f"cannot sign: {exc}", self.clock(), breaker=False))
                            )
                            break
                    ok, values = await self._send(
                        client, row, keys[row["target"]], extra.get(row["target"], {})
                    )
                    outcomes.append((row, values))
                    if not ok:
                        break
        finally:
            await self._record(outcomes)
        return sum(1 for _, values in outcomes if values.get("status") == "delivered")

    async def _send(
        self,
        client: httpx.AsyncClient,
        row: dict[str, Any],
        keys: list[bytes],
        extra: Mapping[str, str] | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Send one message; whether it was delivered, and what to write."""
        now = self.clock()
        body = orjson.dumps(row["payload"])
        headers = {
            **(extra or {}),
            "Content-Type": "application/json",
            "Idempotency-Key": str(row["id"]),
            "X-Correlation-Id": row["correlation_id"] or "",
            **signed_headers(keys, str(row["id"]), int(now.timestamp()), body),
        }
        error, answer = None, None
        # Tenants choose webhook URLs (subscriptions, rule actions): the SSRF guard and the
        # breakers are for those; the operator chooses the ERP's, which keeps plain backoff.
        tenants = row["target"].startswith("webhook")
        try:
            target = await pin(row["url"], self.policy.targets) if tenants else Pinned(row["url"], {}, {})
            async with asyncio.timeout(self.policy.timeout_s):
                response = await client.post(
                    target.url,
                    content=body,
                    headers={**headers, **target.headers},
                    extensions=target.extensions,
                )
            if response.is_success:
                answer = _json(response)
            else:
                error = f"HTTP {response.status_code}: {response.text[:500]}"
        except TargetRefused as exc:
            error = f"refused by the SSRF guard: {exc}"
        except TimeoutError:
            error = f"no answer within {self.policy.timeout_s:g} s"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            if tenants:
                self.breakers.succeeded(row["url"])
            return True, {"status": "delivered", "delivered_at": now, "response": answer, "last_error": None}
        return False, self._failed(row, error, now, breaker=tenants)

    def _failed(self, row: dict[str, Any], error: str, now: datetime, *, breaker: bool) -> dict[str, Any]:
        """What a failed attempt writes: backoff, or the dead-letter state."""
        attempts = row["attempts"] + 1
        errors = [*(row["errors"] or []), {"at": now.isoformat(), "attempt": attempts, "error": error[:500]}]
        values: dict[str, Any] = {"last_error": error[:2000], "errors": errors[-KEPT_ERRORS:]}
        since = row["retried_at"] or row["created_at"]
        if row["target"].startswith("webhook:") and (
            attempts >= self.policy.max_attempts or now - since >= self.policy.dead_after
        ):
            values |= {"status": "dead", "dead_at": now}
        else:
            values["next_attempt_at"] = now + timedelta(seconds=self.policy.backoff_s(attempts, self.rng))
        opened = breaker and self.breakers.failed(row["url"], now)
        log.warning(
            "delivery %s to %s failed (attempt %d%s%s): %s",
            row["id"],
            row["url"],
            attempts,
            ", now dead" if "dead_at" in values else "",
            ", breaker open" if opened else "",
            error,
        )
        return values

    async def _record(self, outcomes: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        if not outcomes:
            return
        async with self.engine.begin() as conn:
            for row, values in outcomes:
                await conn.execute(
                    update(D).where(D.c.id == row["id"]).values(attempts=row["attempts"] + 1, **values)
                )

    async def run(self, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                if await self.run_once():
                    continue  # more may have become due (the next of a subject)
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
    if target is not None:
        stmt = stmt.where(D.c.target == target)
    return await _listed(conn, stmt, status, cursor, limit)


async def _listed(
    conn: AsyncConnection, stmt: Any, status: str | None, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    if status is not None:
        if status not in STATUSES:
            raise Invalid("status", f"is one of {', '.join(STATUSES)}")
        stmt = stmt.where(D.c.status == status)
    found = await page(conn, stmt, newest_first(D, "deliveries"), cursor, limit)
    return Page([_view(r) for r in found.items], found.next_cursor)


async def deliveries_of(
    conn: AsyncConnection,
    tenant_id: uuid.UUID,
    target: str,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[dict[str, Any]]:
    """One target's deliveries, newest first: for the owner of that target (a webhook
    subscription's), who may see them without reading every delivery of the tenant."""
    stmt = select(D).where(D.c.tenant_id == tenant_id, D.c.target == target)
    return await _listed(conn, stmt, status, cursor, limit)


async def replayed(conn: AsyncConnection, tenant_id: uuid.UUID, target: str, replay_id: str) -> int:
    """How many deliveries a replay queued for a target."""
    where = (D.c.tenant_id == tenant_id) & (D.c.target == target) & (D.c.replay_id == replay_id)
    return int((await conn.execute(select(func.count()).where(where))).scalar_one())


async def redeliver(
    conn: AsyncConnection, tenant_id: uuid.UUID, target: str, delivery_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """Put a dead (or still pending) delivery back in line, due now, with a fresh count of
    attempts; its last errors stay. A delivered one is a 409: a replay sends it again."""
    where = (D.c.id == delivery_id) & (D.c.tenant_id == tenant_id) & (D.c.target == target)
    row = (await conn.execute(select(D).where(where))).mappings().first()
    if row is None:
        raise NotFound(f"no delivery {delivery_id} of this subscription")
    if row["status"] == "delivered":
        raise Conflict("this delivery was delivered; replay its event to send it again")
    values = {"status": "pending", "attempts": 0, "next_attempt_at": now, "dead_at": None, "retried_at": now}
    await conn.execute(update(D).where(where).values(**values))
    return _view({**row, **values})


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    return jsonable(row)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:500]}
