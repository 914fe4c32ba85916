"""Liveness, readiness and Prometheus metrics; unauthenticated by design, no tenant data."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.responses import PlainTextResponse, Response

from supplyline.access import Throttle
from supplyline.api.deps import JSON, services
from supplyline.bootstrap import Services
from supplyline.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


class ThrottledCollector(Collector):
    """supplyline_throttled_total{quota=...}: refusals of this process, read at each scrape
    (the throttle counts in a plain Counter: nothing Prometheus-shaped on the hot path)."""

    def __init__(self, throttle: Throttle) -> None:
        self.throttle = throttle

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "supplyline_throttled", "Work refused over a quota (429 or dead letter)", labels=["quota"]
        )
        for kind in self.throttle.KINDS.values():
            family.add_metric([kind], self.throttle.refused[kind])
        yield family


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return JSON({"status": "ok"})


READY = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


@router.get(
    "/readyz",
    summary="The database answers and its schema is current",
    responses={
        200: {"content": {"application/json": {"schema": READY}}},
        503: {
            "description": "Not ready: each check says why",
            "content": {"application/json": {"schema": READY}},
        },
    },
)
async def readyz(svc: Services = Depends(services)) -> Response:
    checks: dict[str, str] = {}
    try:
        async with svc.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = await current_revision(svc.read_engine), head_revision()
        if current == head:
            checks["schema"] = "ok"
        else:
            at = f"at revision {current}" if current else "not migrated"
            checks["schema"] = f"{at}, expected {head}: run 'supplyline db upgrade'"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSON(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"description": "The Prometheus text exposition format", "content": {"text/plain": {}}}},
)
async def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
