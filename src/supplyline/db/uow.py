"""The SQL unit of work: state changes and their events commit together or not at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from supplyline.kernel.events import NewEvent
from supplyline.kernel.ids import new_id

Appender = Callable[[AsyncConnection, Sequence[NewEvent], str], Awaitable[None]]
CommitListener = Callable[[], None]


class SqlUnitOfWork:
    """``async with uow:`` opens a transaction; leaving the block without ``commit()`` rolls back.

    Events are staged with ``publish`` and appended to the log just before COMMIT, so the
    event-log lock is held for as short a time as possible.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        appender: Appender,
        correlation_id: str | None = None,
        on_commit: CommitListener | None = None,
        held: AsyncConnection | None = None,
    ) -> None:
        self._engine = engine
        self._held = held
        self._appender = appender
        self._on_commit = on_commit
        self._pending: list[NewEvent] = []
        self.previous: dict[str, dict[str, Any]] = {}
        self._tx: AsyncTransaction | None = None
        self._conn: AsyncConnection | None = None
        self.correlation_id = correlation_id or str(new_id())

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._conn

    def publish(self, event: NewEvent) -> None:
        self._pending.append(event)

    async def __aenter__(self) -> SqlUnitOfWork:
        self._conn = self._held if self._held is not None else await self._engine.connect()
        self._tx = await self._conn.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                await self._tx.rollback()
        finally:
            if self._conn is not None and self._held is None:
                await self._conn.close()
            self._conn = None
            self._tx = None
            self._pending.clear()
            self.previous = {}

    async def flush_events(self) -> None:
        if self._pending:
            await self._appender(self.conn, self._pending, self.correlation_id)
            self._pending = []

    async def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("unit of work used outside 'async with'")
        had_events = bool(self._pending)
        await self.flush_events()
        await self._tx.commit()
        if had_events and self._on_commit is not None:
            self._on_commit()

    async def rollback(self) -> None:
        self._pending.clear()
        if self._tx is not None and self._tx.is_active:
            await self._tx.rollback()


class UnitOfWorkFactoryImpl:
    def __init__(
        self, engine: AsyncEngine, appender: Appender, on_commit: CommitListener | None = None
    ) -> None:
        self.engine = engine
        self._appender = appender
        self._on_commit = on_commit

    def __call__(
        self, correlation_id: str | None = None, *, conn: AsyncConnection | None = None
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._appender, correlation_id, self._on_commit, conn)
