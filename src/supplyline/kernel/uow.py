"""The unit-of-work port: one transaction, with the events it publishes committed alongside."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.events import NewEvent


class UnitOfWork(Protocol):
    correlation_id: str
    # Records as they stood before this unit changed them, by subject (``sites/<id>``): a use
    # case that changes a record leaves the old one here, and the audit trail files it as the
    # entry's ``before``. Nothing else reads it; it is cleared when the unit ends.
    previous: dict[str, dict[str, Any]]

    @property
    def conn(self) -> AsyncConnection: ...

    def publish(self, event: NewEvent) -> None:
        """Stage an event; it is appended to the log in this transaction, at commit."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(
        self, correlation_id: str | None = None, *, conn: AsyncConnection | None = None
    ) -> UnitOfWork:
        """A unit of work on a connection of its own, or on ``conn``, which it leaves open (a
        writer that commits many times a second keeps one rather than check one out each time)."""
