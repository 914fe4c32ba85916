"""A webhook receiver on a real loopback port, and services whose outbox may reach it.

The receiver records every request as it came (raw body, headers) and answers as a test tells
it: a number of failures first, an error status, or no answer at all (a hanging endpoint).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from supplyline.api import create_app
from supplyline.bootstrap import Services, build_services
from supplyline.kernel.clock import utcnow
from supplyline.kernel.host import pick_port
from supplyline.settings import Settings
from tests.conftest import Backend

LOOPBACK = ["127.0.0.0/8", "::1/128"]


@dataclass
class Got:
    path: str
    body: bytes
    headers: dict[str, str]
    answered: int = 0  # the status it was answered with; 0 while (or if never) answered

    @property
    def event(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.body)
        return out


@dataclass
class Receiver:
    base: str = ""
    got: list[Got] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # path -> failures still to give
    status: dict[str, int] = field(default_factory=dict)  # path -> status to answer, always
    hang: set[str] = field(default_factory=set)
    hang_next: dict[str, int] = field(default_factory=dict)  # path -> requests still to leave unanswered

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def at(self, path: str) -> list[Got]:
        return [g for g in self.got if g.path == path]

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        path = request.url.path
        body = await request.body()
        got = Got(path, body, {k.lower(): v for k, v in request.headers.items()})
        self.got.append(got)
        if path in self.hang or self.hang_next.get(path, 0) > 0:
            self.hang_next[path] = max(0, self.hang_next.get(path, 0) - 1)
            await asyncio.sleep(30)
        response: Response
        if self.fail_next.get(path, 0) > 0:
            self.fail_next[path] -= 1
            response = JSONResponse({"error": "try later"}, status_code=503)
        elif path in self.status:
            response = JSONResponse({"error": "no"}, status_code=self.status[path])
        else:
            response = JSONResponse({"ok": True})
        got.answered = response.status_code
        await response(scope, receive, send)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    port = pick_port("127.0.0.1", 0)
    assert port is not None
    config = uvicorn.Config(
        rec.app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        interface="asgi3",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "the receiver did not start"
    rec.base = f"http://127.0.0.1:{port}"
    yield rec
    server.should_exit = True
    await task


class Clock:
    """The services' one "now": real time plus an offset a test moves."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


ServicesFactory = Callable[..., Services]


@pytest.fixture
async def make_hook_services(
    backend: Backend, tmp_path: Path, clock: Clock
) -> AsyncIterator[ServicesFactory]:
    made: list[Services] = []

    def make(**settings: Any) -> Services:
        settings.setdefault("stream_max_s", 0.05)
        settings.setdefault("admin_token", "platform-secret")
        cfg = Settings(database_url=backend.url, data_dir=tmp_path / "data", **settings)
        engine = backend.engine()
        read_engine = backend.engine(readonly=True) if backend.name == "sqlite" else engine
        svc = build_services(cfg, engine=engine, read_engine=read_engine, clock=clock)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        await svc.close()


@pytest.fixture
def hook_services(make_hook_services: ServicesFactory) -> Services:
    """Loopback allowed (the receiver), quick retries, a short attempt timeout."""
    return make_hook_services(
        webhook_allowed_cidrs=LOOPBACK,
        webhook_backoff_base_s=1,
        webhook_backoff_cap_s=4,
        webhook_timeout_s=2,
    )


@pytest.fixture
async def hook_client(hook_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(hook_services, run_consumers=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
