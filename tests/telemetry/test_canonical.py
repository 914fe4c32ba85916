"""The canonical reading format: fast and strict."""

from __future__ import annotations

import math
from typing import Any

import pytest

from supplyline.telemetry.mapping.compiler import MappingError, NormalizedReading, parse_canonical

TEN_UTC = 1_795_341_600_000


def test_a_canonical_reading() -> None:
    obj = {"device": "trk-1", "ts": "2026-11-22T10:00:00Z", "seq": 42, "metrics": {"temperature_c": 4.2}}
    assert parse_canonical(obj) == NormalizedReading("trk-1", TEN_UTC, 42, {"temperature_c": 4.2})
    obj = {"device": "trk-1", "ts": TEN_UTC + 5, "metrics": {"door_open": True, "battery_v": 4}}
    assert parse_canonical(obj) == NormalizedReading(
        "trk-1", TEN_UTC + 5, None, {"door_open": 1.0, "battery_v": 4.0}
    )
    assert parse_canonical({**obj, "ts": "2026-11-22T11:00:00.123+01:00"}).ts_ms == TEN_UTC + 123


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"temp": 4}, "temp"),
        ({"device": ""}, "device"),
        ({"device": 12}, "device"),
        ({"ts": "2026-11-22T10:00:00"}, "ts"),
        ({"ts": 1_795_341_600}, "ts"),
        ({"ts": 1_795_341_600_000.0}, "ts"),
        ({"ts": None}, "ts"),
        ({"ts": "tomorrow"}, "ts"),
        ({"seq": "1"}, "seq"),
        ({"seq": True}, "seq"),
        ({"metrics": {}}, "metrics"),
        ({"metrics": [4.2]}, "metrics"),
        ({"metrics": {"temperature_c": "4.2"}}, "metrics.temperature_c"),
        ({"metrics": {"temperature_c": math.nan}}, "metrics.temperature_c"),
        ({"metrics": {"temperature_c": None}}, "metrics.temperature_c"),
    ],
)
def test_anything_off_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    obj = {"device": "trk-1", "ts": TEN_UTC, "metrics": {"temperature_c": 4.2}, **change}
    with pytest.raises(MappingError) as exc:
        parse_canonical(obj)
    assert exc.value.path == field
    assert exc.value.errors[0].field == field


def test_a_reading_inside_a_batch_is_located_by_its_index() -> None:
    with pytest.raises(MappingError) as exc:
        parse_canonical({"device": "d", "ts": TEN_UTC, "metrics": {"x": "y"}})
    assert exc.value.under("readings.7").path == "readings.7.metrics.x"
    assert parse_canonical.__module__ == "supplyline.telemetry.ingest.canonical"
    with pytest.raises(MappingError, match="body"):
        parse_canonical([1])
