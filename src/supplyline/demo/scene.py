"""The demo tenant as the console shows it after a loop: the story's excursion already happened.

``make screenshots`` and ``supplyline bench console`` need the console's lists filled without
running the simulator for minutes. So the demo tenant is seeded (``seed_demo``), its people get
their logins, and the story's tracker reports the last two hours of ``SHIPMENT`` through the
ingestion path: in range, then the compressor fails and the load warms past ``LIMIT_C``. The
event consumers then run to the head of the log in this process, so the demo's own rule raises
the alarm, holds the lots and re-forecasts, exactly as in ``make demo``.

``extra_devices`` adds a fleet of that many trackers (the console's speed is promised at
10,000), created in batches through the resource service; a few hundred of them report a
reading and some carry alarms, so no list the console shows is empty.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson

from supplyline import alarms
from supplyline.bootstrap import Services
from supplyline.demo.credentials import ready_logins, ready_tenant
from supplyline.demo.facts import SHIPMENT, TRACKER
from supplyline.demo.logins import DemoLogin
from supplyline.demo.records import SITES
from supplyline.demo.seed import DemoInfo
from supplyline.kernel.clock import utcnow
from supplyline.kernel.scope import Scope
from supplyline.telemetry import issue_credential, sign

STEP = timedelta(minutes=2)
STORY_SPAN = timedelta(hours=2)  # the tracker's history: departure (1 h 40 ago) and before
# The compressor stops this long into the history, so that the load passes LIMIT_C about six
# minutes before now: the rules raise only what crossed in their live window (ten minutes).
FAILS_AFTER = timedelta(minutes=96)
DOORS_OPEN = range(25, 33)  # the steps of a stop with the doors open (about an hour ago)
DEMO_DEVICES = 2  # the demo tenant's own trackers
BATCH = 1000  # devices created per call
REPORTING = 300  # of the extra devices, this many report a reading (with a credential)
ALARMED = 200  # and this many carry an alarm (every fifth of them active)


class Credential(Protocol):
    """What the scene uses of an issued device credential (shown once, at issue)."""

    @property
    def token(self) -> str: ...
    @property
    def secret(self) -> str: ...


@dataclass(frozen=True)
class Scene:
    info: DemoInfo
    logins: dict[str, DemoLogin]  # by the demo's role name: operator, quality, planner, carrier
    ids: dict[str, str]  # shipment (SHIPMENT's id), product and site (a planned series)
    devices: int  # devices in the tenant
    alarms: int  # alarms raised


async def stage_scene(svc: Services, data_dir: Path, *, extra_devices: int = 0) -> Scene:
    """Seed the demo tenant and play its excursion (see the module); ``data_dir`` keeps the
    demo's credentials file. Meant for a fresh database: the excursion is played once."""
    info, _ = await ready_tenant(svc, data_dir)
    logins = {p.role: p for p in await ready_logins(svc, info, data_dir)}
    scope = Scope.system(info.tenant_id, "demo")
    ids = await _ids(svc, scope)
    await _past_shipments(svc, scope)
    # The fleet's past first, the excursion last: the alarm list shows it on top.
    extra = await _fleet(svc, scope, extra_devices) if extra_devices else []
    await _alarms(svc, info.tenant_id, extra[:ALARMED])
    await _report(svc, scope, extra[:REPORTING])
    await _excursion(svc, scope, ids["tracker"])
    await _catch_up(svc)
    return Scene(info, logins, ids, DEMO_DEVICES + len(extra), await _count_alarms(svc, scope))


async def _count_alarms(svc: Services, scope: Scope) -> int:
    total, cursor = 0, None
    async with svc.read_engine.connect() as conn:
        while True:
            page = await alarms.list_alarms(conn, scope, {}, cursor=cursor, limit=100)
            total += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return total


async def _ids(svc: Services, scope: Scope) -> dict[str, str]:
    async with svc.read_engine.connect() as conn:
        res = svc.resources
        (ship,) = [
            s for s in (await res.list_page(conn, scope, "shipments")).items if s["number"] == SHIPMENT
        ]
        tracker = ship["devices"][0]["device_id"]
        lot = await res.get(conn, scope, "lots", ship["lots"][0]["lot_id"])
    return {
        "shipment": str(ship["id"]),
        "tracker": str(tracker),
        "product": str(lot["product_id"]),
        "lot": str(lot["id"]),
        "site": str(ship["origin_site_id"]),
    }


async def _past_shipments(svc: Services, scope: Scope) -> None:
    """Earlier deliveries between the demo's sites, by its carrier and by a second one (whose
    trips the carrier's person must not see), and one planned for tomorrow."""
    async with svc.read_engine.connect() as conn:
        orgs = (await svc.resources.list_page(conn, scope, "organizations")).items
        sites = (await svc.resources.list_page(conn, scope, "sites")).items
    carrier = next(str(o["id"]) for o in orgs if o["kind"] == "carrier")
    site = {s["code"]: str(s["id"]) for s in sites}
    legs = [("DC-LYON", "ST-MUNICH"), ("DC-LYON", "CR-GENEVA"), ("CR-GENEVA", "ST-MUNICH")]
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    async with svc.uow() as uow:
        (other,) = await svc.resources.create_many(
            uow, scope, "organizations", [{"code": "ACT", "name": "Alpine Cold Transport", "kind": "carrier"}]
        )
        rows = []
        for n in range(8):
            origin, destination = legs[n % len(legs)]
            leaves = now - timedelta(days=8 - n, hours=3 * n)
            rows.append(
                {
                    "number": f"SHP-{993 + n}",
                    "status": "delivered",
                    "origin_site_id": site[origin],
                    "destination_site_id": site[destination],
                    "carrier_organization_id": carrier if n % 3 else str(other["id"]),
                    "planned_departure_at": leaves.isoformat(),
                    "planned_arrival_at": (leaves + timedelta(hours=9)).isoformat(),
                    "actual_departure_at": leaves.isoformat(),
                    "actual_arrival_at": (leaves + timedelta(hours=9, minutes=20)).isoformat(),
                    "freight_cost": 780.0 + 35 * n,
                    "currency": "EUR",
                }
            )
        tomorrow = now + timedelta(days=1, hours=6)
        rows.append(
            {
                "number": "SHP-1002",
                "status": "planned",
                "origin_site_id": site["DC-LYON"],
                "destination_site_id": site["CR-GENEVA"],
                "carrier_organization_id": str(other["id"]),
                "planned_departure_at": tomorrow.isoformat(),
                "planned_arrival_at": (tomorrow + timedelta(hours=4)).isoformat(),
            }
        )
        await svc.resources.create_many(uow, scope, "shipments", rows)
        await uow.commit()


def _story_readings(start_ms: int, count: int) -> list[dict[str, Any]]:
    """The tracker's readings: near 4.5 C, briefly above 8 C while the doors stood open at a
    stop an hour ago (back in range since: recorded, not raised), then warming 0.4 C a step once
    the compressor fails (past 8 C some twenty minutes later), moving from Lyon to Munich."""
    (_, _, _, _, _, (lat0, lon0, _), _), _, (_, _, _, _, _, (lat1, lon1, _), _) = SITES
    fails = FAILS_AFTER // STEP
    out = []
    for n in range(count):
        temp = 4.5 + 0.3 * math.sin(n / 3) + (0.4 * (n - fails) if n > fails else 0.0)
        if n in DOORS_OPEN:
            temp += 5.0 * math.sin(math.pi * (n - DOORS_OPEN.start) / len(DOORS_OPEN))
        f = n / count * 0.45  # about half way by now
        out.append(
            {
                "device": TRACKER,
                "seq": n,
                "ts": start_ms + n * int(STEP.total_seconds() * 1000),
                "metrics": {
                    "temperature_c": round(temp, 2),
                    "humidity_pct": round(88 - max(0.0, temp - 5) * 1.5, 1),
                    "battery_pct": round(96 - n * 0.05, 1),
                    "lat": round(lat0 + (lat1 - lat0) * f, 5),
                    "lon": round(lon0 + (lon1 - lon0) * f, 5),
                },
            }
        )
    return out


async def _credentials(svc: Services, scope: Scope, device_ids: list[str]) -> Sequence[Credential]:
    """A credential for each device, in one transaction; the telemetry caches forgotten once
    (each reload reads the tenant's whole device directory)."""
    tele = svc.telemetry
    async with svc.uow() as uow:
        creds = [
            await issue_credential(uow, scope, uuid.UUID(d), tele.box, overlap=tele.overlap)
            for d in device_ids
        ]
        await uow.commit()
    tele.invalidate()
    return creds


async def _send(svc: Services, cred: Credential, readings: list[dict[str, Any]]) -> None:
    """Readings through the ingestion path, signed with the device's credential."""
    tele = svc.telemetry
    body = orjson.dumps(readings)
    identity = await tele.credentials.identify(cred.token)
    result = await tele.ingest.ingest(identity, body, sign(cred.secret, body))
    if result.accepted != len(readings):
        raise RuntimeError(f"the demo readings were refused: {result.as_dict()}")


async def _excursion(svc: Services, scope: Scope, tracker: str) -> None:
    now = utcnow().replace(second=0, microsecond=0)
    start = now - STORY_SPAN
    count = STORY_SPAN // STEP
    (cred,) = await _credentials(svc, scope, [tracker])
    await _send(svc, cred, _story_readings(int(start.timestamp() * 1000), count))
    await svc.telemetry.compactor.drain()


async def _catch_up(svc: Services) -> None:
    """Every event consumer to the head of the log (a consumer's work can append events that
    another one reads: rounds until none moves)."""
    for _ in range(10):
        moved = 0
        for name in list(svc.consumers.consumers):
            moved += await svc.consumers.catch_up(name)
        if not moved:
            return


async def _fleet(svc: Services, scope: Scope, count: int) -> list[dict[str, Any]]:
    """``count`` trackers on a profile of their own, created ``BATCH`` at a time."""
    metrics = [
        {"metric": "temperature_c", "unit": "C", "min": -40, "max": 60},
        {"metric": "battery_pct", "unit": "%", "min": 0, "max": 100},
    ]
    profile = {"code": "fleet-tracker", "name": "Fleet tracker", "device_kind": "tracker", "metrics": metrics}
    out: list[dict[str, Any]] = []
    async with svc.uow() as uow:
        made = await svc.resources.create(uow, scope, "device-profiles", profile)
        for lo in range(0, count, BATCH):
            rows = [
                {
                    "code": f"fleet-{n:05d}",
                    "name": f"Fleet tracker {n:05d}",
                    "kind": "tracker",
                    "device_profile_id": made["id"],
                    "serial_number": f"FT-{n:07d}",
                }
                for n in range(lo, min(lo + BATCH, count))
            ]
            out += await svc.resources.create_many(uow, scope, "devices", rows)
        await uow.commit()
    return out


async def _alarms(svc: Services, tenant: uuid.UUID, devices: list[dict[str, Any]]) -> None:
    """Past battery and door alarms of the fleet, most cleared, every fifth still active."""
    now = utcnow()
    async with svc.uow() as uow:
        for n, dev in enumerate(devices):
            kind, severity = ("battery-low", "minor") if n % 2 else ("door-open-too-long", "major")
            cmd = alarms.RaiseAlarm(
                kind,
                severity,
                "device",
                uuid.UUID(str(dev["id"])),
                str(dev["code"]),
                now - timedelta(minutes=30 + 7 * n),
                device_id=uuid.UUID(str(dev["id"])),
            )
            await alarms.raise_alarm(uow, tenant, cmd)
            if n % 5:
                at = now - timedelta(minutes=20 + 7 * n)
                await alarms.clear_for(uow, tenant, cmd.originator_id, kind, at, "back to normal")
        await uow.commit()


async def _report(svc: Services, scope: Scope, devices: list[dict[str, Any]]) -> None:
    """One reading from each of ``devices`` in the last hour (twenty uploads at a time)."""
    now_ms = int(utcnow().timestamp() * 1000)
    creds = await _credentials(svc, scope, [str(d["id"]) for d in devices])

    async def one(n: int, dev: dict[str, Any]) -> None:
        metrics = {"temperature_c": 4.0 + n % 9 * 0.3, "battery_pct": 40.0 + n % 60}
        reading = {"device": dev["code"], "seq": 1, "ts": now_ms - (n % 60) * 60_000, "metrics": metrics}
        await _send(svc, creds[n], [reading])

    for lo in range(0, len(devices), 20):
        await asyncio.gather(*(one(n, d) for n, d in enumerate(devices[lo : lo + 20], lo)))
    await svc.telemetry.compactor.drain()
