"""The one SQLAlchemy MetaData and the portable column types every capability's tables use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Table,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JsonType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC and refuses naive values, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must carry a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite keeps text; store naive UTC so lexical order is time order.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def entity_columns() -> list[Column[Any]]:
    """Columns every tenant-scoped entity has; ``version`` backs ETag / If-Match."""
    return [
        Column("id", Uuid, primary_key=True),
        Column("tenant_id", Uuid, nullable=False, index=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("archived_at", UTCDateTime, nullable=True),
        Column("version", Integer, nullable=False, default=1),
    ]


def entity_table(name: str, *columns: Any, natural_keys: tuple[tuple[str, ...], ...] = ()) -> Table:
    """A tenant-scoped table.

    ``UNIQUE (tenant_id, id)`` lets children point at ``(tenant_id, x_id)``: the database then
    refuses a reference into another tenant even if application code got it wrong.
    """
    constraints = [UniqueConstraint("tenant_id", "id")]
    constraints += [UniqueConstraint("tenant_id", *key) for key in natural_keys]
    return Table(
        name,
        metadata,
        *entity_columns(),
        *columns,
        *constraints,
        ForeignKeyConstraint(["tenant_id"], ["access_tenant.id"]),
    )


def tenant_fk(column: str, target: str) -> ForeignKeyConstraint:
    """A same-tenant foreign key: ``(tenant_id, column) -> target(tenant_id, id)``."""
    return ForeignKeyConstraint(["tenant_id", column], [f"{target}.tenant_id", f"{target}.id"])
