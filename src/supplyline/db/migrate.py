"""Alembic, driven from code: ``supplyline db upgrade``, start-up checks and tests share it.

The migrations form one line, 0001 -> 0002 -> ... -> head: revision ids are four-digit numbers,
each file is named after its id, and ``new_revision`` (``supplyline db revision``) picks the
next number and the current head itself, so nobody numbers or links a migration by hand.
``tests/db/test_migrations.py`` holds the line straight and the migrated schema equal to the
tables on both backends.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Numbers that were never released: four branches were merged by re-linking the chain by hand.
# 20 is the webhooks branch's (0021, the exports job, revises 0019 until it merges): at that
# merge, drop 20 from here and set 0021's down_revision to "0020".
SKIPPED = frozenset({11, 20})


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))  # looked up at each call: tests move it
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


class ChainError(Exception):
    """The migrations are not one straight line of numbered revisions."""


def chain() -> list[Script]:
    """Every migration from the first to head, checked to be a single line (ChainError)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    heads, bases = scripts.get_heads(), scripts.get_bases()
    if len(heads) != 1 or len(bases) != 1:
        raise ChainError(f"expected one head and one base, found heads {heads} and bases {bases}")
    line = list(reversed(list(scripts.walk_revisions())))
    for before, after in itertools.pairwise(line):
        if after.down_revision != before.revision:
            raise ChainError(f"{after.revision} revises {after.down_revision!r}, not {before.revision}")
    for script in line:
        if script.is_merge_point or script.is_branch_point:
            raise ChainError(f"{script.revision} merges or branches the chain")
        if not (script.revision.isdigit() and len(script.revision) == 4):
            raise ChainError(f"revision id {script.revision!r} is not a four-digit number")
        if not Path(script.path).name.startswith(f"{script.revision}_"):
            raise ChainError(f"{Path(script.path).name} is not named after its revision {script.revision}")
    numbers = [int(s.revision) for s in line]
    expected = [n for n in range(1, numbers[-1] + 1) if n not in SKIPPED]
    if numbers != expected:
        raise ChainError(f"revisions are numbered {numbers}, expected {expected}")
    return line


def next_revision_id() -> str:
    return f"{int(chain()[-1].revision) + 1:04d}"


def _revise(sync_conn: Any, message: str, rev_id: str, autogenerate: bool) -> Path:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    made = command.revision(cfg, message=message, autogenerate=autogenerate, rev_id=rev_id)
    script = made[0] if isinstance(made, list) else made
    if script is None:
        raise ChainError("alembic wrote no revision")
    return Path(script.path)


async def new_revision(engine: AsyncEngine, message: str, *, autogenerate: bool = True) -> Path:
    """Write the next migration, revising head. With ``autogenerate`` its body is what the
    tables declare beyond what ``engine`` (a database at head) has; review it before committing."""
    rev_id = next_revision_id()
    async with engine.begin() as conn:
        return await conn.run_sync(_revise, message, rev_id, autogenerate)


def _run(sync_conn: Any, action: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    getattr(command, action)(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_run, "upgrade", revision)


async def stamp(engine: AsyncEngine, revision: str = "head") -> None:
    """Record ``revision`` as applied without running it (a schema built from the metadata)."""
    async with engine.begin() as conn:
        await conn.run_sync(_run, "stamp", revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_run, "downgrade", revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
