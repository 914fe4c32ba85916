"""The built-in vendor mappings normalise their sample payloads to the expected canonical readings."""

from __future__ import annotations

import pytest

from supplyline.telemetry.mapping.compiler import NormalizedReading, compile_mapping
from supplyline.telemetry.mapping.resources import PayloadMappingIn
from supplyline.telemetry.mapping.vendors import builtin_mapping_documents, builtin_mappings, builtin_sample

TEN_UTC = 1_795_341_600_000  # 2026-11-22T10:00:00Z
FIVE_MIN = 300_000

EXPECTED = {
    # Fahrenheit and a humidity fraction, stored in Celsius and percent.
    "acme-reefer@1": [
        NormalizedReading(
            "acme-rf-0042",
            TEN_UTC,
            1287,
            {"temperature_c": 4.0, "humidity_pct": 82.0, "door_open": 0.0, "battery_v": 12.6},
        )
    ],
    "nordic-tracker@1": [
        NormalizedReading(
            "356938035643809",
            TEN_UTC + 250,
            77,
            {
                "lat": 48.8566,
                "lon": 2.3522,
                "speed_kmh": 81.0,
                "battery_v": 3.712,
                "shock_g": 2.5,
                "vibration_rms_mm_s": 3.048,
                "temperature_c": 4.2,
                "signal_rssi_dbm": -87.0,
            },
        )
    ],
    # Local Paris time (UTC+1 in November), door strings, pressure in psi.
    "coldbox-gateway@1": [
        NormalizedReading(
            "cbx-s-101",
            TEN_UTC,
            501,
            {"temperature_c": 3.9, "humidity_pct": 81.5, "door_open": 0.0, "pressure_kpa": 101.35293221},
        ),
        NormalizedReading(
            "cbx-s-101",
            TEN_UTC + FIVE_MIN,
            502,
            {"temperature_c": 4.4, "humidity_pct": 82.0, "door_open": 1.0, "pressure_kpa": 101.283984637},
        ),
        NormalizedReading("cbx-s-102", TEN_UTC, 77, {"temperature_c": -18.2, "door_open": 0.0}),
        NormalizedReading("cbx-s-102", TEN_UTC + FIVE_MIN, 78, {"temperature_c": -18.0, "door_open": 0.0}),
    ],
}


def test_three_distinct_vendor_formats_ship() -> None:
    assert sorted(builtin_mappings()) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_sample_normalises_to_canonical_readings(key: str) -> None:
    normalise = compile_mapping(builtin_mappings()[key])
    assert normalise(builtin_sample(key)) == EXPECTED[key]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_mapping_document_is_what_the_api_takes(key: str) -> None:
    doc = builtin_mapping_documents()[key]
    parsed = PayloadMappingIn.model_validate(doc)
    assert f"{parsed.code}@{parsed.mapping_version}" == key
    assert parsed.spec == builtin_mappings()[key]


def test_an_unknown_builtin_sample_is_refused() -> None:
    with pytest.raises(KeyError):
        builtin_sample("../../etc@1")
