"""Vendor payload mappings: validated as data, compiled once, errors naming the path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from supplyline.kernel.errors import Invalid
from supplyline.telemetry.mapping.compiler import (
    MappingError,
    NormalizedReading,
    PayloadMappingSpec,
    compile_mapping,
    mapping_errors,
)
from supplyline.telemetry.mapping.paths import Located, getter, keys_of, walk
from supplyline.telemetry.metrics import metric_set

TEN_UTC = 1_795_341_600_000  # 2026-11-22T10:00:00Z


def spec(**overrides: Any) -> PayloadMappingSpec:
    doc: dict[str, Any] = {
        "device": {"path": "devId"},
        "timestamp": {"path": "t", "format": "epoch_ms"},
        "fields": [{"path": "temp_f", "metric": "temperature_c", "unit": "F"}],
    }
    return PayloadMappingSpec.model_validate({**doc, **overrides})


def error_of(fn: Any, payload: Any) -> tuple[str, str]:
    with pytest.raises(MappingError) as exc:
        fn(payload)
    return exc.value.path, exc.value.reason


def test_nested_paths_and_list_indexes() -> None:
    normalise = compile_mapping(
        spec(
            seq={"path": "meta.n"},
            fields=[
                {"path": "pos.gps.0", "metric": "lat"},
                {"path": "pos.gps.1", "metric": "lon"},
                {"path": "sensors.1.value", "metric": "temperature_c"},
                {"path": "by_port.2.v", "metric": "battery_v", "unit": "mV"},
            ],
        )
    )
    payload = {
        "devId": "trk-1",
        "t": TEN_UTC,
        "meta": {"n": 5},
        "pos": {"gps": [48.85, 2.35]},
        "sensors": [{"value": 1.0}, {"value": 4.5}],
        "by_port": {"2": {"v": 3600}},  # a digit segment also reads an object key
    }
    assert normalise(payload) == [
        NormalizedReading(
            "trk-1", TEN_UTC, 5, {"lat": 48.85, "lon": 2.35, "temperature_c": 4.5, "battery_v": 3.6}
        )
    ]


def test_missing_or_null_values_are_absent_not_errors() -> None:
    normalise = compile_mapping(
        spec(fields=[{"path": "pos.gps.1", "metric": "lon"}, {"path": "temp_f", "metric": "temperature_c"}])
    )
    for payload in (
        {"devId": "d", "t": TEN_UTC},
        {"devId": "d", "t": TEN_UTC, "pos": None, "temp_f": None},
        {"devId": "d", "t": TEN_UTC, "pos": {"gps": [1.0]}},
    ):
        assert normalise(payload) == [NormalizedReading("d", TEN_UTC, None, {})]


def test_bad_payloads_raise_a_mapping_error_naming_the_path() -> None:
    normalise = compile_mapping(
        spec(
            seq={"path": "n"},
            fields=[
                {"path": "temp_f", "metric": "temperature_c", "unit": "F"},
                {"path": "pos.gps.0", "metric": "lat"},
                {"path": "door", "metric": "door_open", "values": {"OPEN": 1, "CLOSED": 0, "1": 1}},
            ],
        )
    )
    ok = {"devId": "d", "t": TEN_UTC}
    assert error_of(normalise, {**ok, "temp_f": "warm"}) == (
        "temp_f",
        "expected a number, got the string 'warm'",
    )
    assert error_of(normalise, {**ok, "pos": {"gps": "48.8,2.3"}})[0] == "pos.gps"
    assert error_of(normalise, {**ok, "pos": [1, 2]})[0] == "pos"
    assert error_of(normalise, {**ok, "door": "AJAR"}) == (
        "door",
        "the string 'AJAR' is not one of 1, CLOSED, OPEN",
    )
    assert normalise({**ok, "door": 1})[0].metrics == {"door_open": 1.0}
    assert error_of(normalise, {**ok, "n": "7"})[0] == "n"
    assert error_of(normalise, {"t": TEN_UTC})[0] == "devId"
    assert error_of(normalise, {"devId": ["d"], "t": TEN_UTC})[0] == "devId"
    assert error_of(normalise, {"devId": "d"}) == ("t", "missing: a reading needs the time it was measured")
    assert error_of(normalise, {"devId": "d", "t": "yesterday"})[0] == "t"
    assert error_of(normalise, [ok])[0] == "body"
    assert isinstance(MappingError("x", "y"), Invalid)
    # Numeric device ids (an IMEI) are taken as their digits.
    assert normalise({"devId": 356938035643809, "t": TEN_UTC})[0].device == "356938035643809"


ENVELOPE = {
    "device": {"path": "gw", "relative_to": "envelope"},
    "timestamp": {"path": "ts", "format": "iso8601"},
    "seq": {"path": "n"},
    "readings": {"path": "data.samples"},
    "fields": [
        {"path": "temp", "metric": "temperature_c"},
        {"path": "fw_batt_v", "metric": "battery_v", "relative_to": "envelope"},
    ],
}


def test_an_envelope_with_a_list_of_readings() -> None:
    normalise = compile_mapping(PayloadMappingSpec.model_validate(ENVELOPE))
    payload = {
        "gw": "gw-1",
        "fw_batt_v": 12.1,
        "data": {
            "samples": [
                {"ts": "2026-11-22T10:00:00Z", "n": 1, "temp": 4.0},
                {"ts": "2026-11-22T10:01:00Z", "n": 2},
            ]
        },
    }
    assert normalise(payload) == [
        NormalizedReading("gw-1", TEN_UTC, 1, {"temperature_c": 4.0, "battery_v": 12.1}),
        NormalizedReading("gw-1", TEN_UTC + 60_000, 2, {"battery_v": 12.1}),
    ]
    assert normalise({"gw": "gw-1", "data": {"samples": []}}) == []
    bad = {
        "gw": "gw-1",
        "data": {"samples": [{"ts": "2026-11-22T10:00:00Z"}, {"ts": "2026-11-22T10:00:00Z", "temp": "x"}]},
    }
    assert error_of(normalise, bad)[0] == "data.samples.1.temp"
    assert (
        error_of(
            normalise, {"gw": "gw-1", "fw_batt_v": "x", "data": {"samples": [{"ts": "2026-11-22T10:00:00Z"}]}}
        )[0]
        == "fw_batt_v"
    )
    assert error_of(normalise, {"gw": "gw-1", "data": {}}) == (
        "data.samples",
        "missing: expected the list of readings",
    )
    assert error_of(normalise, {"gw": "gw-1", "data": {"samples": {}}})[0] == "data.samples"
    assert error_of(normalise, {"gw": "gw-1", "data": {"samples": [4.0]}})[0] == "data.samples.0"


def test_a_list_of_samples_per_sensor() -> None:
    normalise = compile_mapping(
        PayloadMappingSpec.model_validate(
            {
                **ENVELOPE,
                "device": {"path": "id", "relative_to": "parent"},
                "readings": {"path": "sensors.*.samples"},
                "fields": [{"path": "temp", "metric": "temperature_c"}],
            }
        )
    )
    t = "2026-11-22T10:00:00Z"
    payload: dict[str, Any] = {
        "sensors": [
            {"id": "s1", "samples": [{"ts": t, "temp": 1.0}, {"ts": t, "temp": 2.0}]},
            {"id": "s2", "samples": [{"ts": t, "temp": 3.0}]},
        ]
    }
    assert [(r.device, r.metrics["temperature_c"]) for r in normalise(payload)] == [
        ("s1", 1.0),
        ("s1", 2.0),
        ("s2", 3.0),
    ]
    payload["sensors"][1]["samples"][0]["temp"] = True
    assert error_of(normalise, payload)[0] == "sensors.1.samples.0.temp"
    payload["sensors"][1]["id"] = None
    assert error_of(normalise, payload)[0] == "sensors.1.id"


def loc_errors(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        PayloadMappingSpec.model_validate(doc)
    return [".".join(str(p) for p in e["loc"]) for e in exc.value.errors()]


def test_spec_validation_errors_name_the_field() -> None:
    base = {
        "device": {"path": "d"},
        "timestamp": {"path": "t"},
        "fields": [{"path": "x", "metric": "temperature_c"}],
    }
    assert loc_errors({**base, "vendor": "acme"}) == ["vendor"]
    assert loc_errors({**base, "fields": [{"path": "x", "metric": "temperature_c", "units": "F"}]}) == [
        "fields.0.units"
    ]
    assert loc_errors({**base, "fields": []}) == ["fields"]
    assert loc_errors({**base, "fields": [{"path": "a..b", "metric": "lat"}]}) == ["fields.0.path"]
    assert loc_errors({**base, "fields": [{"path": "x", "metric": "Temp C"}]}) == ["fields.0.metric"]
    door = {"path": "x", "metric": "door_open", "unit": "bool", "values": {"OPEN": 1}}
    assert loc_errors({**base, "fields": [door]}) == ["fields.0.values"]
    assert loc_errors({**base, "timestamp": {"path": "t", "format": "epoch_us"}}) == ["timestamp.format"]
    assert loc_errors({**base, "timestamp": {"path": "t", "timezone": "Paris"}}) == ["timestamp.timezone"]
    assert loc_errors({**base, "timestamp": {"path": "t", "format": "epoch_s", "timezone": "UTC"}}) == [
        "timestamp.timezone"
    ]
    assert loc_errors({**base, "device": {"path": "d", "relative_to": "root"}}) == ["device.relative_to"]
    assert loc_errors({**base, "readings": {"path": "*.samples"}}) == ["readings.path"]
    assert loc_errors({**base, "device": {}}) == ["device.path"]


def test_compile_errors_name_the_field_and_wait_for_the_profile_on_custom_metrics() -> None:
    doc = {
        "device": {"path": "d"},
        "timestamp": {"path": "t"},
        "fields": [
            {"path": "a", "metric": "temperature_c", "unit": "kPa"},
            {"path": "b", "metric": "temperature_c"},
            {"path": "c", "metric": "door_open", "values": {"OPEN": 2}},
            {"path": "d", "metric": "co2_ppm", "unit": "ppm"},
            {"path": "e", "metric": "speed_kmh", "unit": "parsec/h"},
        ],
    }
    s = PayloadMappingSpec.model_validate(doc)
    fields = ["fields.0.unit", "fields.1.metric", "fields.2.values.OPEN", "fields.4.unit"]
    assert [e.field for e in mapping_errors(s)] == fields
    with pytest.raises(Invalid) as exc:
        compile_mapping(s)
    assert [e.field for e in exc.value.errors] == [*fields[:3], "fields.3.metric", fields[3]]
    assert "co2_ppm" in exc.value.errors[3].reason


def test_a_profile_metric_set_maps_custom_metrics() -> None:
    s = spec(
        fields=[{"path": "co2", "metric": "co2_ppm"}, {"path": "probe_f", "metric": "probe_c", "unit": "F"}]
    )
    metrics = metric_set([{"metric": "co2_ppm", "unit": "ppm"}, {"metric": "probe_c", "unit": "C"}])
    normalise = compile_mapping(s, metrics)
    assert normalise({"devId": "d", "t": TEN_UTC, "co2": 812, "probe_f": 39.2})[0].metrics == {
        "co2_ppm": 812.0,
        "probe_c": 4.0,
    }


def test_a_compiled_mapping_is_reusable_and_handles_large_envelopes() -> None:
    """A sanity check, not a benchmark: one compiled function, many payloads and readings."""
    normalise = compile_mapping(PayloadMappingSpec.model_validate(ENVELOPE))
    samples = [
        {"ts": f"2026-11-22T10:{i // 60:02d}:{i % 60:02d}Z", "n": i, "temp": i / 10} for i in range(3000)
    ]
    for _ in range(3):
        readings = normalise({"gw": "gw-1", "data": {"samples": samples}})
        assert len(readings) == 3000
        assert readings[-1] == NormalizedReading("gw-1", TEN_UTC + 2999_000, 2999, {"temperature_c": 299.9})


@pytest.mark.parametrize("path", ["a", "a.b", "a.b.c", "a.b.0", "a.b.1", "a.0", "a.0.b", "a.b.c.d"])
def test_fast_path_readers_agree_with_the_generic_walk(path: str) -> None:
    docs: list[dict[str, Any]] = [
        {},
        {"a": None},
        {"a": 1},
        {"a": "text"},
        {"a": [7, {"b": 2}]},
        {"a": {"b": None}},
        {"a": {"b": [1.5]}},
        {"a": {"b": "text"}},
        {"a": {"b": {"c": 3, "0": "zero", "1": None}}},
        {"a": {"b": {"c": {"d": 4}}}},
    ]
    keys = keys_of(path)
    read = getter(keys, 0)
    for doc in docs:
        try:
            expected: Any = walk(doc, keys, 0)
        except Located as exc:
            expected = ("error", exc.path)
        try:
            got: Any = read(doc)
        except Located as exc:
            got = ("error", exc.path)
        assert got == expected, (path, doc)
