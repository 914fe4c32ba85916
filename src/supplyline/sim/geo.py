"""Positions and routes on the Earth for the simulator: pure functions, no I/O.

Routes are polylines between sites; a truck's position is interpolated along them by distance.
Linear interpolation of latitude and longitude inside a segment is plenty for segments of tens
of kilometres (the error is metres).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # the IUGG mean radius


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(a: Point, b: Point) -> float:
    """Initial course from ``a`` to ``b``, clockwise from north, in [0, 360)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def lerp(a: Point, b: Point, f: float) -> Point:
    return Point(a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f)


class Route:
    """A polyline walked by distance from its first point."""

    def __init__(self, points: Sequence[Point]) -> None:
        if len(points) < 2:
            raise ValueError("a route needs at least two points")
        self.points = tuple(points)
        cum = [0.0]
        for a, b in zip(self.points, self.points[1:], strict=False):
            cum.append(cum[-1] + distance_km(a, b))
        self._cum = cum

    @property
    def length_km(self) -> float:
        return self._cum[-1]

    def at(self, km: float) -> tuple[Point, float]:
        """The position ``km`` along the route and the course of the segment there."""
        km = min(max(km, 0.0), self.length_km)
        i = min(bisect.bisect_right(self._cum, km) - 1, len(self.points) - 2)
        a, b = self.points[i], self.points[i + 1]
        seg = self._cum[i + 1] - self._cum[i]
        return lerp(a, b, (km - self._cum[i]) / seg if seg > 0 else 0.0), bearing_deg(a, b)

    def reversed(self) -> Route:
        return Route(self.points[::-1])


def road_route(a: Point, b: Point, rng: random.Random, bends: int = 3) -> Route:
    """A plausible road between two sites: the straight line, bent sideways at a few waypoints
    by up to 6 % of its length, so that trucks do not fly as the crow does."""
    kx = math.cos(math.radians((a.lat + b.lat) / 2)) or 1e-9  # degrees of longitude shrink
    dx, dy = (b.lon - a.lon) * kx, b.lat - a.lat
    norm = math.hypot(dx, dy)
    if norm == 0:
        return Route([a, b])
    px, py = -dy / norm, dx / norm  # unit perpendicular, in (lon * kx, lat) degrees
    points = [a]
    for k in range(1, bends + 1):
        base = lerp(a, b, k / (bends + 1))
        off = rng.uniform(-0.06, 0.06) * norm
        points.append(Point(base.lat + py * off, base.lon + px * off / kx))
    points.append(b)
    return Route(points)
