"""Every migration goes up and down on both databases, and head matches the models exactly."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline.db import create_engine, migrate
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


@pytest.fixture
def migrations_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The migrations in a scratch folder, so that a test may add or break one."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    return copy


def test_the_migrations_are_one_numbered_line() -> None:
    line = migrate.chain()
    assert line[0].down_revision is None
    assert line[-1].revision == head_revision()
    assert [s.revision for s in line][:3] == ["0001", "0002", "0003"]


def test_a_second_head_or_a_broken_link_is_refused(migrations_copy: Path) -> None:
    versions = migrations_copy / "versions"
    head = migrate.chain()[-1]
    stray = versions / f"{int(head.revision) + 1:04d}_stray.py"
    stray.write_text(
        Path(head.path).read_text().replace(f'revision: str = "{head.revision}"', "revision: str = 'x'")
    )
    with pytest.raises(migrate.ChainError, match="one head"):
        migrate.chain()
    stray.unlink()
    second = next(versions.glob("0002_*.py"))
    second.write_text(
        second.read_text().replace('down_revision: str | None = "0001"', "down_revision: str | None = None")
    )
    with pytest.raises(migrate.ChainError):
        migrate.chain()


async def test_a_new_revision_takes_the_next_number_and_revises_head(
    migrations_copy: Path, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'head.db'}")
    try:
        await upgrade(engine)
        before = migrate.chain()[-1].revision
        path = await migrate.new_revision(engine, "lot recall state")
    finally:
        await engine.dispose()
    expected = f"{int(before) + 1:04d}"
    assert path.parent == migrations_copy / "versions"
    assert path.name == f"{expected}_lot_recall_state.py"
    line = migrate.chain()
    assert (line[-1].revision, line[-1].down_revision) == (expected, before)
    text_ = path.read_text()
    assert "op." not in text_  # the tables match the migrations: nothing to add
    compile(text_, str(path), "exec")
