"""The tenant ``supplyline bench scoped-read`` measures: ten carriers sharing 10,000 shipments.

Built in-process through the use cases (resources, alarms, credentials, telemetry ingestion),
in a freshly migrated SQLite database, so that it takes seconds rather than the minutes tens of
thousands of HTTP calls would. The shape is a carrier network's: trackers are reused trip after
trip by whichever carrier is next (so one tracker's history spans several carriers), each
shipment carries a lot, trackers report every few minutes before pickup, during the trip and
after delivery, and past trips have raised and cleared temperature alarms.

What the measured carrier may see is written down here from the data made, independently of
the visibility rules, so that the benchmark can refuse to time a filter that lets too much by.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet

from supplyline import access, alarms
from supplyline.bench.fleet import reading
from supplyline.bootstrap import Services, build_services
from supplyline.db import create_engine
from supplyline.db.migrate import upgrade
from supplyline.kernel.scope import Scope
from supplyline.settings import Settings
from supplyline.telemetry import issue_credential, sign

HOUR = timedelta(hours=1)
PERIOD, TRIP = 12 * HOUR, 8 * HOUR  # a tracker leaves every 12 hours on an 8-hour trip
METRICS = [
    {"metric": m, "unit": u, "min": lo, "max": hi}
    for m, u, lo, hi in (
        ("temperature_c", "C", -40, 60),
        ("humidity_pct", "%", 0, 100),
        ("battery_v", "V", 0, 5),
        ("door_open", "bool", 0, 1),
    )
]


@dataclass(frozen=True)
class Size:
    shipments: int = 10_000
    carriers: int = 10
    trackers: int = 300
    assets: int = 200
    sites: int = 20
    products: int = 20
    trips_read: int = 4  # each tracker reports from before its 4th-last trip until now
    interval_s: int = 180
    alarm_every: int = 4  # every 4th trip raised a temperature alarm


@dataclass
class Entitled:
    """What the measured carrier may see, from the data made (not from the rules)."""

    shipments: set[str] = field(default_factory=set)
    lots: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    sites: set[str] = field(default_factory=set)
    assets: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    alarms: set[str] = field(default_factory=set)

    def subjects(self) -> set[str]:
        """Event subjects ("shipments/<id>") of everything reached."""
        return {f"{kind}/{i}" for kind, ids in vars(self).items() for i in ids}


@dataclass
class ScopedWorld:
    settings: Settings
    admin_token: str
    carrier_id: str  # the measured carrier
    entitled: Entitled
    trip: dict[str, Any]  # a delivered trip of the carrier: shipment, tracker, departure, arrival
    moving: str  # one of the carrier's shipments in transit
    shipments: int = 0
    readings: int = 0
    alarms: int = 0


async def build_world(work_dir: Path, size: Size) -> ScopedWorld:
    db_path = work_dir / "scoped.db"
    settings = Settings(
        database_url=f"sqlite:///{db_path}", data_dir=work_dir, secret_key=Fernet.generate_key().decode()
    )
    engine = create_engine(settings.resolved_database_url)
    await upgrade(engine)
    await engine.dispose()
    svc = build_services(settings)
    try:
        return await _Builder(svc, settings, size).build()
    finally:
        await svc.close()


class _Builder:
    def __init__(self, svc: Services, settings: Settings, size: Size) -> None:
        self.svc, self.settings, self.size = svc, settings, size
        self.rng = random.Random(4)  # noqa: S311 - a repeatable world, not a secret
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.now = now
        self.rounds = -(-size.shipments // size.trackers)
        # The last round left two to three hours ago: it is in transit, every earlier one delivered.
        self.base = now - (self.rounds - 1) * PERIOD - 3 * HOUR

    async def build(self) -> ScopedWorld:
        async with self.svc.uow() as uow:
            _, key = await access.create_tenant(uow, Scope.platform(), "bench", "Bench")
            await uow.commit()
        if key.key.tenant_id is None:
            raise RuntimeError("the tenant's first key belongs to no tenant")
        self.tenant = key.key.tenant_id
        self.scope = Scope.system(self.tenant, "bench")
        await self._places()
        await self._shipments()
        await self._alarms()
        readings = await self._readings()
        world = ScopedWorld(
            self.settings,
            key.token,
            self.carriers[0],
            self._entitled(),
            self._trip(),
            self._moving(),
            shipments=len(self.ships),
            readings=readings,
            alarms=len(self.alarm_rows),
        )
        return world

    async def _create(self, uow: Any, name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(rows), 1000):
            out += await self.svc.resources.create_many(uow, self.scope, name, rows[start : start + 1000])
        return out

    async def _places(self) -> None:
        """Carriers, sites, asset types, assets (some of them carriers' trucks), devices."""
        size = self.size
        async with self.svc.uow() as uow:
            orgs = await self._create(
                uow,
                "organizations",
                [
                    {"code": f"CARRIER{c}", "name": f"Carrier {c}", "kind": "carrier"}
                    for c in range(size.carriers)
                ],
            )
            self.carriers = [o["id"] for o in orgs]
            (region,) = await self._create(uow, "regions", [{"code": "R1", "name": "Region 1"}])
            sites = await self._create(
                uow,
                "sites",
                [
                    {"code": f"S{i}", "name": f"Site {i}", "kind": "warehouse", "region_id": region["id"]}
                    for i in range(size.sites)
                ],
            )
            self.sites = [s["id"] for s in sites]
            reefer, truck = await self._create(
                uow,
                "asset-types",
                [
                    {"code": "reefer", "name": "Reefer", "kind": "trailer"},
                    {"code": "truck", "name": "Truck", "kind": "vehicle"},
                ],
            )
            # Every fourth asset is a carrier's truck: the carrier reaches it (and its sensor).
            self.assets = await self._create(
                uow,
                "assets",
                [
                    {
                        "code": f"A{i}",
                        "name": f"Asset {i}",
                        "asset_type_id": (truck if i % 4 == 0 else reefer)["id"],
                        "site_id": self.sites[i % size.sites],
                        "owner_organization_id": self.carriers[i // 4 % size.carriers]
                        if i % 4 == 0
                        else None,
                    }
                    for i in range(size.assets)
                ],
            )
            tracker, sensor = await self._create(
                uow,
                "device-profiles",
                [
                    {"code": "tracker", "name": "Tracker", "device_kind": "tracker", "metrics": METRICS},
                    {"code": "sensor", "name": "Sensor", "device_kind": "sensor", "metrics": METRICS},
                ],
            )
            self.trackers = await self._create(
                uow,
                "devices",
                [
                    {"code": f"trk-{i}", "kind": "tracker", "device_profile_id": tracker["id"]}
                    for i in range(size.trackers)
                ],
            )
            self.sensors = await self._create(
                uow,
                "devices",
                [
                    {
                        "code": f"sen-{i}",
                        "kind": "sensor",
                        "device_profile_id": sensor["id"],
                        "asset_id": a["id"],
                    }
                    for i, a in enumerate(self.assets)
                ],
            )
            products = await self._create(
                uow,
                "products",
                [{"sku": f"SKU{i}", "name": f"Product {i}", "unit": "each"} for i in range(size.products)],
            )
            self.products = [p["id"] for p in products]
            await uow.commit()

    def _when(self, i: int) -> tuple[datetime, datetime | None]:
        """Shipment ``i``'s departure and (once delivered) arrival."""
        departure = self.base + (i // self.size.trackers) * PERIOD + timedelta(minutes=i * 7 % 60)
        arrival = departure + TRIP
        return departure, arrival if arrival <= self.now else None

    async def _shipments(self) -> None:
        """One lot per shipment; shipment ``i`` takes tracker ``i % trackers`` (so each tracker
        makes one trip per round) and a carrier drawn at random."""
        size, rng = self.size, self.rng
        async with self.svc.uow() as uow:
            lots = await self._create(
                uow,
                "lots",
                [
                    {
                        "product_id": self.products[i % size.products],
                        "lot_code": f"LOT{i}",
                        "quantity": 100,
                        "unit": "each",
                        "unit_cost": 2.5,
                    }
                    for i in range(size.shipments)
                ],
            )
            rows = []
            for i in range(size.shipments):
                origin, destination = rng.sample(self.sites, 2)
                departure, arrival = self._when(i)
                rows.append(
                    {
                        "number": f"SH{i:06d}",
                        "status": "delivered" if arrival else "in_transit",
                        "origin_site_id": origin,
                        "destination_site_id": destination,
                        "carrier_organization_id": self.carriers[rng.randrange(size.carriers)],
                        "actual_departure_at": departure.isoformat(),
                        "actual_arrival_at": arrival.isoformat() if arrival else None,
                        "freight_cost": 400.0,
                        "currency": "EUR",
                        "lots": [{"lot_id": lots[i]["id"], "quantity": 100, "unit": "each"}],
                        "devices": [{"device_id": self.trackers[i % size.trackers]["id"]}],
                    }
                )
            self.ships = await self._create(uow, "shipments", rows)
            self.lots = lots
            await uow.commit()

    async def _alarms(self) -> None:
        """A temperature alarm on every few trips, cleared on delivery; and on a few assets."""
        self.alarm_rows: list[dict[str, Any]] = []
        async with self.svc.uow() as uow:
            for i, ship in enumerate(self.ships):
                if i % self.size.alarm_every:
                    continue
                departure, arrival = self._when(i)
                tracker = self.trackers[i % self.size.trackers]
                cmd = alarms.RaiseAlarm(
                    type="temp-max",
                    severity="major",
                    originator_kind="device",
                    originator_id=uuid.UUID(tracker["id"]),
                    originator=tracker["code"],
                    at=departure + HOUR,
                    device_id=uuid.UUID(tracker["id"]),
                    shipment_id=uuid.UUID(ship["id"]),
                    lot_ids=[uuid.UUID(ship["lots"][0]["lot_id"])],
                )
                self.alarm_rows.append(await self._raise(uow, cmd, arrival))
            for n, (asset, sensor) in enumerate(zip(self.assets, self.sensors, strict=True)):
                if n % 2:
                    continue
                cmd = alarms.RaiseAlarm(
                    type="temp-max",
                    severity="minor",
                    originator_kind="device",
                    originator_id=uuid.UUID(sensor["id"]),
                    originator=sensor["code"],
                    at=self.now - 5 * HOUR,
                    device_id=uuid.UUID(sensor["id"]),
                    asset_id=uuid.UUID(asset["id"]),
                    site_id=uuid.UUID(asset["site_id"]),
                )
                self.alarm_rows.append(await self._raise(uow, cmd, None))
            await uow.commit()

    async def _raise(self, uow: Any, cmd: alarms.RaiseAlarm, cleared: datetime | None) -> dict[str, Any]:
        row = await alarms.raise_alarm(uow, self.tenant, cmd)
        if cleared is not None:
            await alarms.clear_for(uow, self.tenant, cmd.originator_id, cmd.type, cleared, "back in range")
        return row

    async def _readings(self) -> int:
        """Every tracker's readings from two hours before its 4th-last trip until now, in signed
        uploads of up to 4,000 through the ingestion path; then compacted, as a server would."""
        size, tele = self.size, self.svc.telemetry
        async with self.svc.uow() as uow:
            creds = [
                await issue_credential(uow, self.scope, uuid.UUID(t["id"]), tele.box, overlap=tele.overlap)
                for t in self.trackers
            ]
            await uow.commit()
        tele.invalidate()
        end_ms = int(self.now.timestamp() * 1000)
        step = size.interval_s * 1000
        total = 0

        async def upload(n: int) -> int:
            last = max(range(n, size.shipments, size.trackers), default=n)
            first = max(n, last - (size.trips_read - 1) * size.trackers)
            start_ms = int((self._when(first)[0] - 2 * HOUR).timestamp() * 1000)
            sent = 0
            for lo in range(start_ms, end_ms, step * 4000):  # at most 4,000 readings an upload
                times = range(lo, min(lo + step * 4000, end_ms), step)
                code = self.trackers[n]["code"]
                body = orjson.dumps([reading(code, (t - start_ms) // step, t) for t in times])
                identity = await tele.credentials.identify(creds[n].token)
                result = await tele.ingest.ingest(identity, body, sign(creds[n].secret, body))
                if result.accepted != len(times):
                    raise RuntimeError(f"{code}: {result.as_dict()}")
                sent += len(times)
            return sent

        for start in range(0, size.trackers, 20):
            total += sum(
                await asyncio.gather(*(upload(n) for n in range(start, min(start + 20, size.trackers))))
            )
        await tele.compactor.drain()
        return total

    # ---- what the measured carrier reaches ------------------------------------------------------

    def _entitled(self) -> Entitled:
        carrier = self.carriers[0]
        r = Entitled()
        mine = [s for s in self.ships if s["carrier_organization_id"] == carrier]
        r.shipments = {s["id"] for s in mine}
        r.lots = {s["lots"][0]["lot_id"] for s in mine}
        r.products = {lot["product_id"] for lot in self.lots if lot["id"] in r.lots}
        r.sites = {s[k] for s in mine for k in ("origin_site_id", "destination_site_id")}
        r.assets = {a["id"] for a in self.assets if a["owner_organization_id"] == carrier}
        r.sites |= {a["site_id"] for a in self.assets if a["id"] in r.assets}
        r.devices = {d["device_id"] for s in mine for d in s["devices"]}
        r.devices |= {d["id"] for d in self.sensors if d["asset_id"] in r.assets}
        r.alarms = {
            str(a["id"])
            for a in self.alarm_rows
            if str(a["shipment_id"]) in r.shipments or str(a["asset_id"]) in r.assets
        }
        return r

    def _trip(self) -> dict[str, Any]:
        """A delivered trip of the measured carrier three rounds back: its tracker reported
        before pickup and after delivery."""
        size = self.size
        wanted = max(0, self.rounds - 3) * size.trackers
        for i in range(wanted, size.shipments):
            ship = self.ships[i]
            departure, arrival = self._when(i)
            if ship["carrier_organization_id"] == self.carriers[0] and arrival is not None:
                return {
                    "shipment": ship["id"],
                    "tracker": ship["devices"][0]["device_id"],
                    "departure": departure,
                    "arrival": arrival,
                }
        raise RuntimeError("the measured carrier has no delivered trip with readings around it")

    def _moving(self) -> str:
        for i in range(len(self.ships) - 1, -1, -1):
            if self.ships[i]["carrier_organization_id"] == self.carriers[0] and self._when(i)[1] is None:
                return str(self.ships[i]["id"])
        raise RuntimeError("the measured carrier has no shipment in transit")
