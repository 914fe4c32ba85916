"""The few things SQLite and PostgreSQL do differently; nothing else uses dialect-only SQL."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, literal_column, text
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
    shape = (conn.dialect.name, table, tuple(keys), tuple(update), tuple(increment), newer)
    # The same shape without a guard is built once: building one costs more than a hot
    # caller's whole write (the telemetry writer upserts rule states every batch).
    stmt = _upsert_statement(*shape) if where is None else _build_upsert(*shape, where)
    await conn.execute(stmt, list(rows))


@functools.lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str,
    table: Table,
    keys: tuple[str, ...],
    update: tuple[str, ...],
    increment: tuple[str, ...],
    newer: str | None,
) -> Any:
    return _build_upsert(dialect, table, keys, update, increment, newer, None)


def _build_upsert(
    dialect: str,
    table: Table,
    keys: tuple[str, ...],
    update: tuple[str, ...],
    increment: tuple[str, ...],
    newer: str | None,
    where: Any,
) -> Any:
    ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    if newer is not None:
        where = table.c[newer] < ins.excluded[newer]
    return ins.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            **{c: ins.excluded[c] for c in update},
            **{c: table.c[c] + ins.excluded[c] for c in increment},
        },
        where=where,
    )


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


class uuid_key(FunctionElement[str]):
    """A Uuid column in the text form this database keeps it in (SQLite: 32 hex digits;
    PostgreSQL: the cast of its native uuid), to be compared with ``subject_key``. It costs
    SQLite nothing per row: the visibility of events builds lists of thousands of ids, and
    formatting each one as ``8-4-4-4-12`` text was most of what a partner's event read cost."""

    type = String()
    inherit_cache = True


@compiles(uuid_key, "postgresql")
def _uuid_key_pg(element: uuid_key, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(uuid_key, "sqlite")
def _uuid_key_sqlite(element: uuid_key, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


class subject_key(FunctionElement[str]):
    """The id in an event subject ``<prefix><id>`` in the form ``uuid_key`` gives: the text after
    the prefix, without its dashes on SQLite. Only meaningful for a subject known to start with
    the prefix (its length is written into the SQL, so each prefix is its own cached statement)."""

    type = String()
    inherit_cache = True

    def __init__(self, subject: ColumnElement[str], prefix_length: int) -> None:
        super().__init__(subject, literal_column(str(int(prefix_length) + 1)))


@compiles(subject_key, "postgresql")
def _subject_key_pg(element: subject_key, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)})"


@compiles(subject_key, "sqlite")
def _subject_key_sqlite(element: subject_key, compiler: Any, **kw: Any) -> str:
    return f"replace(substr({compiler.process(element.clauses, **kw)}), '-', '')"
