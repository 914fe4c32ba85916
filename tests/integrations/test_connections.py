"""Integrations as plug-ins: the built-in ERP found through the entry point, a tenant's
connection validated and tried against the live endpoint, its secret kept encrypted and sent
at delivery time only, pause and resume without losing a message, health from the outbox, and
a separate package installed into a directory of its own appearing in GET /v1/integrations
and receiving events with no change to supplyline."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from supplyline import integrations
from supplyline.api import create_app
from supplyline.bootstrap import Services, build_services
from supplyline.integrations.tables import integrations_connection, integrations_delivery
from supplyline.kernel.host import pick_port
from supplyline.settings import Settings
from supplyline.sim import ErpState, create_mock_erp
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
from tests.factories import post, world

HERE = Path(__file__).parent
TOKEN = "erp-token-7f3a"


async def _serve(app: Any) -> AsyncIterator[str]:
    port = pick_port("127.0.0.1", 0)
    assert port is not None
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def erp() -> AsyncIterator[tuple[str, ErpState]]:
    """The mock ERP, wanting a bearer token."""
    state = ErpState()
    async for url in _serve(create_mock_erp(state, token=TOKEN)):
        yield url, state


@pytest.fixture
async def svc(backend: Backend, tmp_path: Path) -> AsyncIterator[Services]:
    services = make_services(backend, tmp_path)
    yield services
    await services.close()


@pytest.fixture
async def client(svc: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _flow(svc: Services) -> None:
    """Let the consumers and the outbox run once through what is there."""
    await svc.consumers.catch_up("integrations.connections")
    await svc.deliverer.run_once()


async def _hold(client: httpx.AsyncClient, tenant: TenantCtx, lot_id: str) -> dict[str, Any]:
    r = await client.post("/v1/holds", json={"lot_id": lot_id, "reason": "inspect"}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_the_built_in_erp_is_an_installed_integration(client: httpx.AsyncClient, svc: Services) -> None:
    tenant = await new_tenant(svc, "acme")
    r = await client.get("/v1/integrations", headers=tenant.headers)
    assert r.status_code == 200, r.text
    (erp,) = [i for i in r.json()["items"] if i["slug"] == "erp"]
    assert erp["secret_fields"] == ["token"]
    assert "supplyline.lot.held.v1" in erp["consumes"] and erp["capabilities"] == ["outbound"]
    assert set(erp["config_schema"]["properties"]) == {"url", "token", "timeout_s"}


async def test_a_connection_is_checked_sealed_and_delivers_with_its_token(
    client: httpx.AsyncClient, svc: Services, erp: tuple[str, ErpState]
) -> None:
    url, state = erp
    tenant = await new_tenant(svc, "acme")
    w = await world(client, tenant.headers)
    h = tenant.headers

    bad = await client.post(
        "/v1/connections", json={"integration": "erp", "name": "x", "config": {"url": "nope"}}, headers=h
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "config.url"
    unknown = await client.post("/v1/connections", json={"integration": "sap", "name": "x"}, headers=h)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "integration"
    wrong = {"integration": "erp", "name": "ERP", "config": {"url": url, "token": "not-it"}}
    refused = await client.post("/v1/connections", json=wrong, headers=h)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "config"
    assert "refused the credentials (401)" in refused.json()["errors"][0]["reason"]
    state.down = True
    down = await client.post(
        "/v1/connections", json={**wrong, "config": {"url": url, "token": TOKEN}}, headers=h
    )
    assert down.status_code == 422 and "503" in down.json()["errors"][0]["reason"]
    state.down = False
    async with svc.read_engine.connect() as conn:
        assert (await conn.execute(select(integrations_connection))).first() is None, "nothing half-saved"

    made = await post(
        client,
        h,
        "connections",
        {"integration": "erp", "name": "Our ERP", "config": {"url": url, "token": TOKEN}},
    )
    assert made["config"]["token"] == "********" and made["status"] == "active"
    assert made["health"]["state"] == "healthy" and made["health"]["checked_at"]
    async with svc.read_engine.connect() as conn:
        row = (await conn.execute(select(integrations_connection))).mappings().one()
    assert TOKEN.encode() not in row["secrets_enc"] and TOKEN not in json.dumps(row["config"])

    await _hold(client, tenant, w["lot"]["id"])
    await _flow(svc)
    (message,) = state.messages
    assert message["message"]["type"] == "hold" and message["message"]["lot"]["lot_code"] == "L2026-11"
    async with svc.read_engine.connect() as conn:
        (delivery,) = (await conn.execute(select(integrations_delivery))).mappings().all()
    assert delivery["target"] == f"connection:{made['id']}" and delivery["status"] == "delivered"
    assert TOKEN not in json.dumps(delivery["payload"]), "no secret copied into the outbox"
    health = (await client.get(f"/v1/connections/{made['id']}", headers=h)).json()["health"]
    assert (health["delivered"], health["waiting"], health["lag_s"]) == (1, 0, 0.0)
    assert health["last_success_at"] is not None

    tested = await client.post(f"/v1/connections/{made['id']}/test", headers=h)
    assert tested.status_code == 200 and tested.json()["ok"] is True


async def test_a_paused_connection_keeps_its_messages_until_resumed(
    client: httpx.AsyncClient, svc: Services, erp: tuple[str, ErpState]
) -> None:
    url, state = erp
    tenant = await new_tenant(svc, "acme")
    h = tenant.headers
    w = await world(client, h)
    made = await post(
        client,
        h,
        "connections",
        {"integration": "erp", "name": "ERP", "config": {"url": url, "token": TOKEN}},
    )
    paused = await client.post(f"/v1/connections/{made['id']}/pause", headers=h)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert paused.json()["health"]["state"] == "paused"

    hold = await _hold(client, tenant, w["lot"]["id"])
    await _flow(svc)
    assert state.messages == []
    waiting = (await client.get(f"/v1/connections/{made['id']}", headers=h)).json()["health"]
    assert waiting["waiting"] == 1 and waiting["lag_s"] >= 0
    released = await client.post(f"/v1/holds/{hold['id']}/release", json={"reason": "fine"}, headers=h)
    assert released.status_code == 200, released.text
    await _flow(svc)
    assert state.messages == []

    resumed = await client.post(f"/v1/connections/{made['id']}/resume", headers=h)
    assert resumed.json()["status"] == "active"
    await svc.deliverer.run_once()
    assert [m["message"]["type"] for m in state.messages] == ["hold", "release"], "both, in order"
    listed = (await client.get("/v1/connections", headers=h)).json()
    assert [c["id"] for c in listed["items"]] == [made["id"]] and listed["next_cursor"] is None

    archived = await client.post(f"/v1/connections/{made['id']}/archive", headers=h)
    assert archived.json()["status"] == "archived"
    again = await client.post(f"/v1/connections/{made['id']}/resume", headers=h)
    assert again.status_code == 409
    assert (await client.get("/v1/connections", headers=h)).json()["items"] == []
    await _hold(client, tenant, w["lot"]["id"])
    await _flow(svc)
    assert len(state.messages) == 2, "an archived connection gets nothing new"


async def test_connections_are_a_named_permission_and_stay_in_their_tenant(
    client: httpx.AsyncClient, svc: Services, erp: tuple[str, ErpState]
) -> None:
    url, _ = erp
    acme, globex = await new_tenant(svc, "acme"), await new_tenant(svc, "globex")
    made = await post(
        client,
        acme.headers,
        "connections",
        {"integration": "erp", "name": "ERP", "config": {"url": url, "token": TOKEN}},
    )
    r = await client.post("/v1/api-keys", json={"name": "ops", "role": "operator"}, headers=acme.headers)
    assert r.status_code == 201, r.text
    operator = {"Authorization": f"Bearer {r.json()['token']}"}  # "*:*" does not cover it
    assert (await client.get("/v1/connections", headers=operator)).status_code == 403
    assert (await client.get("/v1/integrations", headers=operator)).status_code == 403
    assert (await client.get(f"/v1/connections/{made['id']}", headers=globex.headers)).status_code == 404
    assert (
        await client.post(f"/v1/connections/{made['id']}/pause", headers=globex.headers)
    ).status_code == 404
    assert (await client.get("/v1/connections", headers=globex.headers)).json()["items"] == []


# ---- a plug-in from a separate package --------------------------------------------------------


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """tests/integrations/sample_plugin built and installed into a directory of its own (as
    pip installs any package), then put on sys.path; supplyline itself is not touched."""
    site = tmp_path_factory.mktemp("sample-site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(HERE / "sample_plugin"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("supplyline_sample_plugin", None)


async def test_an_integration_installed_from_another_package_appears_and_receives_events(
    sample_site: Path, backend: Backend, tmp_path: Path
) -> None:
    assert (sample_site / "supplyline_sample_plugin").is_dir()
    registry = integrations.Registry.from_entry_points()
    assert {p.manifest.slug for p in registry.all()} >= {"erp", "sample-receiver"}
    received: list[tuple[dict[str, Any], str | None]] = []

    async def ping(request: Request) -> Response:
        ok = request.headers.get("x-api-key") == "k-123"
        return JSONResponse({"ok": ok}, status_code=200 if ok else 401)

    async def events(request: Request) -> Response:
        received.append((json.loads(await request.body()), request.headers.get("x-api-key")))
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/ping", ping), Route("/events", events, methods=["POST"])])
    settings = Settings(database_url=backend.url, data_dir=tmp_path / "data", stream_max_s=0.05)
    engine = backend.engine()
    read_engine = backend.engine(readonly=True) if backend.name == "sqlite" else engine
    svc = build_services(settings, engine=engine, read_engine=read_engine, plugins=registry)
    try:
        transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            tenant = await new_tenant(svc, f"t{uuid.uuid4().hex[:8]}")
            listed = (await client.get("/v1/integrations", headers=tenant.headers)).json()["items"]
            (sample,) = [i for i in listed if i["slug"] == "sample-receiver"]
            assert sample["version"] == "1.2.0" and sample["secret_fields"] == ["api_key"]
            w = await world(client, tenant.headers)
            async for url in _serve(receiver):
                body = {
                    "integration": "sample-receiver",
                    "name": "QA feed",
                    "config": {"url": url, "api_key": "wrong"},
                }
                refused = await client.post("/v1/connections", json=body, headers=tenant.headers)
                assert refused.status_code == 422 and "401" in refused.json()["errors"][0]["reason"]
                body["config"]["api_key"] = "k-123"
                await post(client, tenant.headers, "connections", body)
                await _hold(client, tenant, w["lot"]["id"])
                await _flow(svc)
                assert received == [
                    ({"channel": "quality", "type": "supplyline.lot.held.v1", "lot": "L2026-11"}, "k-123")
                ]
    finally:
        await svc.close()
