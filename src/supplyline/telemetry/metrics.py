"""Canonical metrics, their units, and what a device profile adds to them.

Every reading is stored in one unit per metric, so rules, charts and exports never convert.
Converters are built once per (unit, metric) and cost a type check and a multiply-add per value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, Protocol

from supplyline.kernel.errors import FieldError, Invalid
from supplyline.telemetry.units import BOOLEAN, BOOLEAN_UNITS, UNITS

Kind = Literal["number", "boolean"]
Converter = Callable[[Any], float]
Flag = tuple[str, float, str]  # (metric, value, reason)
# Converted values are rounded to 9 decimals: 39.2 F is 4.000000000000002 C in binary floating
# point, and no sensor resolves a billionth of its unit.
DECIMALS = 9
_SCALE = 10.0**DECIMALS
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ConversionError(ValueError):
    """A raw value that cannot become a canonical one: wrong type, not finite, not in a value map."""


class UnknownMetric(Invalid):
    """A metric that is neither canonical nor declared by the device's profile."""

    def __init__(self, metric: str, field: str | None = None) -> None:
        reason = f"unknown metric '{metric}': not canonical and not declared by the device profile"
        super().__init__(field or f"metrics.{metric}", reason)
        self.metric = metric


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    unit: str  # the canonical symbol; BOOLEAN for booleans
    kind: Kind = "number"
    min: float | None = None  # the plausible range: values outside are flagged, never dropped
    max: float | None = None
    description: str = ""


CANONICAL_METRICS: Mapping[str, Metric] = MappingProxyType(
    {
        m.name: m
        for m in (
            Metric("temperature_c", "C", "number", -100, 100, "Air or product temperature"),
            Metric("humidity_pct", "%", "number", 0, 100, "Relative humidity"),
            Metric("shock_g", "g", "number", 0, 200, "Peak acceleration of a shock"),
            Metric("lat", "deg", "number", -90, 90, "WGS 84 latitude"),
            Metric("lon", "deg", "number", -180, 180, "WGS 84 longitude"),
            Metric("altitude_m", "m", "number", -500, 15000, "Altitude above sea level"),
            Metric("heading_deg", "deg", "number", 0, 360, "Course over ground, from north"),
            Metric("speed_kmh", "km/h", "number", 0, 1200, "Speed over ground"),
            Metric("battery_v", "V", "number", 0, 60, "Battery voltage"),
            Metric("door_open", BOOLEAN, "boolean", None, None, "Door or lid open"),
            Metric("vibration_rms_mm_s", "mm/s", "number", 0, 500, "RMS vibration velocity"),
            Metric("pressure_kpa", "kPa", "number", 0, 2000, "Absolute pressure"),
            Metric("light_lux", "lx", "number", 0, 200000, "Illuminance (a light-sensing tamper seal)"),
            Metric("signal_rssi_dbm", "dBm", "number", -150, 0, "Radio signal strength"),
        )
    }
)


def describe(value: Any) -> str:
    """A raw value as a user would recognise it in their JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _refused(value: Any) -> ConversionError:
    if isinstance(value, float) and not math.isfinite(value):
        return ConversionError(f"{value!r} is not a finite number")
    if type(value) in (int, float):
        return ConversionError(f"{value!r} is out of range")
    return ConversionError(f"expected a number, got {describe(value)}")


def to_number(value: Any) -> float:
    """The identity conversion: a JSON number (not a boolean, not a string) as a finite float."""
    t = type(value)
    try:
        # x - x is 0.0 only for finite x (NaN and infinities give NaN).
        if (t is float and value - value == 0.0) or t is int:
            return float(value)
    except OverflowError:
        pass
    raise _refused(value)


def to_boolean(value: Any) -> float:
    """true/false or 1/0 as 1.0/0.0; strings such as "OPEN" need an explicit value map."""
    if value is True or value is False:
        return 1.0 if value else 0.0
    t = type(value)
    if (t is int or t is float) and (value == 0 or value == 1):
        return float(value)
    raise ConversionError(f"expected true/false or 1/0, got {describe(value)}")


def _linear(a: float, b: float) -> Converter:
    def convert(value: Any) -> float:
        t = type(value)
        if t is float or t is int:
            try:
                r: float = value * a + b
                if r - r == 0.0:
                    # round(r * 1e9) / 1e9 is round(r, 9) at a quarter of the cost.
                    return round(r * _SCALE) / _SCALE
            except OverflowError:
                pass
        raise _refused(value)

    return convert


def converter(from_unit: str | None, metric: str, metrics: Mapping[str, Metric] | None = None) -> Converter:
    """The function turning a raw value in ``from_unit`` into ``metric``'s canonical unit.

    Raises ``UnknownMetric`` or ``Invalid("unit", ...)`` once, when a mapping is compiled, so that
    the per-reading path only ever meets bad values, never bad configuration.
    """
    if metrics is None:
        return _canonical_converter(from_unit, metric)
    target = metrics.get(metric)
    if target is None:
        raise UnknownMetric(metric, "metric")
    return _build(from_unit, target)


@lru_cache(maxsize=512)
def _canonical_converter(from_unit: str | None, metric: str) -> Converter:
    target = CANONICAL_METRICS.get(metric)
    if target is None:
        raise UnknownMetric(metric, "metric")
    return _build(from_unit, target)


def _build(from_unit: str | None, target: Metric) -> Converter:
    if target.kind == "boolean":
        if from_unit is not None and from_unit not in BOOLEAN_UNITS:
            raise Invalid("unit", f"{target.name} is a boolean and takes no unit; map strings with 'values'")
        return to_boolean
    if from_unit is None or from_unit == target.unit:
        return to_number
    src, dst = UNITS.get(from_unit), UNITS.get(target.unit)
    if src is None:
        raise Invalid("unit", f"unknown unit '{from_unit}'; known units: {', '.join(sorted(UNITS))}")
    if dst is None or src.dimension != dst.dimension:
        what = f"a {dst.dimension}" if dst else "a unit without known conversions"
        raise Invalid("unit", f"cannot convert {from_unit} ({src.dimension}) to {target.unit}, {what}")
    if src.symbol == dst.symbol:
        return to_number
    return _linear(src.scale / dst.scale, (src.offset - dst.offset) / dst.scale)


def convert(
    value: Any, from_unit: str | None, metric: str, metrics: Mapping[str, Metric] | None = None
) -> float:
    """Convert one value; for many, keep ``converter(from_unit, metric)`` and call it."""
    return converter(from_unit, metric, metrics)(value)


class DeclaredMetric(Protocol):
    """A metric as a device profile declares it (``registry`` MetricSpec, or its stored JSON)."""

    @property
    def metric(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...


ProfileMetrics = Iterable[DeclaredMetric | Mapping[str, Any]]


def metric_set(declared: ProfileMetrics = ()) -> dict[str, Metric]:
    """The metrics a device of this profile may report: the canonical ones plus its own.

    A profile may narrow or widen a canonical metric's plausible range, but its values are still
    stored in the canonical unit (a range given in F for temperature_c is converted), so that one
    metric stays comparable across devices. It may add metrics of its own, in any unit, ``bool``
    making a boolean one. Errors name ``metrics.<index>.<field>``.
    """
    out = dict(CANONICAL_METRICS)
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, item in enumerate(declared):
        raw = item if isinstance(item, Mapping) else {k: getattr(item, k, None) for k in _DECLARED_KEYS}
        metric, found = _declared(raw, f"metrics.{i}.", seen)
        errors += found
        if metric is not None:
            out[metric.name] = metric
    if errors:
        raise Invalid.many(errors)
    return out


_DECLARED_KEYS = ("metric", "unit", "min", "max")


def _declared(raw: Mapping[str, Any], at: str, seen: set[str]) -> tuple[Metric | None, list[FieldError]]:
    name, unit, lo, hi = (raw.get(k) for k in _DECLARED_KEYS)
    errors = [
        FieldError(f"{at}{k}", f"not a key of a profile metric (keys: {', '.join(_DECLARED_KEYS)})")
        for k in raw
        if k not in _DECLARED_KEYS
    ]
    if not isinstance(name, str) or not METRIC_NAME.match(name):
        errors.append(FieldError(f"{at}metric", "a lower_snake name such as co2_ppm"))
    elif name in seen:
        errors.append(FieldError(f"{at}metric", f"{name} declared twice"))
    if not isinstance(unit, str) or not unit:
        errors.append(FieldError(f"{at}unit", "a unit symbol such as C, kPa, ppm or bool"))
    for key, bound in (("min", lo), ("max", hi)):
        if bound is not None and (type(bound) not in (int, float) or not math.isfinite(bound)):
            errors.append(FieldError(f"{at}{key}", f"expected a finite number, got {describe(bound)}"))
    if errors or not isinstance(name, str) or not isinstance(unit, str):
        return None, errors
    if lo is not None and hi is not None and lo > hi:
        return None, [FieldError(f"{at}max", f"{hi} is below min {lo}")]
    seen.add(name)
    canonical = CANONICAL_METRICS.get(name)
    known = UNITS.get(unit)
    symbol = BOOLEAN if unit in BOOLEAN_UNITS else known.symbol if known else unit
    if canonical is None:
        kind: Kind = "boolean" if symbol == BOOLEAN else "number"
        return Metric(name, symbol, kind, lo, hi, "declared by the device profile"), []
    if symbol != canonical.unit:
        # A range written in another unit of the same quantity (F for temperature_c) is converted.
        try:
            to_canonical = _build(unit, canonical)
        except Invalid as exc:
            return None, [FieldError(f"{at}unit", exc.errors[0].reason)]
        lo = None if lo is None else to_canonical(lo)
        hi = None if hi is None else to_canonical(hi)
    lo = canonical.min if lo is None else lo
    hi = canonical.max if hi is None else hi
    return replace(canonical, min=lo, max=hi), []


Checker = Callable[[Mapping[str, float]], list[Flag]]


def plausibility(profile_metrics: ProfileMetrics | Mapping[str, Metric] = ()) -> Checker:
    """A function listing a reading's implausible values: flagged for a person to see, never dropped.

    Takes the profile's declared metrics (or a ``metric_set`` already built). The returned
    function raises ``UnknownMetric`` for a metric neither canonical nor declared: storing it
    would create a series no rule, chart or export knows how to read.
    """
    metrics = profile_metrics if isinstance(profile_metrics, Mapping) else metric_set(profile_metrics)
    inf = math.inf
    bounds = {
        m.name: (
            -inf if m.min is None else m.min,
            inf if m.max is None else m.max,
            m.kind == "boolean",
            m.unit,
        )
        for m in metrics.values()
    }

    def check(values: Mapping[str, float]) -> list[Flag]:
        flags: list[Flag] = []
        for name, value in values.items():
            b = bounds.get(name)
            if b is None:
                raise UnknownMetric(name)
            lo, hi, boolean, unit = b
            if boolean:
                if value != 0.0 and value != 1.0:
                    flags.append((name, value, "not a boolean: expected 1 or 0"))
            elif value < lo:
                flags.append((name, value, f"below the plausible minimum of {lo:g} {unit}"))
            elif value > hi:
                flags.append((name, value, f"above the plausible maximum of {hi:g} {unit}"))
        return flags

    return check
