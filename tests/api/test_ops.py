"""Health, readiness, metrics, the OpenAPI document and correlation ids."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import text

from supplyline.api import create_app
from supplyline.bootstrap import Services, build_services
from supplyline.db.migrate import alembic_config, head_revision
from supplyline.settings import Settings
from tests.api.samples import SAMPLES, assert_problem, events_of
from tests.conftest import TenantCtx
from tests.factories import post

SITE = {"code": "S1", "name": "Site 1", "kind": "store"}


def _stamp_head(sync_conn: Any) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.stamp(cfg, "head")


async def test_health_and_readiness(client: httpx.AsyncClient, services: Services) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    # The test database is built with create_all, not migrations: not ready, and it says why.
    r = await client.get("/readyz")
    assert r.status_code == 503, r.text
    assert r.json()["checks"]["database"] == "ok"
    assert "not migrated" in r.json()["checks"]["schema"] and str(head_revision()) in r.text
    async with services.engine.begin() as conn:
        await conn.run_sync(_stamp_head)
    try:
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok"}}
    finally:
        async with services.engine.begin() as conn:
            await conn.execute(text("DROP TABLE alembic_version"))


async def test_readiness_without_a_database(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", data_dir=tmp_path)
    svc = build_services(settings)
    transport = httpx.ASGITransport(app=create_app(svc, run_consumers=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            r = await client.get("/readyz")
            assert r.status_code == 503
            assert r.json()["checks"]["database"].startswith("unreachable")
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await svc.close()


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    site = await post(client, tenant.headers, "sites", SITE)
    for _ in range(2):
        await client.get(f"/v1/sites/{site['id']}", headers=tenant.headers)
    missing = uuid.uuid4()
    await client.get(f"/v1/sites/{missing}", headers=tenant.headers)
    await client.get(f"/v1/no-such-thing/{missing}", headers=tenant.headers)
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=")
    samples = dict(re.findall(r"^(supplyline_http_requests_total\{.*\}) (\S+)$", r.text, re.M))

    def count(method: str, route: str, status: int) -> float:
        return float(
            samples.get(
                f'supplyline_http_requests_total{{method="{method}",route="{route}",status="{status}"}}', 0
            )
        )

    assert count("POST", "/v1/sites", 201) == 1
    assert count("GET", "/v1/sites/{id}", 200) == 2
    assert count("GET", "/v1/sites/{id}", 404) == 1
    assert count("GET", "unmatched", 404) == 1
    assert "supplyline_http_request_seconds_bucket" in r.text
    # Labels are templates: no id ever becomes a label value.
    assert site["id"] not in r.text and str(missing) not in r.text


async def test_openapi_lists_every_resource_with_summaries(
    client: httpx.AsyncClient, services: Services
) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    paths: dict[str, dict[str, Any]] = r.json()["paths"]
    names = {
        "organizations", "regions", "sites", "zones", "asset-types", "assets", "device-profiles",
        "devices", "products", "lots", "orders", "shipments", "inventory-positions", "payload-mappings",
        "retention-policies", "rules", "escalation-policies",
    }  # fmt: skip
    assert names == set(SAMPLES) == {spec.name for spec in services.catalog}
    for name in names:
        assert {"get", "post"} <= set(paths[f"/v1/{name}"]), name
        assert {"get", "patch"} <= set(paths[f"/v1/{name}/{{id}}"]), name
        assert "post" in paths[f"/v1/{name}/{{id}}/archive"], name
    for path in ("/v1/tenants", "/v1/api-keys", "/v1/events", "/healthz", "/readyz", "/metrics"):
        assert path in paths
    methods = {"get", "post", "patch", "put", "delete"}
    for path, ops in paths.items():
        for method, op in ops.items():
            if method in methods:
                assert op.get("summary", "").strip(), f"{method.upper()} {path} has no summary"
                assert "_" not in op["summary"].split("(")[0], op["summary"]
    sites = paths["/v1/sites"]["get"]
    params = {p["name"] for p in sites["parameters"]}
    assert {"limit", "cursor", "include_archived", "kind", "region_id", "code"} <= params


async def test_correlation_ids(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    h = {**tenant.headers, "X-Correlation-ID": "req-42"}
    r = await client.post("/v1/sites", json=SITE, headers=h)
    assert r.headers["x-correlation-id"] == "req-42"
    site = r.json()
    r = await client.patch(
        f"/v1/sites/{site['id']}",
        json={"name": "x"},
        headers={**tenant.headers, "X-Correlation-ID": "req-43"},
    )
    assert r.headers["x-correlation-id"] == "req-43"
    events = await events_of(client, tenant.headers, subject=f"sites/{site['id']}")
    assert [e["correlationid"] for e in events] == ["req-42", "req-43"]
    assert [e["id"] for e in await events_of(client, tenant.headers, correlation_id="req-42")] == [
        events[0]["id"]
    ]
    # Errors echo it too; without one, the server makes one up.
    r = await client.post("/v1/sites", json={}, headers=h)
    assert_problem(r, 422)
    assert r.headers["x-correlation-id"] == "req-42"
    r = await client.get("/healthz")
    assert len(r.headers["x-correlation-id"]) >= 32
    assert r.headers["x-correlation-id"] != (await client.get("/healthz")).headers["x-correlation-id"]
