"""The application factory. Nothing is built at import; ``uvicorn --factory`` calls serve_app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from supplyline import __version__
from supplyline.api import health, openapi, pagination, problems, scopes, trail
from supplyline.api.middleware import BodyLimit, Correlation, DirectRoutes, HttpMetrics, Metrics
from supplyline.api.v1 import access as access_routes
from supplyline.api.v1 import (
    audit,
    deadletters,
    epcis,
    epcis_query,
    events,
    fsma204,
    governance,
    imports,
    ledger,
    operations,
    quotas,
    stream,
    telemetry,
    tenants,
    webhooks,
)
from supplyline.api.v1 import bi_exports as bi_export_routes
from supplyline.api.v1 import demand as demand_routes
from supplyline.api.v1 import forecast_overrides as forecast_override_routes
from supplyline.api.v1 import forecasts as forecast_routes
from supplyline.api.v1 import integrations as integration_routes
from supplyline.api.v1 import kpis as kpi_routes
from supplyline.api.v1 import replenishment as replenishment_routes
from supplyline.api.v1 import traceability as traceability_routes
from supplyline.api.v1.exports import export_router
from supplyline.api.v1.resources import resource_router
from supplyline.bootstrap import Services, build_services
from supplyline.resources import ResourceSpec
from supplyline.settings import Settings
from supplyline.telemetry import Bridge, build_bridge

DESCRIPTION = """
Supply-chain IoT: sites, assets, devices, products, lots, orders, shipments and inventory,
with every change recorded on an ordered, replayable event log.

* Authenticate with an API key: `Authorization: Bearer sl_...`, or a login session
  (`POST /v1/auth/login`) as a bearer token or, in the console, as the `sl_session` cookie; a
  change made with the cookie also needs the `X-CSRF-Token` header (docs/console.md).
* Every POST accepts an `Idempotency-Key` header: a retry returns the first answer.
* Lists are cursor-paginated: pass `next_cursor` back as `cursor`.
* Errors are RFC 9457 `application/problem+json`, naming each bad field in `errors`.
"""


def create_app(svc: Services, *, run_consumers: bool | None = None, direct: bool = True) -> FastAPI:
    """The app; ``direct=False`` leaves every request to the router (tests compare the two)."""
    run = svc.settings.run_consumers if run_consumers is None else run_consumers

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        background = svc.run_background if svc.settings.workers == "inline" else svc.run_sweep
        task = asyncio.create_task(background(stop)) if run else None
        if run:
            await svc.telemetry.start(compact=svc.settings.compactor == "inline")
        bridge = await _start_bridge(svc) if run and svc.settings.mqtt_url else None
        try:
            yield
        finally:
            if bridge is not None:
                await bridge.stop()
            stop.set()
            svc.events.notifier.notify()
            if task is not None:
                await task
            await svc.close()

    app = FastAPI(
        title="supplyline",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = svc
    app.state.metrics = CollectorRegistry()
    app.state.metrics.register(health.ThrottledCollector(svc.throttle))
    problems.install(app)
    trail.install(app)  # after problems: 401 and 403 are recorded, then answered the same way

    v1 = _Prefixed(app, "/v1")
    v1.include_router(scopes.annotate(tenants.router))
    v1.include_router(scopes.annotate(access_routes.router))
    v1.include_router(scopes.annotate(quotas.router))
    for spec in svc.catalog:
        for router in _spec_routers(spec):
            v1.include_router(router)
    v1.include_router(scopes.annotate(events.router))
    v1.include_router(scopes.annotate(stream.router))
    v1.include_router(scopes.annotate(imports.router))
    v1.include_router(scopes.annotate(telemetry.router))
    v1.include_router(scopes.annotate(deadletters.router))
    v1.include_router(scopes.annotate(operations.router))
    v1.include_router(scopes.annotate(ledger.router))
    v1.include_router(scopes.annotate(traceability_routes.router))
    v1.include_router(scopes.annotate(epcis_query.router))
    v1.include_router(scopes.annotate(epcis.router))
    v1.include_router(scopes.annotate(fsma204.router))
    v1.include_router(scopes.annotate(webhooks.router))
    v1.include_router(scopes.annotate(integration_routes.router))
    v1.include_router(scopes.annotate(audit.router))
    v1.include_router(scopes.annotate(governance.router))
    v1.include_router(scopes.annotate(replenishment_routes.router))
    v1.include_router(scopes.annotate(forecast_routes.router))
    v1.include_router(scopes.annotate(forecast_override_routes.router))
    v1.include_router(scopes.annotate(demand_routes.router))
    v1.include_router(scopes.annotate(kpi_routes.router))
    # After the spec routers: /v1/exports/{job_id} would otherwise take /v1/exports/<name>.csv.
    v1.include_router(scopes.annotate(bi_export_routes.router))
    app.include_router(scopes.annotate(health.router))
    _document(app, svc)

    # Outermost first: correlation id, metrics, the body limit, then device ingestion's direct route.
    metrics = HttpMetrics(app.state.metrics)
    if direct:
        routes = {("POST", "/v1/telemetry"): (telemetry.ingest_route(), telemetry.ingest_direct)}
        app.add_middleware(DirectRoutes, routes=routes, handlers=app.exception_handlers)
    app.add_middleware(BodyLimit, limit=svc.settings.max_body_bytes)
    app.add_middleware(Metrics, metrics=metrics)
    app.add_middleware(Correlation)
    return app


# The routers of each resource spec, built once per spec object (the spec kept alive beside
# them, so its id is never reused). They hold no app or services (a route reaches those
# through the request), and building them was nine tenths of building an app: a process that
# builds many apps over the same catalog (the test suite, a server per tenant group) pays once.
_SPEC_ROUTERS: dict[int, tuple[ResourceSpec, tuple[APIRouter, ...]]] = {}


def _spec_routers(spec: ResourceSpec) -> tuple[APIRouter, ...]:
    found = _SPEC_ROUTERS.get(id(spec))
    if found is None or found[0] is not spec:
        routers = (scopes.annotate(resource_router(spec)), scopes.annotate(export_router(spec)))
        found = _SPEC_ROUTERS[id(spec)] = (spec, routers)
    return found[1]


class _Prefixed:
    """Routers mounted under a prefix straight onto the app. Including them into a prefixed
    router first and that router into the app builds every route a second time (FastAPI copies
    each route it includes), which made each app cost about a second to build."""

    def __init__(self, app: FastAPI, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    def include_router(self, router: APIRouter) -> None:
        self.app.include_router(router, prefix=self.prefix)


def _document(app: FastAPI, svc: Services) -> None:
    """The OpenAPI document states what FastAPI cannot see: the limits this server was
    configured with (page sizes) and the problem+json errors each operation answers."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.document(pagination.document(generate(), svc.settings))
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


async def _start_bridge(svc: Services) -> Bridge:
    """The MQTT bridge inside the server, when SUPPLYLINE_MQTT_URL is set."""
    assert svc.settings.mqtt_url
    bridge = build_bridge(
        svc.telemetry.messages,
        svc.settings.mqtt_url,
        group=svc.settings.mqtt_group,
        client_id=svc.settings.mqtt_client_id,
    )
    await bridge.start()
    return bridge


def serve_app() -> FastAPI:
    """Entry point for ``uvicorn --factory supplyline.api.app:serve_app``."""
    return create_app(build_services(Settings()))
