"""Units of measure by dimension, with their factors to a reference unit of that dimension.

Conversion goes through the dimension's reference unit, so a new unit is one row here and
converts to every other unit of its dimension.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str
    dimension: str
    scale: float  # value in the dimension's reference unit = value * scale + offset
    offset: float = 0.0


# symbol, dimension, scale, offset, aliases. Speed and vibration are both velocities (m/s).
_UNIT_ROWS: tuple[tuple[str, str, float, float, tuple[str, ...]], ...] = (
    ("C", "temperature", 1.0, 0.0, ("°C", "degC", "celsius")),
    ("F", "temperature", 5 / 9, -160 / 9, ("°F", "degF", "fahrenheit")),
    ("K", "temperature", 1.0, -273.15, ("kelvin",)),
    ("kPa", "pressure", 1.0, 0.0, ()),
    ("Pa", "pressure", 0.001, 0.0, ()),
    ("hPa", "pressure", 0.1, 0.0, ("mbar",)),
    ("bar", "pressure", 100.0, 0.0, ()),
    ("psi", "pressure", 6.894757293168361, 0.0, ()),
    ("m/s", "velocity", 1.0, 0.0, ("mps",)),
    ("km/h", "velocity", 1 / 3.6, 0.0, ("kmh", "kph")),
    ("mph", "velocity", 0.44704, 0.0, ()),
    ("kn", "velocity", 1852 / 3600, 0.0, ("kt", "knots")),
    ("mm/s", "velocity", 0.001, 0.0, ()),
    ("in/s", "velocity", 0.0254, 0.0, ("ips",)),
    ("V", "voltage", 1.0, 0.0, ()),
    ("mV", "voltage", 0.001, 0.0, ()),
    ("g", "acceleration", 9.80665, 0.0, ()),
    ("m/s2", "acceleration", 1.0, 0.0, ("m/s^2", "m/s²")),
    ("%", "ratio", 0.01, 0.0, ("pct", "percent")),
    ("fraction", "ratio", 1.0, 0.0, ()),
    ("ppm", "ratio", 1e-6, 0.0, ()),
    ("ppb", "ratio", 1e-9, 0.0, ()),
    ("deg", "angle", 1.0, 0.0, ("°", "degrees")),
    ("rad", "angle", 180 / math.pi, 0.0, ()),
    ("m", "length", 1.0, 0.0, ()),
    ("km", "length", 1000.0, 0.0, ()),
    ("ft", "length", 0.3048, 0.0, ()),
    ("lx", "illuminance", 1.0, 0.0, ("lux",)),
    ("dBm", "power_level", 1.0, 0.0, ()),
)
UNITS: Mapping[str, Unit] = MappingProxyType(
    {
        name: Unit(symbol, dim, scale, offset)
        for symbol, dim, scale, offset, aliases in _UNIT_ROWS
        for name in (symbol, *aliases)
    }
)
BOOLEAN = "bool"
BOOLEAN_UNITS = frozenset({BOOLEAN, "boolean"})
