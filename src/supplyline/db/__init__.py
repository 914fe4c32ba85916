"""Storage plumbing: engines for SQLite and PostgreSQL, dialect differences, the unit of work."""

from supplyline.db.engine import DatabaseUrl, create_engine, normalize_url
from supplyline.db.uow import SqlUnitOfWork, UnitOfWorkFactoryImpl

__all__ = [
    "DatabaseUrl",
    "SqlUnitOfWork",
    "UnitOfWorkFactoryImpl",
    "create_engine",
    "normalize_url",
]
