"""``supplyline bench scoped-read``: what reading as a partner costs against reading as the admin.

One tenant (``scoped_world``): ten carriers over 10,000 shipments, a tracker fleet reused trip
after trip, alarms, a few hundred thousand readings. The same requests are sent with the
tenant admin's key and with a ``partner_viewer`` key of one carrier (about 1,000 shipments):
the first page of shipments, lots, devices, alarms and events, a tracker's temperature over one
of the carrier's trips (from an hour before pickup to an hour after delivery: the partner's
answer is cut to the trip), and the latest values of one of its shipments in transit.

The app runs in this process (the API's ``create_app``, handed in by the CLI, behind
``httpx.ASGITransport``), authentication included: what differs between the two callers is all
inside the app (loading grants, the visibility filters, the trip windows), while a real
server's socket and HTTP parsing would add the same fixed cost to both and pull the ratio
towards 1. Admin and partner rounds alternate, and the median time of each request is reported:
``partner_ms`` and ``admin_ms`` sum the medians over the query mix, ``ratio`` is partner over
admin (target: at most 1.25).

Before timing anything the partner's answers are checked against what the world says it may
see (and both callers must get full pages): a benchmark of a filter that leaks is worthless.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from supplyline.bench.scoped_world import ScopedWorld, Size, build_world
from supplyline.bootstrap import Services, build_services

Query = tuple[str, str, dict[str, Any]]  # name, path, params
AppFactory = Callable[[Services], ASGIApp]  # the API's create_app (benchmarks sit below the API)


def _queries(w: ScopedWorld, page: int) -> list[Query]:
    trip = w.trip
    window = {
        "device": trip["tracker"],
        "metric": "temperature_c",
        "from": _iso(trip["departure"] - timedelta(hours=1)),
        "to": _iso(trip["arrival"] + timedelta(hours=1)),
    }
    lists = [(name, f"/v1/{name}", {"limit": page}) for name in ("shipments", "lots", "devices", "alarms")]
    return [
        *lists,
        ("events", "/v1/events", {"limit": page}),
        ("telemetry", "/v1/telemetry", window),
        ("telemetry_latest", "/v1/telemetry/latest", {"shipment": w.moving}),
    ]


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def run_scoped_read_bench(
    work_dir: Path,
    app: AppFactory,
    *,
    size: Size | None = None,
    rounds: int = 60,
    warmup: int = 3,
    page: int = 100,
) -> dict[str, Any]:
    started = time.perf_counter()
    world = await build_world(work_dir, size or Size())
    build_s = time.perf_counter() - started
    times = await measure(world, app, rounds=rounds, warmup=warmup, page=page)
    return _figures(times, world, build_s)


async def measure(
    world: ScopedWorld, app: AppFactory, *, rounds: int, warmup: int, page: int
) -> dict[str, dict[str, list[float]]]:
    """Seconds per request, by caller and query: warm-up rounds (the first one's answers
    checked), then ``rounds`` in which each query is sent by both callers back to back, in an
    order that alternates, so that both meet the same moment of a shared machine's noise."""
    svc = build_services(world.settings)
    try:
        transport = httpx.ASGITransport(app=app(svc))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            admin = {"Authorization": f"Bearer {world.admin_token}"}
            partner = await _partner_key(client, admin, world.carrier_id)
            queries = _queries(world, page)
            callers = {"admin": admin, "partner": partner}
            times: dict[str, dict[str, list[float]]] = {who: {q[0]: [] for q in queries} for who in callers}
            for n in range(warmup):
                answers = await _round(client, callers, queries, n, None)
                if n == 0:
                    _check(world, answers, page)
            for n in range(rounds):
                await _round(client, callers, queries, n, times)
    finally:
        await svc.close()
    return times


async def _partner_key(client: httpx.AsyncClient, admin: dict[str, str], carrier: str) -> dict[str, str]:
    body = {"name": "carrier-0", "role": "partner_viewer", "organization_id": carrier}
    r = await client.post("/v1/api-keys", json=body, headers=admin)
    if r.status_code != 201:
        raise RuntimeError(f"creating the partner key: HTTP {r.status_code} {r.text}")
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _round(
    client: httpx.AsyncClient,
    callers: dict[str, dict[str, str]],
    queries: list[Query],
    n: int,
    times: dict[str, dict[str, list[float]]] | None,
) -> dict[str, dict[str, Any]]:
    """Each query by each caller (who goes first alternates); the times appended to ``times``;
    the answers by caller and query."""
    answers: dict[str, dict[str, Any]] = {who: {} for who in callers}
    for k, (name, path, params) in enumerate(queries):
        order = list(callers) if (n + k) % 2 == 0 else list(reversed(callers))
        for who in order:
            start = time.perf_counter()
            r = await client.get(path, params=params, headers=callers[who])
            took = time.perf_counter() - start
            if r.status_code != 200:
                raise RuntimeError(f"{name} as {who}: HTTP {r.status_code} {r.text[:300]}")
            if times is not None:
                times[who][name].append(took)
            answers[who][name] = r.json()
    return answers


def _check(w: ScopedWorld, answers: dict[str, dict[str, Any]], page: int) -> None:
    """Refuse to time a filter that leaks, or a comparison that is not like for like."""
    admin, partner = answers["admin"], answers["partner"]
    reach = w.entitled
    allowed: dict[str, Callable[[dict[str, Any]], bool]] = {
        "shipments": lambda i: i["id"] in reach.shipments and i["carrier_organization_id"] == w.carrier_id,
        "lots": lambda i: i["id"] in reach.lots,
        "devices": lambda i: i["id"] in reach.devices,
        "alarms": lambda i: i["id"] in reach.alarms,
    }
    for name, ok in allowed.items():
        _full(name, admin[name]["items"], partner[name]["items"], page)
        leaked = [i["id"] for i in partner[name]["items"] if not ok(i)]
        if leaked:
            raise AssertionError(f"the partner was shown {name} it does not reach, e.g. {leaked[0]}")
    if any("freight_cost" in i for i in partner["shipments"]["items"]):
        raise AssertionError("the partner was shown a shipment's freight cost (commercial)")
    _full("events", admin["events"]["items"], partner["events"]["items"], page)
    subjects = reach.subjects()
    leaked = [e["subject"] for e in partner["events"]["items"] if e["subject"] not in subjects]
    if leaked:
        raise AssertionError(f"the partner was shown events about {leaked[0]}, which it does not reach")
    _check_telemetry(w, admin, partner)


def _full(name: str, admin: list[Any], partner: list[Any], page: int) -> None:
    if len(admin) != page or len(partner) != page:
        raise AssertionError(
            f"{name}: pages of {len(admin)} (admin) and {len(partner)} (partner), not {page}"
        )


def _check_telemetry(w: ScopedWorld, admin: dict[str, Any], partner: dict[str, Any]) -> None:
    """The partner reads the tracker during the trip only; the admin reads it around it too."""
    lo, hi = (int(w.trip[k].timestamp() * 1000) for k in ("departure", "arrival"))
    (mine,) = partner["telemetry"]["series"]
    (whole,) = admin["telemetry"]["series"]
    points, all_points = mine["points"], whole["points"]
    if not points or any(not lo <= ts <= hi for ts, _ in points):
        raise AssertionError("the partner's readings of its trip are missing or outside pickup..delivery")
    if not (all_points[0][0] < lo and all_points[-1][0] > hi):
        raise AssertionError("the admin's answer has no readings before pickup and after delivery")
    (latest,) = partner["telemetry_latest"]["items"]
    if latest["device_id"] not in w.entitled.devices or latest != admin["telemetry_latest"]["items"][0]:
        raise AssertionError("the latest values of a shipment in transit differ between partner and admin")


def _figures(times: dict[str, dict[str, list[float]]], w: ScopedWorld, build_s: float) -> dict[str, Any]:
    medians = {who: {q: statistics.median(ts) * 1000 for q, ts in per.items()} for who, per in times.items()}
    partner_ms, admin_ms = sum(medians["partner"].values()), sum(medians["admin"].values())
    queries = {
        q: {
            "partner_ms": round(medians["partner"][q], 2),
            "admin_ms": round(medians["admin"][q], 2),
            "ratio": round(medians["partner"][q] / medians["admin"][q], 3),
        }
        for q in medians["admin"]
    }
    return {
        "partner_ms": round(partner_ms, 2),
        "admin_ms": round(admin_ms, 2),
        "ratio": round(partner_ms / admin_ms, 3),
        "queries": queries,
        "shipments": w.shipments,
        "partner_shipments": len(w.entitled.shipments),
        "readings": w.readings,
        "alarms": w.alarms,
        "rounds": len(next(iter(times["admin"].values()))),
        "build_s": round(build_s, 1),
        "backend": "sqlite",
    }
