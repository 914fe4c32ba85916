"""The fleet model, pure: trucks move along their routes, a failed compressor lets the reefer warm
past 8 C, doors open briefly, and a seed tells the same story every time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supplyline.sim.geo import Point, distance_km
from supplyline.sim.model import Door, Fleet, Note, unit_rng
from supplyline.sim.plan import SCENARIOS, Plan, PlanError, World, build_plan, world_from_records

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LYON, GENEVA, MUNICH = Point(45.7485, 4.8467), Point(46.2044, 6.1432), Point(48.1374, 11.5755)


def _site(i: str, code: str, kind: str, p: Point) -> dict[str, Any]:
    return {"id": i, "code": code, "kind": kind, "latitude": p.lat, "longitude": p.lon}


def _asset(i: str, code: str, type_id: str, site_id: str, setpoint: float | None) -> dict[str, Any]:
    attributes = {"setpoint_c": setpoint} if setpoint is not None else {}
    return {"id": i, "code": code, "asset_type_id": type_id, "site_id": site_id, "attributes": attributes}


def _device(
    i: str, code: str, kind: str, asset_id: str | None, gateway_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": i,
        "code": code,
        "kind": kind,
        "asset_id": asset_id,
        "gateway_id": gateway_id,
        "status": "active",
        "device_profile_id": "p",
    }


def records(*, departed_min: int = 100, lots: int = 2) -> dict[str, list[dict[str, Any]]]:
    """The demo's shape: a reefer on a shipment Lyon -> Munich, a second reefer parked at Lyon,
    a cold room sensor at Geneva behind a gateway."""
    site, asset, device = _site, _asset, _device
    departed = (NOW - timedelta(minutes=departed_min)).isoformat()
    return {
        "sites": [
            site("s1", "DC-LYON", "warehouse", LYON),
            site("s2", "CR-GENEVA", "cold_room", GENEVA),
            site("s3", "ST-MUNICH", "store", MUNICH),
        ],
        "asset-types": [{"id": "t1", "kind": "trailer"}, {"id": "t2", "kind": "facility"}],
        "assets": [
            asset("a1", "TRL-101", "t1", "s1", 5),
            asset("a2", "TRL-102", "t1", "s1", 5),
            asset("a3", "ROOM-1", "t2", "s2", None),
        ],
        "device-profiles": [{"id": "p", "payload_mapping": None}],
        "devices": [
            device("d1", "ct200-001", "tracker", "a1"),
            device("d2", "ct200-002", "tracker", "a2"),
            device("g1", "gw-gva", "gateway", None),
            device("d3", "cr-01", "sensor", "a3", "g1"),
        ],
        "zones": [],
        "shipments": [
            {
                "id": "sh1",
                "number": "SHP-1001",
                "status": "in_transit",
                "origin_site_id": "s1",
                "destination_site_id": "s3",
                "actual_departure_at": departed,
                "devices": [{"device_id": "d1", "unassigned_at": None}],
                "assets": [{"asset_id": "a1"}],
                "lots": [{"lot_id": f"l{i}"} for i in range(lots)],
            }
        ],
    }


def world(**kw: Any) -> World:
    return world_from_records(records(**kw))


def plan(seed: int = 7, scenario: str = "cold-chain", **kw: Any) -> Plan:
    return build_plan(world(), SCENARIOS[scenario], seed, NOW, **kw)


def run(fleet: Fleet, minutes: float, dt: float = 60.0) -> list[Note]:
    notes: list[Note] = []
    for _ in range(round(minutes * 60 / dt)):
        notes += fleet.advance(dt)
    return notes


def test_the_plan_maps_the_tenant() -> None:
    p = plan()
    assert [u.label for u in p.fleet.units] == ["ROOM-1", "TRL-101", "TRL-102"]
    # The room's sensor publishes through its gateway: credentials go to the senders.
    assert p.senders == {"gw-gva": "g1", "ct200-001": "d1", "ct200-002": "d2"}
    assert [s.sender for s in p.fleet.unit("ROOM-1").sensors] == ["gw-gva"]
    assert p.failing == "TRL-101"  # the reefer carrying lots
    assert p.names["SHP-1001"] == p.names["ct200-001"] == "TRL-101"
    room = p.fleet.unit("ROOM-1")
    assert room.box.setpoint_c == 5.0 and room.mover is None  # a cold_room site: cooled
    assert plan(scenario="steady").failing is None
    assert plan(fail="ct200-002").failing == "TRL-102"
    with pytest.raises(PlanError, match="no simulated unit"):
        plan(fail="nope")


def test_an_in_transit_truck_starts_where_its_departure_puts_it_and_moves_along_its_route() -> None:
    truck = plan().fleet.unit("TRL-101")
    assert truck.mover is not None
    start, _ = truck.mover.position()
    gone = distance_km(LYON, start)
    assert 100 < gone < 160  # 100 minutes at 76-88 km/h, along a bent road
    fleet = plan().fleet
    truck = fleet.unit("TRL-101")
    assert truck.mover is not None
    trail = []
    for _ in range(30):
        fleet.advance(60)
        trail.append(truck.mover.position()[0])
    steps = [distance_km(a, b) for a, b in itertools.pairwise(trail)]
    assert all(0.5 < s < 1.6 for s in steps)  # 30-96 km/h per simulated minute
    to_munich = [distance_km(p, MUNICH) for p in trail]
    assert to_munich == sorted(to_munich, reverse=True)
    _, _, m = next(r for r in fleet.readings() if r[1].code == "ct200-001")
    assert (m["lat"], m["lon"]) == (round(trail[-1].lat, 6), round(trail[-1].lon, 6))
    assert 30 <= m["speed_kmh"] <= 96 and 0 <= m["heading_deg"] < 360


def test_a_truck_arrives_unloads_with_its_door_open_and_a_shuttle_comes_back() -> None:
    fleet = plan().fleet
    notes = run(fleet, 10 * 60)
    shipment = [n.text for n in notes if n.unit == "TRL-101" and n.kind in ("arrived", "departed")]
    assert shipment == ["arrived at ST-MUNICH"]  # delivered, and parked there
    truck = fleet.unit("TRL-101")
    assert truck.mover is not None and distance_km(truck.mover.position()[0], MUNICH) < 0.01
    assert truck.mover.speed_kmh == 0
    shuttle = [n.text for n in notes if n.unit == "TRL-102" and n.kind in ("arrived", "departed")]
    assert shuttle[:4] == [
        "left DC-LYON for CR-GENEVA",
        "arrived at CR-GENEVA",
        "left CR-GENEVA for DC-LYON",
        "arrived at DC-LYON",
    ]
    doors = [n for n in notes if n.unit == "TRL-102" and n.kind == "door_opened"]
    assert len(doors) >= 2  # unloading at each end


def test_the_failing_compressor_warms_the_reefer_steadily_past_8_c() -> None:
    fleet = plan().fleet
    failing, healthy = fleet.unit("TRL-101"), fleet.unit("TRL-102")
    temps, healthy_temps = [], []
    notes: list[Note] = []
    for _ in range(120):
        notes += fleet.advance(60)
        temps.append(failing.box.temp_c)
        healthy_temps.append(healthy.box.temp_c)
    failed = next(n for n in notes if n.kind == "compressor_failed")
    crossed = next(n for n in notes if n.kind == "above_limit" and n.unit == "TRL-101")
    assert failed.t == 600
    # At the default speed (60 simulated seconds a wall second) that is ~20 s of wall time.
    assert 15 * 60 <= crossed.t <= 25 * 60
    after = temps[round(crossed.t / 60) :]
    assert min(after) > 8.0  # it stays above
    rising = temps[10:]
    assert all(b > a for a, b in itertools.pairwise(rising))
    assert 14 < temps[59] < 18 and temps[-1] < 26  # plausible: settles a little above the outside air
    assert all(2.0 < t < 8.0 for t in healthy_temps)  # the other reefer holds 2-8 C, door spikes and all


def test_door_openings_are_short_spikes() -> None:
    door = Door(unit_rng(7, "door", "x"), mean_gap_s=1200)
    door.is_open(12 * 3600)
    assert len(door.windows) > 15
    assert all(45 <= b - a <= 150 for a, b in door.windows)
    fleet = plan(scenario="steady").fleet
    room = fleet.unit("ROOM-1")
    trace = []
    for _ in range(6 * 360):
        fleet.advance(10)
        trace.append((fleet.t, room.box.temp_c))
    windows = [(a, b) for a, b in room.door.windows if b + 1800 < fleet.t]
    assert len(windows) >= 5
    for a, b in windows:
        before = [v for t, v in trace if t <= a][-1]
        peak = max(v for t, v in trace if a <= t <= b + 60)
        assert peak - before > 0.3  # a spike you can see
        assert peak < 8.0  # short enough not to break the cold chain
    for (_, b), (a, _) in itertools.pairwise(windows):
        if a - b > 1800:  # with no other opening for half an hour, the room is back in its band
            assert max(v for t, v in trace if b + 1200 <= t <= b + 1800) < 5.0 + 0.6


def _story(seed: int, dt: float = 60.0, ticks: int = 90) -> list[Any]:
    fleet = build_plan(world(), SCENARIOS["cold-chain"], seed, NOW).fleet
    out: list[Any] = []
    for _ in range(ticks):
        out.append([(s.code, m) for _, s, m in fleet.readings()])
        fleet.advance(dt)
    return out


def test_a_seed_tells_the_same_story_and_another_seed_another() -> None:
    assert _story(7) == _story(7)
    assert _story(7) != _story(8)


def test_the_story_does_not_depend_on_the_tick() -> None:
    def crossing(dt: float) -> float:
        fleet = plan().fleet
        for _ in range(round(3600 / dt)):
            for n in fleet.advance(dt):
                if n.kind == "above_limit":
                    return n.t
        raise AssertionError("no crossing")

    assert abs(crossing(60) - crossing(15)) <= 60
