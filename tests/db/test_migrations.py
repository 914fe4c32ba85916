"""Every migration goes up and down on both databases, and head matches the models exactly."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline.db import create_engine
from supplyline.db.migrate import current_revision, downgrade, head_revision, upgrade
from supplyline.db.schema import metadata
from tests.conftest import BACKENDS, PG_URL, need_service


@pytest.fixture(params=BACKENDS)
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'mig.db'}")
        yield engine
        await engine.dispose()
        return
    need_service("PostgreSQL", PG_URL, 5432)
    schema = f"sl_mig_{os.getpid()}"
    admin = create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, schema=schema)
    yield engine
    await engine.dispose()
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await admin.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_matches_models_and_downgrade_removes_everything(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    assert await current_revision(empty_engine) == head_revision()
    assert await tables(empty_engine) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}

    def diff(sync_conn: Any) -> list[Any]:
        return list(
            compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), metadata)
        )

    async with empty_engine.connect() as conn:
        assert await conn.run_sync(diff) == []

    await downgrade(empty_engine, "base")
    assert await tables(empty_engine) <= {"alembic_version"}
    await upgrade(empty_engine)
    assert await current_revision(empty_engine) == head_revision()
