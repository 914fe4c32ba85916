"""The canonical reading format: what a device or gateway sends when it needs no vendor mapping.

``{"device": "trk-1", "ts": "2026-11-22T10:00:00Z" | 1795341600000, "seq": 42,
"metrics": {"temperature_c": 4.2, "door_open": false}}``. Parsed by hand rather than by a model:
it is the hot path, and a strict hand check costs a fraction of a model validation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supplyline.telemetry.mapping.timestamps import MAX_MS, MIN_MS, aware_ms
from supplyline.telemetry.metrics import describe
from supplyline.telemetry.model import MappingError, NormalizedReading

KEYS = frozenset({"device", "ts", "seq", "metrics"})


def parse_canonical(obj: Any) -> NormalizedReading:
    """One canonical reading, strictly: unknown keys, naive times and non-numbers are refused.

    Metric names are checked later, against the device's profile (``metrics.plausibility``).
    """
    if type(obj) is not dict:
        raise MappingError("body", f"expected a reading object, got {describe(obj)}")
    if not KEYS.issuperset(obj):
        unknown = sorted(str(k) for k in obj if k not in KEYS)[0]
        raise MappingError(unknown, "unknown field of a reading (expected device, ts, seq, metrics)")
    device = obj.get("device")
    if type(device) is not str or not device:
        raise MappingError("device", f"expected a device code (a string), got {describe(device)}")
    seq = obj.get("seq")
    if seq is not None and type(seq) is not int:
        raise MappingError("seq", f"expected an integer, got {describe(seq)}")
    return NormalizedReading(device, _ts(obj.get("ts")), seq, _metrics(obj.get("metrics")))


def _ts(value: Any) -> int:
    if type(value) is int:
        if MIN_MS <= value < MAX_MS:
            return value
        raise MappingError("ts", f"{value} ms since 1970 is not between 2000 and 2100 (seconds?)")
    if type(value) is not str:
        reason = "missing" if value is None else f"got {describe(value)}"
        raise MappingError("ts", f"expected an ISO 8601 time with offset or epoch ms; {reason}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError("ts", f"{value[:40]!r} is not an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        raise MappingError("ts", f"{value[:40]!r} has no UTC offset: add Z or +01:00")
    return aware_ms(dt)


def _metrics(values: Any) -> dict[str, float]:
    if type(values) is not dict or not values:
        got = "an empty object" if values == {} else describe(values)
        raise MappingError("metrics", f"expected an object of metric values, got {got}")
    out: dict[str, float] = {}
    for name, v in values.items():
        t = type(v)
        # x - x == 0.0 is false for NaN and infinities, which Python's json lets through.
        if t is float and v - v == 0.0:
            out[name] = v
        elif t is int:
            out[name] = float(v)
        elif t is bool:
            out[name] = 1.0 if v else 0.0
        else:
            raise MappingError(f"metrics.{name}", f"expected a number or a boolean, got {describe(v)}")
    return out
