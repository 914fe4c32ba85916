"""Canonical metrics: unit conversions, profile-declared metrics and plausibility flags."""

from __future__ import annotations

import math
from typing import Any

import pytest

from supplyline.kernel.errors import Invalid
from supplyline.registry.model import MetricSpec
from supplyline.telemetry.metrics import (
    CANONICAL_METRICS,
    ConversionError,
    UnknownMetric,
    convert,
    converter,
    metric_set,
    plausibility,
)


@pytest.mark.parametrize(
    ("value", "unit", "metric", "expected"),
    [
        (39.2, "F", "temperature_c", 4.0),
        (-40, "°F", "temperature_c", -40.0),
        (277.15, "K", "temperature_c", 4.0),
        (4.2, "C", "temperature_c", 4.2),
        (3712, "mV", "battery_v", 3.712),
        (14.7, "psi", "pressure_kpa", 101.35293221),
        (101325, "Pa", "pressure_kpa", 101.325),
        (1013.25, "hPa", "pressure_kpa", 101.325),
        (1.5, "bar", "pressure_kpa", 150.0),
        (22.5, "m/s", "speed_kmh", 81.0),
        (50, "mph", "speed_kmh", 80.4672),
        (10, "kn", "speed_kmh", 18.52),
        (0.12, "in/s", "vibration_rms_mm_s", 3.048),
        (19.6133, "m/s2", "shock_g", 2.0),
        (0.455, "fraction", "humidity_pct", 45.5),
        (48.8566, "deg", "lat", 48.8566),
        (3280.84, "ft", "altitude_m", 1000.000032),
    ],
)
def test_units_convert_to_the_canonical_unit_exactly(
    value: float, unit: str, metric: str, expected: float
) -> None:
    assert convert(value, unit, metric) == expected


def test_a_converter_is_compiled_once_and_reused() -> None:
    to_c = converter("F", "temperature_c")
    assert to_c is converter("F", "temperature_c")
    assert [to_c(v) for v in (32, 212, 39.2)] == [0.0, 100.0, 4.0]
    assert converter(None, "temperature_c")(5) == 5.0


def test_booleans_take_true_false_one_zero_and_nothing_else() -> None:
    assert [convert(v, None, "door_open") for v in (True, False, 1, 0, 1.0)] == [1.0, 0.0, 1.0, 0.0, 1.0]
    for bad in ("open", 2, None):
        with pytest.raises(ConversionError, match="true/false"):
            convert(bad, None, "door_open")


@pytest.mark.parametrize("bad", ["4.2", True, None, [4.2], math.nan, math.inf, 10**400])
def test_a_number_metric_refuses_what_is_not_a_finite_number(bad: object) -> None:
    for unit in (None, "F"):
        with pytest.raises(ConversionError):
            convert(bad, unit, "temperature_c")


def test_configuration_errors_surface_when_the_converter_is_built() -> None:
    with pytest.raises(Invalid, match="cannot convert kPa") as exc:
        converter("kPa", "temperature_c")
    assert exc.value.errors[0].field == "unit"
    with pytest.raises(Invalid, match="unknown unit 'furlong'"):
        converter("furlong", "speed_kmh")
    with pytest.raises(Invalid, match="boolean"):
        converter("V", "door_open")
    with pytest.raises(UnknownMetric, match="co2_ppm"):
        converter(None, "co2_ppm")


def test_a_profile_adds_its_own_metrics_and_narrows_canonical_ranges() -> None:
    declared: list[Any] = [
        MetricSpec(metric="co2_ppm", unit="ppm", min=0, max=5000),
        MetricSpec(metric="temperature_c", unit="C", min=-30, max=10),
        {"metric": "compressor_on", "unit": "bool"},
        {"metric": "probe_temp_c", "unit": "°C"},
    ]
    metrics = metric_set(declared)
    assert metrics["co2_ppm"].unit == "ppm" and metrics["co2_ppm"].max == 5000
    assert (metrics["temperature_c"].min, metrics["temperature_c"].max) == (-30, 10)
    assert metrics["compressor_on"].kind == "boolean"
    assert metrics["humidity_pct"] == CANONICAL_METRICS["humidity_pct"]
    # A custom metric in a known unit converts like a canonical one.
    assert convert(39.2, "F", "probe_temp_c", metrics) == 4.0
    assert convert(800, "ppm", "co2_ppm", metrics) == 800.0
    assert "co2_ppm" not in CANONICAL_METRICS


def test_a_profile_range_in_another_unit_is_converted_to_the_canonical_one() -> None:
    metrics = metric_set([{"metric": "temperature_c", "unit": "F", "min": 32, "max": 50}])
    assert (metrics["temperature_c"].unit, metrics["temperature_c"].min, metrics["temperature_c"].max) == (
        "C",
        0.0,
        10.0,
    )


def test_a_bad_profile_declaration_names_the_field() -> None:
    cases: list[tuple[list[Any], str]] = [
        ([{"metric": "temperature_c", "unit": "kPa"}], "metrics.0.unit"),
        ([{"metric": "co2_ppm", "unit": "ppm", "min": 10, "max": 1}], "metrics.0.max"),
        ([{"metric": "co2_ppm", "unit": "ppm"}, {"metric": "co2_ppm", "unit": "ppm"}], "metrics.1.metric"),
        ([{"metric": "CO2", "unit": "ppm"}], "metrics.0.metric"),
        ([{"metric": "co2_ppm", "unit": "ppm", "min": "low"}], "metrics.0.min"),
        ([{"metric": "co2_ppm", "unit": "ppm", "scale": 2}], "metrics.0.scale"),
    ]
    for declared, field in cases:
        with pytest.raises(Invalid) as exc:
            metric_set(declared)
        assert [e.field for e in exc.value.errors] == [field], declared


def test_implausible_values_are_flagged_not_dropped() -> None:
    check = plausibility([{"metric": "temperature_c", "unit": "C", "min": -30, "max": 10}])
    reading = {"temperature_c": 14.5, "humidity_pct": 140.0, "battery_v": 3.6, "door_open": 0.5}
    flags = check(reading)
    assert reading == {"temperature_c": 14.5, "humidity_pct": 140.0, "battery_v": 3.6, "door_open": 0.5}
    assert [(m, v) for m, v, _ in flags] == [
        ("temperature_c", 14.5),
        ("humidity_pct", 140.0),
        ("door_open", 0.5),
    ]
    assert "above the plausible maximum of 10 C" in flags[0][2]
    assert check({"temperature_c": -31.0})[0][2] == "below the plausible minimum of -30 C"
    assert check({"temperature_c": 4.0, "lat": 48.8}) == []


def test_a_profile_custom_metric_is_accepted_and_an_unknown_one_refused() -> None:
    check = plausibility([MetricSpec(metric="co2_ppm", unit="ppm", min=0, max=5000)])
    assert check({"co2_ppm": 800.0}) == []
    assert [f[0] for f in check({"co2_ppm": 9000.0})] == ["co2_ppm"]
    with pytest.raises(UnknownMetric) as exc:
        check({"temperature_c": 4.0, "ethylene_ppb": 3.0})
    assert exc.value.errors[0].field == "metrics.ethylene_ppb"
    assert "ethylene_ppb" in exc.value.detail
    with pytest.raises(UnknownMetric, match="co2_ppm"):
        plausibility()({"co2_ppm": 800.0})
    # A metric set already built is taken as it is.
    assert plausibility(metric_set([{"metric": "co2_ppm", "unit": "ppm"}]))({"co2_ppm": 1e6}) == []
