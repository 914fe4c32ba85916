"""A unit of work over a consumer's open transaction.

A consumer's work, the events it publishes and its new position commit together: the runner
owns the transaction, so ``commit`` here only appends the staged events to the log. Events take
the correlation id of the event being handled, so a chain of consequences shares one id.
"""

from __future__ import annotations

from dataclasses import replace
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.eventlog.log import EventLog
from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id


class ConsumerWork:
    def __init__(self, conn: AsyncConnection, log: EventLog, correlation_id: str | None) -> None:
        self._conn = conn
        self._log = log
        self._pending: list[NewEvent] = []
        self.previous: dict[str, dict[str, Any]] = {}  # unread here: consumers' work is not audited
        self.correlation_id = correlation_id or str(new_id())

    @property
    def conn(self) -> AsyncConnection:
        return self._conn

    def publish(self, event: NewEvent) -> None:
        self._pending.append(event)

    async def commit(self) -> None:
        if self._pending:
            await self._log.append(self._conn, self._pending, self.correlation_id)
            self._pending = []

    def take(self) -> list[NewEvent]:
        """The staged events, handed over to be appended with others (``EventLog.append`` in
        one statement for a whole batch), each with its correlation id settled."""
        out = [
            ev if ev.correlation_id else replace(ev, correlation_id=self.correlation_id)
            for ev in self._pending
        ]
        self._pending = []
        return out

    async def rollback(self) -> None:
        self._pending.clear()

    async def __aenter__(self) -> ConsumerWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending.clear()
