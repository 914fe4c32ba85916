"""The few things SQLite and PostgreSQL do differently; nothing else uses dialect-only SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

# Arbitrary but fixed: the key of the advisory lock that serialises event-log appends.
EVENTLOG_LOCK_KEY = 0x5E_1E_7E_A7


async def lock_event_log(conn: AsyncConnection) -> None:
    """Serialise appends so log positions follow commit order.

    PostgreSQL sequences hand out numbers at insert time, not commit time: without this lock a
    reader could see position 11 committed while 10 is still in flight, move past 10 and never
    see it. The lock is held to the end of the transaction. SQLite writers are already
    serialised by BEGIN IMMEDIATE.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENTLOG_LOCK_KEY})


async def lock_for_transaction(conn: AsyncConnection, key: int) -> None:
    """Hold the advisory lock ``key`` (a signed 64-bit integer) to the end of the transaction on
    PostgreSQL, where two writers of the same thing must queue; SQLite writers are serialised by
    BEGIN IMMEDIATE already."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
    where: Any = None,
    increment: Sequence[str] = (),
    newer: str | None = None,
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET update-columns, optionally guarded.

    ``increment`` columns add the new row's value to the stored one (counters); ``newer`` names a
    column that must grow for the update to happen (a log position: replays change nothing).
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table)
        if newer is not None:
            where = table.c[newer] < pg.excluded[newer]
        stmt_pg = pg.on_conflict_do_update(
            index_elements=list(keys),
            set_={
                **{c: pg.excluded[c] for c in update},
                **{c: table.c[c] + pg.excluded[c] for c in increment},
            },
            where=where,
        )
        await conn.execute(stmt_pg, list(rows))
        return
    lite = sqlite.insert(table)
    if newer is not None:
        where = table.c[newer] < lite.excluded[newer]
    stmt_lite = lite.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            **{c: lite.excluded[c] for c in update},
            **{c: table.c[c] + lite.excluded[c] for c in increment},
        },
        where=where,
    )
    await conn.execute(stmt_lite, list(rows))


async def insert_ignore(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING: the second write of the same thing is a no-op."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        await conn.execute(
            postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys)), list(rows)
        )
        return
    await conn.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys)), list(rows))


class uuid_text(FunctionElement[str]):
    """A Uuid column as the text the API writes (``8-4-4-4-12`` lower-case hex), so that it can
    be compared with event subjects such as ``shipments/<id>``. PostgreSQL casts its native
    uuid; SQLite stores 32 hex digits, which get their dashes back."""

    type = String()
    inherit_cache = True


@compiles(uuid_text, "postgresql")
def _uuid_text_pg(element: uuid_text, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(uuid_text, "sqlite")
def _uuid_text_sqlite(element: uuid_text, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
    return "lower(" + " || '-' || ".join(f"substr({col}, {a}, {n})" for a, n in parts) + ")"
