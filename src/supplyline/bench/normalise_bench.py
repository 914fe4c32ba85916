"""Readings per second that payload normalisation sustains, next to decoding the same JSON alone.

Prints figures and asserts nothing: the machine is shared and noisy, so each case is reported
with the decode-only rate of the same run as its yardstick (best of five rounds). The "unique
times" cases defeat the timestamp memo, as a stream of real messages would.
``python -m supplyline.bench.normalise_bench``
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson

from supplyline.telemetry import (
    Normalizer,
    builtin_mappings,
    builtin_sample,
    compile_mapping,
    parse_canonical,
)

CANONICAL = {"device": "trk-1", "ts": "2026-11-22T10:00:00Z", "seq": 42, "metrics": {"temperature_c": 4.2}}
UNIQUE = 10_000  # more distinct time strings than the memo keeps (4,096), so it never hits


def _rate(fn: Callable[[], object], per_call: int, seconds: float) -> float:
    inner = max(1, 1000 // per_call)
    best = 0.0
    for _ in range(5):
        calls, start = 0, time.perf_counter()
        deadline = start + seconds / 5
        while (now := time.perf_counter()) < deadline:
            for _ in range(inner):
                fn()
            calls += inner
        best = max(best, calls * per_call / (now - start))
    return best


def _measure(fn: Callable[[Any], object], payload: Any, n: int, seconds: float) -> dict[str, float]:
    body = orjson.dumps(payload)
    loads = orjson.loads
    return {
        "normalise_readings_per_s": round(_rate(lambda: fn(payload), n, seconds)),
        "decode_and_normalise_per_s": round(_rate(lambda: fn(loads(body)), n, seconds)),
        "orjson_decode_only_per_s": round(_rate(lambda: loads(body), n, seconds)),
    }


def _each(normalise: Normalizer) -> Callable[[Any], object]:
    return lambda payloads: [normalise(p) for p in payloads]


def _unique_times() -> dict[str, tuple[Callable[[Any], object], Any, int]]:
    specs = builtin_mappings()
    reefer, tracker = builtin_sample("acme-reefer@1"), builtin_sample("nordic-tracker@1")
    hms = [f"{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}" for i in range(UNIQUE)]
    rows = [
        {"time": f"22/11/2026 {t}", "seq": i, "tC": 4.0, "rh": 80.0, "door": "CLOSED", "p_psi": 14.7}
        for i, t in enumerate(hms)
    ]
    gateway = {"gateway": "cbx-gw-7", "sensors": [{"sensor_id": "cbx-s-101", "samples": rows}]}
    trackers = [{**tracker, "ts": f"2026-11-22T{t}.250+01:00"} for t in hms]
    reefers = [{**reefer, "t": reefer["t"] + i} for i in range(UNIQUE)]
    return {
        "acme-reefer@1, unique times": (_each(compile_mapping(specs["acme-reefer@1"])), reefers, UNIQUE),
        "nordic-tracker@1, unique times": (
            _each(compile_mapping(specs["nordic-tracker@1"])),
            trackers,
            UNIQUE,
        ),
        "coldbox-gateway@1, one envelope, unique times": (
            compile_mapping(specs["coldbox-gateway@1"]),
            gateway,
            UNIQUE,
        ),
    }


def run(seconds: float = 1.0) -> dict[str, dict[str, float]]:
    cases: dict[str, tuple[Callable[[Any], object], Any, int]] = {}
    for key, spec in builtin_mappings().items():
        normalise = compile_mapping(spec)
        sample = builtin_sample(key)
        cases[f"{key}, sample"] = (normalise, sample, len(normalise(sample)))
    cases.update(_unique_times())
    cases["canonical"] = (parse_canonical, CANONICAL, 1)
    return {name: _measure(fn, payload, n, seconds) for name, (fn, payload, n) in cases.items()}


def main() -> None:
    print(json.dumps(run(), indent=2))


if __name__ == "__main__":
    main()
