"""Keyset pages, the one way every list of the API pages.

A list is ordered by key columns that are unique together (``id``; ``created_at, id``; a log
position); a page is the rows after the last key of the previous page, so a cursor stays right
while rows are added, which an offset would not. The cursor is opaque to clients: the key values
and the list they belong to (a cursor of another list is refused), base64 JSON.

``page`` runs a select; ``Keyset.cut`` makes the page of rows read some other way (the event
log's own reader, the ledger's), so both sides of every list share the same cursor code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Integer, Select, Uuid, bindparam, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import Invalid
from supplyline.kernel.pagination import Page, decode_cursor, encode_cursor
from supplyline.kernel.schema import UTCDateTime

T = TypeVar("T")
BAD_CURSOR = "not a cursor issued for this list"


def _decoder(column: Column[Any]) -> Callable[[Any], Any]:
    """How a key value read from a cursor becomes the column's Python value (or ValueError)."""
    kind = column.type
    if isinstance(kind, Uuid):
        return lambda v: uuid.UUID(str(v))
    if isinstance(kind, UTCDateTime):
        return _instant
    if isinstance(kind, Integer):
        return _integer
    return str


def _instant(value: Any) -> datetime:
    at = datetime.fromisoformat(str(value))
    if at.tzinfo is None:
        raise ValueError("naive")
    return at


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value


def _encoded(value: Any) -> str | int:
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered for paging: its name, its key columns, its direction."""

    kind: str
    columns: tuple[Column[Any], ...]
    descending: bool = False

    def start(self, cursor: str | None) -> tuple[Any, ...] | None:
        """The key values a page starts after; None for the first page. 422 on a bad cursor."""
        if not cursor:
            return None
        raw = decode_cursor(cursor, self.kind)
        values = raw if isinstance(raw, list) else [raw]
        if len(values) != len(self.columns):
            raise Invalid("cursor", BAD_CURSOR)
        try:
            return tuple(_decoder(c)(v) for c, v in zip(self.columns, values, strict=True))
        except (ValueError, TypeError):
            raise Invalid("cursor", BAD_CURSOR) from None

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly past ``values`` in this order (a row-value comparison, index-friendly)."""
        keys = [bindparam(None, v, type_=c.type) for c, v in zip(self.columns, values, strict=True)]
        if len(self.columns) == 1:
            left, right = self.columns[0], keys[0]
            return left < right if self.descending else left > right
        row, bound = tuple_(*self.columns), tuple_(*keys)
        return row < bound if self.descending else row > bound

    def ordered(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.order_by(*(c.desc() if self.descending else c.asc() for c in self.columns))

    def cursor_of(self, key: Sequence[Any]) -> str:
        values = [_encoded(v) for v in key]
        return encode_cursor(values[0] if len(values) == 1 else values, self.kind)

    def cut(self, items: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> Page[T]:
        """The page of ``items`` read with ``limit + 1``: the extra one says there is more."""
        more = len(items) > limit
        items = items[:limit]
        return Page(items, self.cursor_of(key(items[-1])) if more and items else None)

    def row_key(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[c.name] for c in self.columns)


async def page(
    conn: AsyncConnection, stmt: Select[Any], keyset: Keyset, cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """One page of ``stmt`` (rows as dicts) in the keyset's order, after ``cursor``."""
    start = keyset.start(cursor)
    if start is not None:
        stmt = stmt.where(keyset.after(start))
    stmt = keyset.ordered(stmt).limit(limit + 1)
    rows = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    return keyset.cut(rows, limit, keyset.row_key)


def newest_first(table: Any, kind: str) -> Keyset:
    """The order of the lists operators read (alarms, holds, deliveries): latest first."""
    return Keyset(kind, (table.c.created_at, table.c.id), descending=True)


def by_id(table: Any, kind: str) -> Keyset:
    """Creation order of UUIDv7 ids: the order of the resource lists."""
    return Keyset(kind, (table.c.id,))
