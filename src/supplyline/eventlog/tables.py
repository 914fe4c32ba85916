"""Event-log tables: the log itself, the durable positions of named consumers, and the entity
index projection (every entity's current state, kept by a consumer)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
)

from supplyline.kernel.schema import JsonType, UTCDateTime, metadata

# SQLite only autoincrements an INTEGER PRIMARY KEY, PostgreSQL wants 64 bits.
Position = BigInteger().with_variant(Integer(), "sqlite")

eventlog_event = Table(
    "eventlog_event",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    Column("type", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("time", UTCDateTime, nullable=False),
    Column("tenant_id", Uuid, nullable=True),
    Column("correlation_id", String(100), nullable=True),
    Column("data", JsonType, nullable=False),
    Column("actor", String(200), nullable=True),
    Index("ix_eventlog_event_tenant_position", "tenant_id", "position"),
    # AUTOINCREMENT on SQLite: a position is never handed out twice, even after a purge.
    sqlite_autoincrement=True,
)

eventlog_consumer = Table(
    "eventlog_consumer",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("failing_position", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
)

eventlog_entity_index = Table(
    "eventlog_entity_index",
    metadata,
    Column("tenant_id", Uuid, nullable=False),
    Column("subject", String(200), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("last_type", String(200), nullable=False),
    Column("last_position", BigInteger, nullable=False),
    Column("archived", Boolean, nullable=False),
    PrimaryKeyConstraint("tenant_id", "subject"),
)
