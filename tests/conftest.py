"""Shared fixtures. Database tests run once per backend: SQLite and PostgreSQL.

PostgreSQL tests read SUPPLYLINE_TEST_POSTGRES_URL (default: the local server, database
`test`) and skip when it is unreachable, unless SUPPLYLINE_REQUIRE_SERVICES=1 (CI), where an
unreachable server fails the run instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from supplyline import access
from supplyline.api import create_app
from supplyline.bootstrap import Services, build_services
from supplyline.db import create_engine
from supplyline.db.schema import metadata
from supplyline.kernel.host import pick_port
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings
from supplyline.sim import ErpState, create_mock_erp

REQUIRE_SERVICES = os.environ.get("SUPPLYLINE_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("SUPPLYLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = os.environ.get("SUPPLYLINE_TEST_BACKENDS", "sqlite,postgresql").split(",")
PG_SCHEMA = f"sl_test_{os.getpid()}"


def reachable(url: str, default_port: int) -> str | None:
    """None when a TCP connection to the URL's host and port succeeds, else the reason."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), 2):
            return None
    except OSError as exc:
        return str(exc)


def need_service(name: str, url: str, default_port: int) -> None:
    reason = reachable(url, default_port)
    if reason is None:
        return
    message = f"{name} at {url} is unreachable ({reason})"
    if REQUIRE_SERVICES:
        pytest.fail(f"SUPPLYLINE_REQUIRE_SERVICES=1 and {message}")
    pytest.skip(message)


def run_sync(fn: Any) -> None:
    """Run a coroutine function to completion from sync code, even inside a running loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """One schema per test session, tables created once, dropped at the end."""
    need_service("PostgreSQL", PG_URL, 5432)

    async def setup() -> None:
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
        await engine.dispose()
        engine = create_engine(PG_URL, schema=PG_SCHEMA)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await engine.dispose()

    async def teardown() -> None:
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
        await engine.dispose()

    run_sync(setup)
    yield PG_SCHEMA
    run_sync(teardown)


@dataclass
class Backend:
    name: str
    url: str
    schema: str | None

    def engine(self, **kw: Any) -> AsyncEngine:
        return create_engine(self.url, schema=self.schema, **kw)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with every table, made once: each test gets a copy of the file,
    which costs a file copy instead of a hundred CREATE statements."""
    path = tmp_path_factory.mktemp("sqlite-template") / "empty.db"

    async def create() -> None:
        engine = create_engine(f"sqlite:///{path}")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await engine.dispose()

    run_sync(create)
    return path


# Only the tables a test wrote to, or whose serial key it moved (an insert rolled back leaves
# the table empty and its sequence advanced), are emptied: TRUNCATE costs per table, and most
# tests touch a few of some sixty.
def _serials() -> dict[str, str]:
    """Each serial key's sequence (PostgreSQL's name for it) -> its table."""
    out = {}
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or column.identity is not None:
                out[f"{table.name}_{column.name}_seq"] = table.name
    return out


async def _empty_pg_tables(engine: AsyncEngine, schema: str) -> None:
    serials = _serials()
    probes = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in metadata.sorted_tables
    )
    moved = "SELECT sequencename FROM pg_sequences WHERE schemaname = :schema AND last_value IS NOT NULL"
    async with engine.begin() as conn:
        dirty = {r[0] for r in await conn.execute(text(probes))}
        dirty |= {
            serials[r[0]] for r in await conn.execute(text(moved), {"schema": schema}) if r[0] in serials
        }
        if dirty:
            listed = ", ".join(f'"{n}"' for n in sorted(dirty))
            await conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
        # A test that stamps a revision (readiness) leaves no trace for the next one.
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield Backend("sqlite", f"sqlite:///{path}", None)
        return
    schema = request.getfixturevalue("pg_schema")
    be = Backend("postgresql", PG_URL, schema)
    engine = be.engine()
    await _empty_pg_tables(engine, schema)
    await engine.dispose()
    yield be


def make_services(backend: Backend, tmp_path: Path, **settings: Any) -> Services:
    # GET /v1/stream answers what is there and closes at once (it would run for ten minutes):
    # the route walks and the fuzzer call it like any GET. Tests of the stream set their own.
    settings.setdefault("stream_max_s", 0.05)
    cfg = Settings(database_url=backend.url, data_dir=tmp_path / "data", **settings)
    engine = backend.engine()
    read_engine = backend.engine(readonly=True) if backend.name == "sqlite" else engine
    return build_services(cfg, engine=engine, read_engine=read_engine)


@pytest.fixture
async def services(backend: Backend, tmp_path: Path) -> AsyncIterator[Services]:
    svc = make_services(backend, tmp_path, admin_token="platform-secret")
    yield svc
    await svc.close()


@dataclass
class TenantCtx:
    id: uuid.UUID
    slug: str
    token: str
    scope: Scope

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def new_tenant(svc: Services, slug: str) -> TenantCtx:
    async with svc.uow() as uow:
        tenant, key = await access.create_tenant(uow, Scope.platform(), slug, slug.title())
        await uow.commit()
    return TenantCtx(tenant.id, slug, key.token, Scope.system(tenant.id))


@pytest.fixture
async def tenant(services: Services) -> TenantCtx:
    return await new_tenant(services, "acme")


@pytest.fixture
async def other_tenant(services: Services) -> TenantCtx:
    return await new_tenant(services, "globex")


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services, run_consumers=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


PLATFORM_HEADERS = {"Authorization": "Bearer platform-secret"}


@pytest.fixture
async def erp() -> AsyncIterator[tuple[str, ErpState]]:
    """The mock ERP on a real port, as the outbox reaches it over HTTP: (its URL, its state)."""
    state = ErpState()
    port = pick_port("127.0.0.1", 0)
    assert port is not None
    config = uvicorn.Config(
        create_mock_erp(state), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn says it listens only through this flag
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "the mock ERP did not start"
    yield f"http://127.0.0.1:{port}", state
    server.should_exit = True
    await task
