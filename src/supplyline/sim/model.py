"""The simulated fleet, pure: cooled boxes with thermal inertia, doors, trucks on routes, sensors.

Everything advances in simulated seconds from 0. Each unit and each sensor draws from its own
generator, seeded from the run's seed and its own name, so a seed tells the same story whatever
the tick size and whatever else is simulated beside it. No I/O here: ``plan`` builds a fleet
from what the API described, ``scenario`` runs it and publishes what the sensors read.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supplyline.sim.geo import Point, Route

SUBSTEP_S = 10.0  # physics resolution: the thermostat and the speed are re-decided this often


def unit_rng(seed: int, *names: str) -> random.Random:
    """A generator of its own for one named thing (seeding with a str is stable across runs)."""
    return random.Random("/".join([str(seed), *names]))  # noqa: S311 - a repeatable story, not a secret


# ---- air temperature ---------------------------------------------------------------------------


@dataclass
class CooledBox:
    """The air in a reefer or a cold room.

    A first-order body pulled toward several temperatures at once: the outside through the walls
    (slow), the evaporator while the compressor runs, the outside again through an open door.
    Together they make one exponential toward their weighted mean, integrated exactly over each
    substep. A thermostat runs the compressor between setpoint - band and setpoint + band. A
    failed unit's fans keep blowing over a warm coil: it settles above the outside temperature.
    """

    setpoint_c: float | None  # None: not cooled, it just follows the outside
    temp_c: float
    leak_tau_s: float = 10_800.0
    cool_tau_s: float = 900.0
    door_tau_s: float = 1_800.0
    failed_tau_s: float = 3_600.0
    pulldown_c: float = 3.0  # the evaporator works this far below the setpoint
    band_c: float = 0.5
    fan_heat_c: float = 4.0
    fails_at_s: float | None = None  # the compressor stops for good then
    compressor_on: bool = False
    failed: bool = False

    def step(self, t0: float, dt: float, outside_c: float, door: Callable[[float], bool]) -> None:
        t, end = t0, t0 + dt
        while t < end:
            h = min(SUBSTEP_S, end - t)
            if self.fails_at_s is not None and t >= self.fails_at_s:
                self.failed = True
            self._thermostat()
            pulls = [(outside_c, self.leak_tau_s)]
            if self.failed:
                pulls = [(outside_c + self.fan_heat_c, self.failed_tau_s)]
            elif self.compressor_on and self.setpoint_c is not None:
                pulls.append((self.setpoint_c - self.pulldown_c, self.cool_tau_s))
            if door(t):
                pulls.append((outside_c, self.door_tau_s))
            rate = sum(1 / tau for _, tau in pulls)
            target = sum(temp / tau for temp, tau in pulls) / rate
            self.temp_c = target + (self.temp_c - target) * math.exp(-h * rate)
            t += h

    def _thermostat(self) -> None:
        if self.setpoint_c is None or self.failed:
            self.compressor_on = False
        elif self.temp_c > self.setpoint_c + self.band_c:
            self.compressor_on = True
        elif self.temp_c < self.setpoint_c - self.band_c:
            self.compressor_on = False


# ---- doors -------------------------------------------------------------------------------------


@dataclass
class Door:
    """Opens now and then for a short while (``mean_gap_s``, a cold room's traffic) and when told
    (a truck unloading at a dock). ``windows`` keeps every opening, sorted by start."""

    rng: random.Random
    mean_gap_s: float | None = None
    min_open_s: float = 45.0
    max_open_s: float = 150.0
    windows: list[tuple[float, float]] = field(default_factory=list)
    _drawn_until: float = 0.0

    def __post_init__(self) -> None:
        if self.mean_gap_s:
            self._drawn_until = self.rng.expovariate(1 / self.mean_gap_s)

    def schedule(self, start_s: float, open_s: float) -> None:
        open_s = min(max(open_s, self.min_open_s), self.max_open_s)
        bisect.insort(self.windows, (start_s, start_s + open_s))

    def is_open(self, t: float) -> bool:
        self._draw_until(t)
        end = bisect.bisect_right(self.windows, (t, math.inf))
        return any(a <= t < b for a, b in self.windows[max(0, end - 4) : end])

    def changes(self, t0: float, t1: float) -> list[tuple[float, bool]]:
        """Openings (True) and closings (False) in (t0, t1], in time order."""
        self._draw_until(t1)
        lo = bisect.bisect_left(self.windows, (t0 - self.max_open_s,))
        hi = bisect.bisect_right(self.windows, (t1, math.inf))
        recent = self.windows[lo:hi]
        found = [(a, True) for a, _ in recent if t0 < a <= t1]
        found += [(b, False) for _, b in recent if t0 < b <= t1]
        return sorted(found)

    def _draw_until(self, t: float) -> None:
        while self.mean_gap_s and self._drawn_until <= t:
            start = self._drawn_until
            open_s = self.rng.uniform(self.min_open_s, self.max_open_s)
            self.schedule(start, open_s)
            self._drawn_until = start + open_s + self.rng.expovariate(1 / self.mean_gap_s)


# ---- trucks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    route: Route
    origin: str  # site codes, for the story
    destination: str


@dataclass
class Mover:
    """A truck driving its legs in turn, dwelling at each end; a shuttle goes round again."""

    legs: list[Leg]
    rng: random.Random
    loop: bool = True
    cruise_kmh: float = 82.0
    dwell_s: float = 1_800.0
    leg: int = 0
    km: float = 0.0
    dwell_until: float | None = None  # at a stop until then; inf: parked for good
    speed_kmh: float = 0.0
    heading_deg: float = 0.0
    phase: float = 0.0

    def __post_init__(self) -> None:
        self.phase = self.rng.uniform(0, 2 * math.pi)
        self.heading_deg = self.position()[1]

    def position(self) -> tuple[Point, float]:
        return self.legs[self.leg].route.at(self.km)

    def step(self, t: float, dt: float) -> list[tuple[str, str]]:
        """Advance; returns (kind, text) for departures and arrivals."""
        out: list[tuple[str, str]] = []
        end = t + dt
        while t < end:
            h = min(SUBSTEP_S, end - t)
            leg = self.legs[self.leg]
            if self.dwell_until is not None:
                self.speed_kmh = 0.0
                if t + h < self.dwell_until:
                    t += h
                    continue
                t = max(t, self.dwell_until)
                self.dwell_until = None
                if self.km >= leg.route.length_km:  # the stop was at the end of the leg
                    self.leg = (self.leg + 1) % len(self.legs)
                    self.km = 0.0
                    leg = self.legs[self.leg]
                out.append(("departed", f"left {leg.origin} for {leg.destination}"))
                continue
            self.speed_kmh = self.target_speed(t)
            self.km = min(leg.route.length_km, self.km + self.speed_kmh * h / 3600)
            self.heading_deg = self.position()[1]
            t += h
            if self.km >= leg.route.length_km:
                self.speed_kmh = 0.0
                last = not self.loop and self.leg == len(self.legs) - 1
                self.dwell_until = math.inf if last else t + self.dwell_s
                out.append(("arrived", f"arrived at {leg.destination}"))
        return out

    def target_speed(self, t: float) -> float:
        """Cruise with a slow swell (traffic, hills); town speed near either end of a leg."""
        v = self.cruise_kmh + 6.0 * math.sin(2 * math.pi * t / 1_500 + self.phase)
        length_km = self.legs[self.leg].route.length_km
        if self.km < 3.0 or length_km - self.km < 3.0:
            v = min(v, 45.0)
        return v


# ---- sensors and units -------------------------------------------------------------------------


@dataclass
class Sensor:
    """One simulated device: what it measures comes from its unit, plus its own offset and noise."""

    code: str
    sender: str  # the device itself, or the gateway that publishes for it
    rng: random.Random
    offset_c: float = 0.0
    battery_v: float = 3.9

    def __post_init__(self) -> None:
        self.offset_c = self.rng.uniform(-0.2, 0.2)
        self.battery_v = 3.95 - self.rng.uniform(0.0, 0.15)


@dataclass(frozen=True)
class Note:
    """Something a person watching the demo wants to know, at simulated second ``t``."""

    t: float
    unit: str
    kind: str  # compressor_failed, above_limit, below_limit, door_opened, door_closed, arrived, departed
    text: str


def sim_clock(sim_s: float) -> str:
    """Simulated time since the start as HH:MM:SS, how notes and plans are told."""
    s = round(sim_s)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class Unit:
    """A thing with sensors: a truck's reefer (with a mover) or a room at a site (without)."""

    label: str  # the asset (or shipment) it stands for
    box: CooledBox
    door: Door
    outside_c: float
    sensors: list[Sensor]
    mover: Mover | None = None
    site: Point | None = None  # where a unit without a mover stands
    reports_position: bool = False  # trackers do; a room's sensors do not
    limit_c: float = 8.0  # crossing it is a note of the story (the demo's alarm threshold)
    door_after_arrival_s: float = 120.0
    _door_open: bool = False
    _above: bool = False

    @property
    def senders(self) -> list[str]:
        return list(dict.fromkeys(s.sender for s in self.sensors))

    def advance(self, t: float, dt: float) -> list[Note]:
        notes: list[Note] = []
        if self.mover is not None:
            for kind, text in self.mover.step(t, dt):
                notes.append(Note(t + dt, self.label, kind, text))
                if kind == "arrived":  # unloading: the doors open for a few minutes
                    self.door.schedule(t + dt + self.door_after_arrival_s, self.door.rng.uniform(90, 240))
        was_failed = self.box.failed
        self.box.step(t, dt, self.outside_c, self.door.is_open)
        if self.box.failed and not was_failed:
            at = self.box.fails_at_s if self.box.fails_at_s is not None else t
            notes.append(Note(at, self.label, "compressor_failed", "compressor failed"))
        for at, opened in self.door.changes(t, t + dt):
            kind = "door_opened" if opened else "door_closed"
            notes.append(Note(at, self.label, kind, "door opened" if opened else "door closed"))
        self._door_open = self.door.is_open(t + dt)
        above = self.box.temp_c > self.limit_c
        if above != self._above:
            kind, word = ("above_limit", "above") if above else ("below_limit", "back below")
            text = f"{word} {self.limit_c:g} C ({self.box.temp_c:.1f} C)"
            notes.append(Note(t + dt, self.label, kind, text))
            self._above = above
        return sorted(notes, key=lambda n: n.t)

    def readings(self, t: float) -> list[tuple[Sensor, dict[str, Any]]]:
        out = []
        for s in self.sensors:
            metrics: dict[str, Any] = {
                "temperature_c": round(self.box.temp_c + s.offset_c + s.rng.gauss(0, 0.08), 2),
                "humidity_pct": round(self._humidity() + s.rng.gauss(0, 0.8), 1),
                "door_open": self._door_open,
                "battery_v": round(s.battery_v - 0.02 * t / 3600, 3),
            }
            if self.reports_position:
                metrics.update(self._position())
            out.append((s, metrics))
        return out

    def _position(self) -> dict[str, float]:
        if self.mover is not None:
            point, heading = self.mover.position()
            speed = self.mover.speed_kmh
        elif self.site is not None:
            point, heading, speed = self.site, 0.0, 0.0
        else:
            return {}
        return {
            "lat": round(point.lat, 6),
            "lon": round(point.lon, 6),
            "speed_kmh": round(speed, 1),
            "heading_deg": round(heading, 1),
        }

    def _humidity(self) -> float:
        """Cold air holds little water: relative humidity is high near the setpoint, and falls as
        the air warms (or as the door lets the hall's drier air in)."""
        base = 88.0 if self.box.setpoint_c is not None else 60.0
        warmer = self.box.temp_c - (
            self.box.setpoint_c if self.box.setpoint_c is not None else self.outside_c
        )
        return min(100.0, max(20.0, base - 1.5 * max(0.0, warmer) - (8.0 if self._door_open else 0.0)))


@dataclass
class Fleet:
    units: list[Unit]
    t: float = 0.0

    def advance(self, dt: float) -> list[Note]:
        notes = [n for u in self.units for n in u.advance(self.t, dt)]
        self.t += dt
        return notes

    def readings(self) -> list[tuple[Unit, Sensor, dict[str, Any]]]:
        return [(u, s, m) for u in self.units for s, m in u.readings(self.t)]

    def unit(self, label: str) -> Unit:
        for u in self.units:
            if u.label == label:
                return u
        raise KeyError(label)
