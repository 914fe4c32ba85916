"""Distances and polygon membership of many positions at once, for geofences.

Distances are great-circle (haversine) on a sphere of the Earth's mean radius: within 0.5 % of
the ellipsoid, far finer than a site's radius. Polygons are tested by ray casting on latitude
and longitude as plane coordinates, which is what a user drawing a yard or a port on a map
means; a polygon crossing the antimeridian is not supported.
"""

from __future__ import annotations

import numpy as np

from supplyline.rules.nodes import F64, Bools

EARTH_RADIUS_M = 6_371_008.8
_CHUNK = 4096  # positions per ray-casting block: a block x edges matrix stays a few MB


def distance_m(lat: F64, lon: F64, lat0: float, lon0: float) -> F64:
    """Great-circle distance in metres from (lat0, lon0) to each position."""
    p, p0 = np.radians(lat), np.radians(lat0)
    half_dp, half_dl = (p - p0) / 2, np.radians(lon - lon0) / 2
    a = np.sin(half_dp) ** 2 + np.cos(p0) * np.cos(p) * np.sin(half_dl) ** 2
    out: F64 = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def in_polygon(lat: F64, lon: F64, vertices: F64) -> Bools:
    """Whether each position is inside the polygon of (lat, lon) ``vertices`` (closed or not):
    a ray from the position towards growing longitude crosses its edges an odd number of times."""
    y1, x1 = vertices[:, 0], vertices[:, 1]
    y2, x2 = np.roll(y1, -1), np.roll(x1, -1)
    out = np.zeros(len(lat), dtype=bool)
    for lo in range(0, len(lat), _CHUNK):
        y = lat[lo : lo + _CHUNK, None]
        x = lon[lo : lo + _CHUNK, None]
        spans = (y1 > y) != (y2 > y)  # the edge straddles the position's latitude
        with np.errstate(divide="ignore", invalid="ignore"):  # flat edges never span
            cross_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        out[lo : lo + _CHUNK] = np.count_nonzero(spans & (x < cross_x), axis=1) % 2 == 1
    return out
