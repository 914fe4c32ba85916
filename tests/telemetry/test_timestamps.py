"""Timestamp formats: epochs, ISO 8601, strftime in a local zone with daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supplyline.telemetry.mapping.timestamps import format_error, timestamp_parser, zone_error
from supplyline.telemetry.metrics import ConversionError

TEN_UTC = 1_795_341_600_000  # 2026-11-22T10:00:00Z


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def test_epochs() -> None:
    assert timestamp_parser("epoch_s")(1_795_341_600) == TEN_UTC
    assert timestamp_parser("epoch_s")(1_795_341_600.25) == TEN_UTC + 250
    assert timestamp_parser("epoch_ms")(TEN_UTC) == TEN_UTC


def test_seconds_and_milliseconds_mixed_up_are_refused() -> None:
    with pytest.raises(ConversionError, match="epoch_ms"):
        timestamp_parser("epoch_s")(TEN_UTC)
    with pytest.raises(ConversionError, match="epoch_s"):
        timestamp_parser("epoch_ms")(1_795_341_600)
    with pytest.raises(ConversionError, match="the string"):
        timestamp_parser("epoch_s")("1795341600")
    with pytest.raises(ConversionError):
        timestamp_parser("epoch_ms")(True)


def test_iso8601_with_offset_or_in_the_mapping_zone() -> None:
    parse = timestamp_parser("iso8601")
    assert parse("2026-11-22T10:00:00Z") == TEN_UTC
    assert parse("2026-11-22T11:00:00.250+01:00") == TEN_UTC + 250
    assert parse("2026-11-22T10:00:00") == TEN_UTC  # naive: UTC by default
    assert timestamp_parser("iso8601", "Europe/Paris")("2026-11-22T11:00:00") == TEN_UTC
    assert timestamp_parser("iso8601", "Europe/Paris")("2026-11-22T10:00:00Z") == TEN_UTC
    with pytest.raises(ConversionError, match="not an ISO 8601"):
        parse("22/11/2026")


def test_local_strftime_follows_daylight_saving() -> None:
    parse = timestamp_parser("strftime:%d/%m/%Y %H:%M:%S", "Europe/Paris")
    assert parse("22/11/2026 11:00:00") == TEN_UTC  # winter: UTC+1
    assert parse("22/07/2026 12:00:00") == ms("2026-07-22T10:00:00+00:00")  # summer: UTC+2
    # 2026-03-29: clocks go from 02:00 to 03:00.
    assert parse("29/03/2026 01:59:59") == ms("2026-03-29T00:59:59+00:00")
    assert parse("29/03/2026 03:00:00") == ms("2026-03-29T01:00:00+00:00")
    with pytest.raises(ConversionError, match="does not exist in Europe/Paris"):
        parse("29/03/2026 02:30:00")
    # 2026-10-25: 02:00-03:00 happens twice; the first occurrence (still UTC+2) is taken.
    assert parse("25/10/2026 02:30:00") == ms("2026-10-25T00:30:00+00:00")
    assert parse("25/10/2026 03:30:00") == ms("2026-10-25T02:30:00+00:00")
    # The hour cache must not leak one hour's offset into another.
    assert parse("22/11/2026 11:00:00") == TEN_UTC
    with pytest.raises(ConversionError, match="is not a date-time like"):
        parse("31/02/2026 10:00:00")


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("%Y-%m-%dT%H:%M:%S.%f%z", "2026-11-22T11:00:00.25+01:00"),
        ("%Y-%m-%dT%H:%M:%S%z", "2026-11-22T10:00:00Z"),
        ("%y%m%d%H%M%S", "261122110000"),
        ("%d.%m.%Y %H:%M", "2.3.2026 7:05"),
        ("%Y/%m/%d  %H:%M:%S", "2026/11/22 11:00:09"),
        ("%d %b %Y %H:%M", "22 Nov 2026 11:00"),  # month names: strptime fallback
    ],
)
def test_compiled_strftime_patterns_agree_with_strptime(pattern: str, text: str) -> None:
    expected = datetime.strptime(text, pattern)
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=UTC)
    parse = timestamp_parser(f"strftime:{pattern}")
    assert parse(text) == ms(expected.isoformat())
    assert parse(text) == ms(expected.isoformat())  # and again, from the memo


def test_format_and_zone_errors_say_why() -> None:
    assert format_error("iso8601") is None
    assert "expected one of" in (format_error("epoch_us") or "")
    assert "full date and time" in (format_error("strftime:%H:%M") or "")
    assert "full date and time" in (format_error("strftime:%d/%m/%Y %I:%M") or "")
    assert "IANA" in (zone_error("iso8601", "Mars/Olympus") or "")
    assert "UTC by definition" in (zone_error("epoch_s", "Europe/Paris") or "")
    assert "%z" in (zone_error("strftime:%Y-%m-%d %H:%M%z", "Europe/Paris") or "")
    with pytest.raises(ValueError, match="full date"):
        timestamp_parser("strftime:%H:%M")
