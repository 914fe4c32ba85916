"""Named consumers with durable positions: work and position commit in one transaction.

A consumer that fails does not advance: its transaction rolls back, the failure is recorded
for operators to see, and the runner retries with backoff. Nothing is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.eventlog.log import EventLog
from supplyline.eventlog.tables import eventlog_consumer, eventlog_event
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import NotFound
from supplyline.kernel.events import StoredEvent

log = logging.getLogger(__name__)


class Consumer(Protocol):
    name: str

    def accepts(self, event_type: str) -> bool: ...

    async def handle(self, conn: AsyncConnection, event: StoredEvent) -> None:
        """Apply one event. A consumer may also offer ``handle_batch(conn, events)``, used instead,
        ``prepare(conn, events)``, reads before the write transaction, and ``wants(conn,
        events) -> bool``, asked on a read connection whether the events it accepts need a
        write transaction at all (False: the runner moves past them as if it accepted none)."""

    async def reset(self, conn: AsyncConnection) -> None:
        """Forget the projection, before a replay from the start."""


class ConsumerFailed(Exception):
    def __init__(self, name: str, position: int, cause: BaseException) -> None:
        super().__init__(f"consumer '{name}' failed at position {position}: {cause!r}")
        self.name = name
        self.position = position
        self.cause = cause


@dataclass(frozen=True)
class ConsumerStatus:
    name: str
    position: int
    head: int
    attempts: int
    failing_position: int | None
    last_error: str | None
    updated_at: datetime | None

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form shared by the API and the CLI."""
        return {
            "name": self.name,
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
            "attempts": self.attempts,
            "failing_position": self.failing_position,
            "last_error": self.last_error,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


class ConsumerRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        log_: EventLog,
        consumers: list[Consumer],
        batch_size: int = 500,
        read_engine: AsyncEngine | None = None,
        settle_s: float = 1.0,
    ) -> None:
        self.engine = engine
        self.log = log_
        self.consumers = {c.name: c for c in consumers}
        self.batch_size = batch_size
        # Looking for work reads on the read engine: on SQLite a write transaction takes the one
        # write lock, which ingestion needs far more than an idle consumer does.
        self.read_engine = read_engine or engine
        # After a wake-up, wait this long so that one transaction takes what several commits
        # appended, rather than one transaction per commit per consumer.
        self.settle_s = settle_s
        self._ahead: dict[str, int] = {}  # positions passed in memory (nothing accepted there)
        self._saved_at: dict[str, float] = {}
        self._saved: dict[str, int] = {}
        self.save_every_s = 5.0

    async def _peek(self, name: str, limit: int) -> list[StoredEvent]:
        """The next events for ``name``, read without a write transaction."""
        async with self.read_engine.connect() as conn:
            stmt = select(eventlog_consumer.c.position).where(eventlog_consumer.c.name == name)
            stored = int((await conn.execute(stmt)).scalar() or 0)
            after = max(stored, self._ahead.get(name, 0))
            return await self.log.read(conn, after=after, limit=limit, tenant_id=None)

    def get(self, name: str) -> Consumer:
        try:
            return self.consumers[name]
        except KeyError:
            known = ", ".join(sorted(self.consumers)) or "none"
            raise NotFound(f"no consumer named '{name}' (known: {known})") from None

    async def _position(self, conn: AsyncConnection, name: str) -> int:
        stmt = select(eventlog_consumer.c.position).where(eventlog_consumer.c.name == name).with_for_update()
        pos = (await conn.execute(stmt)).scalar()
        if pos is None:
            await conn.execute(
                eventlog_consumer.insert().values(name=name, position=0, updated_at=utcnow(), attempts=0)
            )
            return 0
        return int(pos)

    async def run_once(self, name: str) -> int:
        """Process one batch; returns how many events were read (0 means caught up)."""
        consumer = self.get(name)
        failed_at = 0
        # A consumer whose events cost many statements each takes fewer at a time: on SQLite
        # its transaction holds the one write lock the telemetry writer needs.
        limit = getattr(consumer, "batch_size", self.batch_size)
        peeked = await self._peek(name, limit)
        if not peeked:
            ahead = self._ahead.get(name)
            if ahead is not None and self._saved.get(name, 0) < ahead:
                await self._save_position(name, ahead)  # caught up: written down once
            return 0
        if not await self._wanted(consumer, peeked):
            # Nothing for it: move on in memory, and write the position only now and then (a
            # restart reads these events again and again finds nothing in them).
            self._ahead[name] = peeked[-1].position
            now = asyncio.get_running_loop().time()
            if now - self._saved_at.get(name, 0.0) >= self.save_every_s:
                await self._save_position(name, peeked[-1].position)
                self._saved_at[name] = now
            return len(peeked)
        prepare = getattr(consumer, "prepare", None)
        if prepare is not None:
            # Reads a consumer can do before its write transaction (see RuleActions.prepare).
            async with self.read_engine.connect() as rconn:
                await prepare(rconn, [ev for ev in peeked if consumer.accepts(ev.type)])
        try:
            async with self.engine.begin() as conn:
                position = max(await self._position(conn, name), self._ahead.get(name, 0))
                events = await self.log.read(conn, after=position, limit=limit, tenant_id=None)
                if not events:
                    return 0
                batch = getattr(consumer, "handle_batch", None)
                if batch is not None:
                    # A consumer that can take many events at once saves a statement per event.
                    failed_at = events[0].position
                    await batch(conn, [ev for ev in events if consumer.accepts(ev.type)])
                else:
                    for ev in events:
                        failed_at = ev.position
                        if consumer.accepts(ev.type):
                            await consumer.handle(conn, ev)
                await conn.execute(
                    update(eventlog_consumer)
                    .where(eventlog_consumer.c.name == name)
                    .values(
                        position=events[-1].position,
                        updated_at=utcnow(),
                        attempts=0,
                        failing_position=None,
                        last_error=None,
                    )
                )
                return len(events)
        except Exception as exc:
            await self._record_failure(name, failed_at, exc)
            raise ConsumerFailed(name, failed_at, exc) from exc

    async def _wanted(self, consumer: Consumer, peeked: list[StoredEvent]) -> bool:
        accepted = [ev for ev in peeked if consumer.accepts(ev.type)]
        wants = getattr(consumer, "wants", None)
        if not accepted or wants is None:
            return bool(accepted)
        async with self.read_engine.connect() as rconn:
            return bool(await wants(rconn, accepted))

    async def _save_position(self, name: str, position: int) -> None:
        self._saved[name] = position
        async with self.engine.begin() as conn:
            await self._position(conn, name)
            await conn.execute(
                update(eventlog_consumer)
                .where(eventlog_consumer.c.name == name, eventlog_consumer.c.position < position)
                .values(position=position, updated_at=utcnow())
            )

    async def _record_failure(self, name: str, position: int, exc: BaseException) -> None:
        async with self.engine.begin() as conn:
            await self._position(conn, name)
            await conn.execute(
                update(eventlog_consumer)
                .where(eventlog_consumer.c.name == name)
                .values(
                    attempts=eventlog_consumer.c.attempts + 1,
                    failing_position=position,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    updated_at=utcnow(),
                )
            )

    async def catch_up(self, name: str) -> int:
        total = 0
        while n := await self.run_once(name):
            total += n
        return total

    async def replay(self, name: str, from_position: int = 1) -> int:
        """Re-run a consumer from ``from_position``; from the start it first resets its state."""
        consumer = self.get(name)
        self._ahead.pop(name, None)
        self._saved.pop(name, None)
        async with self.engine.begin() as conn:
            await self._position(conn, name)
            if from_position <= 1:
                await consumer.reset(conn)
            await conn.execute(
                update(eventlog_consumer)
                .where(eventlog_consumer.c.name == name)
                .values(position=max(0, from_position - 1), updated_at=utcnow())
            )
        return await self.catch_up(name)

    async def status(self) -> list[ConsumerStatus]:
        async with self.engine.connect() as conn:
            head = await head_position(conn)
            rows = {r["name"]: r for r in (await conn.execute(select(eventlog_consumer))).mappings().all()}
        out = []
        for name in sorted(self.consumers):
            r = rows.get(name)
            out.append(
                ConsumerStatus(
                    name=name,
                    position=int(r["position"]) if r else 0,
                    head=head,
                    attempts=int(r["attempts"]) if r else 0,
                    failing_position=r["failing_position"] if r else None,
                    last_error=r["last_error"] if r else None,
                    updated_at=r["updated_at"] if r else None,
                )
            )
        return out

    async def run(self, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
        """Keep every consumer caught up until ``stop`` is set, backing off on failures."""
        backoff: dict[str, float] = {}
        retry_at: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            busy = False
            for name in self.consumers:
                if retry_at.get(name, 0.0) > loop.time():
                    continue
                try:
                    busy = bool(await self.run_once(name)) or busy
                    backoff.pop(name, None)
                except ConsumerFailed as exc:
                    delay = min(60.0, backoff.get(name, 0.5) * 2)
                    backoff[name] = delay
                    retry_at[name] = loop.time() + delay
                    log.warning("%s; retrying in %.1fs", exc, delay)
            if not busy:
                await self.log.notifier.wait(poll_interval)
                if self.settle_s and not stop.is_set():
                    await asyncio.sleep(self.settle_s)


async def head_position(conn: AsyncConnection) -> int:
    head = (await conn.execute(select(func.max(eventlog_event.c.position)))).scalar()
    return int(head or 0)
