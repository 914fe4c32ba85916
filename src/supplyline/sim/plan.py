"""From what the API describes to what is simulated: pure, no I/O.

Shipments under way become trucks on the road between their sites, carrying the trackers
assigned to them and the devices on their trailers. Other devices on vehicles, trailers or
containers shuttle between their home site and the nearest other one. Devices on anything else
at a site measure a room there (a cold room when a setpoint, a chilled zone or the site's kind
says so). A device behind a gateway is published by its gateway, as in the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supplyline.sim.geo import Point, distance_km, road_route
from supplyline.sim.model import CooledBox, Door, Fleet, Leg, Mover, Sensor, Unit, unit_rng

MOBILE_KINDS = frozenset({"vehicle", "trailer", "container"})
UNDER_WAY = ("in_transit", "planned")


class PlanError(ValueError):
    """The tenant or the options do not allow the simulation asked for."""


# ---- the tenant as the API describes it ----------------------------------------------------------


@dataclass(frozen=True)
class Site:
    id: str
    code: str
    kind: str
    point: Point | None


@dataclass(frozen=True)
class Asset:
    id: str
    code: str
    kind: str  # the asset type's kind
    site_id: str | None
    zone_id: str | None
    parent_id: str | None
    setpoint_c: float | None


@dataclass(frozen=True)
class Device:
    id: str
    code: str
    kind: str
    asset_id: str | None
    gateway_id: str | None
    active: bool
    vendor_payload: bool  # its profile names a payload mapping: it does not send canonical readings


@dataclass(frozen=True)
class Zone:
    id: str
    site_id: str
    kind: str
    min_c: float | None
    max_c: float | None


@dataclass(frozen=True)
class Shipment:
    id: str
    number: str
    status: str
    origin_id: str | None
    destination_id: str | None
    device_ids: tuple[str, ...]  # assigned and not yet unassigned
    asset_ids: tuple[str, ...]
    departed_at: datetime | None
    lots: int


@dataclass(frozen=True)
class World:
    sites: dict[str, Site]
    assets: dict[str, Asset]
    devices: dict[str, Device]
    zones: dict[str, Zone]
    shipments: list[Shipment]


def world_from_records(records: Mapping[str, list[dict[str, Any]]]) -> World:
    """The records of the /v1 lists (sites, assets, asset-types, devices, device-profiles, zones,
    shipments) as the simulator needs them."""
    kinds = {t["id"]: t["kind"] for t in records.get("asset-types", [])}
    vendor = {p["id"] for p in records.get("device-profiles", []) if p.get("payload_mapping")}
    sites = {
        s["id"]: Site(s["id"], s["code"], s["kind"], _point(s.get("latitude"), s.get("longitude")))
        for s in records.get("sites", [])
    }
    assets = {
        a["id"]: Asset(
            a["id"],
            a["code"],
            kinds.get(a["asset_type_id"], "other"),
            a.get("site_id"),
            a.get("zone_id"),
            a.get("parent_id"),
            _number((a.get("attributes") or {}).get("setpoint_c")),
        )
        for a in records.get("assets", [])
        if a.get("status", "active") not in ("retired",)
    }
    devices = {
        d["id"]: Device(
            d["id"],
            d["code"],
            d["kind"],
            d.get("asset_id"),
            d.get("gateway_id"),
            d.get("status") in ("active", "provisioned") and d.get("archived_at") is None,
            d.get("device_profile_id") in vendor,
        )
        for d in records.get("devices", [])
    }
    zones = {
        z["id"]: Zone(
            z["id"], z["site_id"], z.get("kind", "ambient"), z.get("storage_min_c"), z.get("storage_max_c")
        )
        for z in records.get("zones", [])
    }
    shipments = [
        Shipment(
            s["id"],
            s["number"],
            s["status"],
            s.get("origin_site_id"),
            s.get("destination_site_id"),
            tuple(d["device_id"] for d in s.get("devices", []) if not d.get("unassigned_at")),
            tuple(a["asset_id"] for a in s.get("assets", [])),
            _when(s.get("actual_departure_at")),
            len(s.get("lots", [])),
        )
        for s in records.get("shipments", [])
    ]
    return World(sites, assets, devices, zones, sorted(shipments, key=lambda s: s.number))


def _point(lat: Any, lon: Any) -> Point | None:
    return Point(float(lat), float(lon)) if lat is not None and lon is not None else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None


# ---- scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    failing_compressor: bool
    fail_after_s: float = 600.0  # simulated seconds from the start
    outside_c: float = 20.0  # around the trucks
    hall_c: float = 16.0  # around the rooms
    room_door_gap_s: float = 1_200.0  # a room's door opens about this often
    limit_c: float = 8.0  # the cold-chain limit the story watches


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "cold-chain",
            "trucks on their routes, doors opening, and one reefer whose compressor fails",
            failing_compressor=True,
        ),
        Scenario(
            "steady", "trucks on their routes and doors opening; nothing fails", failing_compressor=False
        ),
    )
}


# ---- the plan ---------------------------------------------------------------------------------


@dataclass
class Plan:
    fleet: Fleet
    senders: dict[str, str]  # code of each device that publishes (itself or as a gateway) -> its id
    skipped: dict[str, str] = field(default_factory=dict)  # device code -> why it is not simulated
    failing: str | None = None  # the unit whose compressor fails
    names: dict[str, str] = field(default_factory=dict)  # asset, device, shipment code -> unit


def build_plan(world: World, scenario: Scenario, seed: int, now: datetime, fail: str | None = None) -> Plan:
    builder = _Builder(world, scenario, seed, now)
    devices = builder.simulated_devices()
    taken: set[str] = set()
    for shipment in world.shipments:
        builder.truck_for(shipment, devices, taken)
    builder.shuttles(devices, taken)
    builder.rooms(devices, taken)
    plan = builder.finish()
    target = (
        fail
        if fail is not None
        else _default_failing(builder, world)
        if scenario.failing_compressor
        else None
    )
    if target is not None:
        label = plan.names.get(target)
        if label is None:
            raise PlanError(f"no simulated unit, asset, device or shipment named '{target}'")
        unit = plan.fleet.unit(label)
        if unit.box.setpoint_c is None:
            raise PlanError(f"'{target}' has no refrigeration unit (no setpoint) whose compressor could fail")
        unit.box.fails_at_s = scenario.fail_after_s
        plan.failing = label
    return plan


def _default_failing(builder: _Builder, world: World) -> str | None:
    """A reefer of a shipment under way, one carrying lots first (the demo's story); else any
    reefer on the road; else a cold room."""
    carrying = {
        builder.shipment_units[s.id]: s.lots > 0 for s in world.shipments if s.id in builder.shipment_units
    }
    cooled = [u for u in builder.units.values() if u.box.setpoint_c is not None]
    ranked = sorted(
        cooled,
        key=lambda u: (not carrying.get(u.label, False), u.label not in carrying, u.mover is None, u.label),
    )
    return ranked[0].label if ranked else None


class _Builder:
    def __init__(self, world: World, scenario: Scenario, seed: int, now: datetime) -> None:
        self.world, self.scenario, self.seed, self.now = world, scenario, seed, now
        self.units: dict[str, Unit] = {}
        self.names: dict[str, str] = {}
        self.skipped: dict[str, str] = {}
        self.shipment_units: dict[str, str] = {}

    def simulated_devices(self) -> dict[str, Device]:
        out = {}
        for d in sorted(self.world.devices.values(), key=lambda d: d.code):
            if d.kind == "gateway":
                continue
            why = self._cannot_send(d)
            if why:
                self.skipped[d.code] = why
            else:
                out[d.id] = d
        return out

    def _cannot_send(self, d: Device) -> str | None:
        if not d.active:
            return "inactive, retired or archived"
        if self._sender(d).vendor_payload:
            return "its profile (or its gateway's) names a vendor payload mapping"
        return None

    def _sender(self, d: Device) -> Device:
        gw = self.world.devices.get(d.gateway_id or "")
        return gw if gw is not None and gw.active and gw.kind == "gateway" else d

    def _sensors(self, devices: Iterable[Device]) -> list[Sensor]:
        return [
            Sensor(d.code, self._sender(d).code, unit_rng(self.seed, "sensor", d.code))
            for d in sorted(devices, key=lambda d: d.code)
        ]

    def _site_of(self, asset: Asset | None) -> Site | None:
        seen: set[str] = set()
        while asset is not None and asset.id not in seen:
            seen.add(asset.id)
            site_id = asset.site_id or (
                self.world.zones[asset.zone_id].site_id if asset.zone_id in self.world.zones else None
            )
            if site_id in self.world.sites:
                return self.world.sites[site_id]
            asset = self.world.assets.get(asset.parent_id or "")
        return None

    def _reefer(self, label: str, setpoint: float | None) -> CooledBox:
        rng = unit_rng(self.seed, "box", label)
        start = self.scenario.outside_c if setpoint is None else setpoint + rng.uniform(-0.5, 0.5)
        return CooledBox(setpoint, start, compressor_on=rng.random() < 0.5)

    def _add(self, unit: Unit, names: Iterable[str]) -> None:
        self.units[unit.label] = unit
        for name in names:
            self.names.setdefault(name, unit.label)

    def truck_for(self, shipment: Shipment, devices: dict[str, Device], taken: set[str]) -> None:
        if shipment.status not in UNDER_WAY:
            return
        origin = self.world.sites.get(shipment.origin_id or "")
        dest = self.world.sites.get(shipment.destination_id or "")
        assets = [self.world.assets[a] for a in shipment.asset_ids if a in self.world.assets]
        aboard = [devices[d] for d in shipment.device_ids if d in devices and d not in taken]
        aboard += [d for d in devices.values() if d.asset_id in shipment.asset_ids and d.id not in taken]
        aboard = list({d.id: d for d in aboard}.values())
        if not aboard:
            return
        if origin is None or dest is None or origin.point is None or dest.point is None:
            return  # no road to drive: its devices are simulated where their assets are
        label = assets[0].code if assets and assets[0].code not in self.units else shipment.number
        rng = unit_rng(self.seed, "truck", label)
        route = road_route(origin.point, dest.point, unit_rng(self.seed, "route", origin.code, dest.code))
        mover = Mover([Leg(route, origin.code, dest.code)], rng, loop=False, cruise_kmh=rng.uniform(76, 88))
        if shipment.status == "in_transit" and shipment.departed_at is not None:
            hours = max(0.0, (self.now - shipment.departed_at).total_seconds() / 3600)
            mover.km = min(hours * mover.cruise_kmh, max(0.0, route.length_km - 10.0))
            mover.heading_deg = mover.position()[1]
            mover.speed_kmh = mover.target_speed(0.0)  # already on the road at the first report
        elif shipment.status == "planned":
            mover.dwell_until = rng.uniform(120, 600)
        setpoint = next((a.setpoint_c for a in assets if a.setpoint_c is not None), None)
        unit = self._truck_unit(label, setpoint, mover, aboard)
        taken.update(d.id for d in aboard)
        self.shipment_units[shipment.id] = label
        self._add(unit, [label, shipment.number, *(a.code for a in assets), *(d.code for d in aboard)])

    def _truck_unit(
        self, label: str, setpoint: float | None, mover: Mover | None, aboard: list[Device]
    ) -> Unit:
        door = Door(unit_rng(self.seed, "door", label), min_open_s=90, max_open_s=240)
        return Unit(
            label,
            self._reefer(label, setpoint),
            door,
            self.scenario.outside_c,
            self._sensors(aboard),
            mover=mover,
            limit_c=self.scenario.limit_c,
            reports_position=True,
        )

    def shuttles(self, devices: dict[str, Device], taken: set[str]) -> None:
        """Vehicles, trailers and containers with devices that no shipment took: back and forth."""
        by_asset: dict[str, list[Device]] = {}
        for d in devices.values():
            asset = self.world.assets.get(d.asset_id or "")
            if d.id not in taken and asset is not None and asset.kind in MOBILE_KINDS:
                by_asset.setdefault(asset.id, []).append(d)
        for asset_id, aboard in sorted(by_asset.items(), key=lambda kv: self.world.assets[kv[0]].code):
            asset = self.world.assets[asset_id]
            home = self._site_of(asset)
            taken.update(d.id for d in aboard)
            if home is None or home.point is None:
                for d in aboard:
                    self.skipped[d.code] = f"{asset.code} is at no site with coordinates"
                continue
            mover = self._shuttle(asset.code, home)
            unit = self._truck_unit(asset.code, asset.setpoint_c, mover, aboard)
            if mover is None:
                unit.site = home.point  # parked: the only site there is
            self._add(unit, [asset.code, *(d.code for d in aboard)])

    def _shuttle(self, label: str, home: Site) -> Mover | None:
        assert home.point is not None
        others = [s for s in self.world.sites.values() if s.point is not None and s.id != home.id]
        if not others:
            return None
        near = min(others, key=lambda s: (distance_km(home.point, s.point), s.code))  # type: ignore[arg-type]
        assert near.point is not None
        route = road_route(home.point, near.point, unit_rng(self.seed, "route", home.code, near.code))
        legs = [Leg(route, home.code, near.code), Leg(route.reversed(), near.code, home.code)]
        rng = unit_rng(self.seed, "truck", label)
        mover = Mover(legs, rng, loop=True, cruise_kmh=rng.uniform(76, 88))
        mover.dwell_until = rng.uniform(300, 1_200)  # loading before the first departure
        return mover

    def rooms(self, devices: dict[str, Device], taken: set[str]) -> None:
        """Devices on anything else at a site: the room they are in."""
        by_asset: dict[str, list[Device]] = {}
        for d in devices.values():
            if d.id in taken:
                continue
            if d.asset_id not in self.world.assets:
                self.skipped[d.code] = "on no asset and on no shipment under way"
                continue
            by_asset.setdefault(d.asset_id or "", []).append(d)
        for asset_id, inside in sorted(by_asset.items(), key=lambda kv: self.world.assets[kv[0]].code):
            asset = self.world.assets[asset_id]
            site = self._site_of(asset)
            if site is None:
                for d in inside:
                    self.skipped[d.code] = f"{asset.code} is at no site"
                continue
            label = asset.code
            door = Door(unit_rng(self.seed, "door", label), mean_gap_s=self.scenario.room_door_gap_s)
            box = self._reefer(label, self._room_setpoint(asset, site))
            box.leak_tau_s, box.cool_tau_s, box.door_tau_s, box.failed_tau_s = 21_600, 1_200, 900, 7_200
            if box.setpoint_c is None:
                box.temp_c = self.scenario.hall_c
            unit = Unit(label, box, door, self.scenario.hall_c, self._sensors(inside), site=site.point)
            unit.limit_c = self.scenario.limit_c
            self._add(unit, [label, *(d.code for d in inside)])

    def _room_setpoint(self, asset: Asset, site: Site) -> float | None:
        if asset.setpoint_c is not None:
            return asset.setpoint_c
        zone = self.world.zones.get(asset.zone_id or "")
        if zone is not None and zone.min_c is not None and zone.max_c is not None:
            return round((zone.min_c + zone.max_c) / 2, 1)
        if site.kind == "cold_room" or (zone is not None and zone.kind in ("chilled", "quarantine")):
            return 5.0
        if zone is not None and zone.kind == "frozen":
            return -20.0
        return None

    def finish(self) -> Plan:
        units = [self.units[k] for k in sorted(self.units)]
        ids = {d.code: d.id for d in self.world.devices.values()}
        senders = {s.sender: ids[s.sender] for unit in units for s in unit.sensors}
        return Plan(Fleet(units), senders, dict(sorted(self.skipped.items())), None, dict(self.names))
