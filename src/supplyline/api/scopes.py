"""Every route declares what confines it; the app refuses to start with one that does not.

The declaration is the permission dependency (``requires("shipments")``): its resource names
the visibility rule the route's queries go through. It is written into the OpenAPI operation as
``x-supplyline-scope`` so that the isolation tests enumerate routes from ``/openapi.json`` and
fail on a route nobody thought about. Routes without a caller are listed here, by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from supplyline.api import openapi
from supplyline.api.deps import current_scope

# Routes that take no tenant caller: what authenticates them instead.
OPEN = {
    ("POST", "/auth/login"): "public: answers a session for the right password",
    ("POST", "/telemetry"): "device: the device's own token and signature",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public: process metrics, no tenant data",
}


def _calls(dep: Dependant) -> Iterator[Any]:
    for sub in dep.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def scope_of(route: APIRoute) -> str | None:
    calls = list(_calls(route.dependant))
    for call in calls:
        declared = getattr(call, "supplyline_scope", None)
        if declared:
            return str(declared)
    if current_scope in calls:
        return "self"  # about the caller only (who am I, log out)
    return None


def annotate(router: APIRouter) -> APIRouter:
    """Write each route's scope (and the errors that follow from its dependencies, see
    ``api.openapi``) into its OpenAPI operation before the router is included; refuse a route
    without a scope (the app does not start)."""
    missing = []
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods or ():
            declared = scope_of(route) or OPEN.get((method, route.path))
            if declared is None:
                missing.append(f"{method} {route.path}")
                continue
            route.openapi_extra = {**(route.openapi_extra or {}), "x-supplyline-scope": declared}
        openapi.mark(route)
    if missing:
        raise RuntimeError(f"routes without a scope rule: {', '.join(sorted(missing))}")
    return router
