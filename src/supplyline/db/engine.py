"""Engines with the per-connection settings each backend needs to be correct and fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


@dataclass(frozen=True)
class DatabaseUrl:
    url: str
    dialect: str  # "sqlite" | "postgresql"


def normalize_url(url: str) -> DatabaseUrl:
    """Accept the URLs people write (``postgresql://``, ``sqlite:///``) and pick async drivers."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database '{backend}': use sqlite or postgresql")
    return DatabaseUrl(parsed.render_as_string(hide_password=False), parsed.get_backend_name())


def _sqlite_setup(engine: AsyncEngine, immediate: bool) -> None:
    sync = engine.sync_engine

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so that BEGIN IMMEDIATE is ours to emit.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        # Writers sync the WAL at every commit so that an answered write survives a power cut,
        # not only a crash of the process; group commit keeps that to one sync per batch.
        cur.execute("PRAGMA synchronous=FULL" if immediate else "PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(sync, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers queue on the lock at BEGIN instead of failing on a read-to-write upgrade;
        # readers use a deferred BEGIN and never wait for the write lock (WAL).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(
    url: str, *, schema: str | None = None, echo: bool = False, readonly: bool = False
) -> AsyncEngine:
    """An async engine for ``url``; ``schema`` sets the PostgreSQL search_path (tests use it).

    On SQLite, ``readonly`` engines begin transactions deferred so reads never queue behind
    the single writer; write engines begin IMMEDIATE.
    """
    db = normalize_url(url)
    if db.dialect == "sqlite":
        path = make_url(db.url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(db.url, echo=echo, pool_size=8, max_overflow=8)
        _sqlite_setup(engine, immediate=not readonly)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(db.url, echo=echo, pool_size=10, max_overflow=10, connect_args=connect_args)
