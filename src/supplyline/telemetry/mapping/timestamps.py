"""Timestamp formats of vendor payloads, each compiled once into a parser returning UTC epoch ms.

The measurement time is what rules, alarms and audits rely on, so local times are resolved in
their zone with its daylight-saving rules, and a time the zone skipped is refused, not guessed.
``datetime.strptime`` costs ~4 us a call; common ``strftime`` formats get a compiled regex instead.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from operator import itemgetter
from typing import Any

from supplyline.telemetry.metrics import ConversionError, describe

Parser = Callable[[Any], int]
FORMATS = ("epoch_s", "epoch_ms", "iso8601")
STRFTIME = "strftime:"
# Numeric epochs outside 2000..2100 are refused: seconds read as milliseconds (or the reverse)
# is the usual mapping mistake, and it would otherwise file readings in 1970 or in year 57000.
MIN_MS = 946_684_800_000
MAX_MS = 4_102_444_800_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
_DIRTY = -(1 << 62)  # an hour with a DST transition in it: resolve each time on its own

# The regexes of CPython's _strptime, so both parse the same strings.
_DIRECTIVES = {
    "Y": r"(\d\d\d\d)",
    "y": r"(\d\d)",
    "m": r"(1[0-2]|0[1-9]|[1-9])",
    "d": r"(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "H": r"(2[0-3]|[0-1]\d|\d)",
    "M": r"([0-5]\d|\d)",
    "S": r"(6[0-1]|[0-5]\d|\d)",
    "f": r"([0-9]{1,6})",
    "z": r"([+-]\d\d:?[0-5]\d(?::?[0-5]\d)?|(?-i:Z))",
}


def format_error(fmt: str) -> str | None:
    """Why ``fmt`` cannot describe a measurement time, or None if it can."""
    if fmt in FORMATS:
        return None
    if not fmt.startswith(STRFTIME) or not fmt[len(STRFTIME) :]:
        return f"expected one of {', '.join(FORMATS)} or strftime:<format>, got '{fmt}'"
    pattern = fmt[len(STRFTIME) :]
    sample = datetime(2026, 11, 22, 13, 45, 56, tzinfo=UTC)
    try:
        parsed = datetime.strptime(sample.strftime(pattern), pattern)
    except ValueError as exc:
        return f"'{pattern}' is not a usable strftime format ({exc})"
    if parsed.replace(tzinfo=None, second=0, microsecond=0) != datetime(2026, 11, 22, 13, 45):
        return f"'{pattern}' does not carry a full date and time (year, month, day, hour, minute)"
    return None


def zone_error(fmt: str, zone: str) -> str | None:
    """Why ``zone`` cannot go with ``fmt``, or None: it only applies to times without an offset."""
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"'{zone}' is not an IANA time zone such as Europe/Paris"
    if fmt in ("epoch_s", "epoch_ms"):
        return "epoch times are UTC by definition; timezone does not apply"
    if fmt.startswith(STRFTIME) and "%z" in fmt:
        return "the format carries its UTC offset (%z); timezone would be ignored"
    return None


def timestamp_parser(fmt: str, zone: str | None = None) -> Parser:
    """A function from a raw timestamp to UTC epoch ms; raises ``ConversionError`` with the reason.

    ``zone`` applies to times without an offset (default UTC). A local time that occurs twice
    when clocks go back resolves to the first occurrence: without an offset it cannot say which.
    """
    reason = format_error(fmt) or (zone_error(fmt, zone) if zone is not None else None)
    if reason is not None:
        raise ValueError(reason)
    if fmt == "epoch_s":
        return _epoch(1000, "seconds", "epoch_ms")
    if fmt == "epoch_ms":
        return _epoch(1, "milliseconds", "epoch_s")
    local = _local_resolver(zoneinfo.ZoneInfo(zone) if zone and zone != "UTC" else None)
    if fmt == "iso8601":
        return _iso(local)
    return _strftime(fmt[len(STRFTIME) :], local)


def _epoch(scale: int, unit: str, other: str) -> Parser:
    def parse(value: Any) -> int:
        t = type(value)
        ms: int
        if t is int:
            ms = value * scale
        elif t is float and value - value == 0.0:
            ms = round(value * scale)
        else:
            raise ConversionError(f"expected {unit} since 1970, got {describe(value)}")
        if MIN_MS <= ms < MAX_MS:
            return ms
        raise ConversionError(f"{value} {unit} since 1970 is not between 2000 and 2100 (is it {other}?)")

    return parse


def _wall_ms(dt: datetime) -> int:
    """The clock reading of ``dt`` as if it were UTC, in ms: integer arithmetic, no float error."""
    return (
        (dt.toordinal() - 719_163) * 86_400_000
        + dt.hour * 3_600_000
        + dt.minute * 60_000
        + dt.second * 1000
        + dt.microsecond // 1000
    )


def aware_ms(dt: datetime) -> int:
    return (dt - EPOCH) // ONE_MS


def _local_resolver(zone: zoneinfo.ZoneInfo | None) -> Callable[[datetime], int]:
    """Naive local time -> UTC ms. The offset is cached per local hour; zone lookups cost ~1 us."""
    if zone is None:
        return _wall_ms
    cache: dict[int, int] = {}

    def resolve(dt: datetime) -> int:
        wall = _wall_ms(dt)
        hour = wall // 3_600_000
        offset = cache.get(hour)
        if offset is None:
            if len(cache) > 50_000:
                cache.clear()
            offset = cache[hour] = _hour_offset(zone, dt)
        if offset != _DIRTY:
            return wall - offset
        aware = dt.replace(tzinfo=zone)
        utc = aware.astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) != dt:
            raise ConversionError(f"{dt.isoformat()} does not exist in {zone.key}: clocks skipped it")
        return aware_ms(utc)

    return resolve


def _hour_offset(zone: tzinfo, dt: datetime) -> int:
    """The zone's UTC offset in ms through this local hour, or _DIRTY if it changes within it."""
    start = dt.replace(minute=0, second=0, microsecond=0, tzinfo=zone)
    end = start.replace(minute=59, second=59, microsecond=999_999)
    offsets = {x.utcoffset() for x in (start, end, start.replace(fold=1), end.replace(fold=1))}
    if len(offsets) != 1:
        return _DIRTY
    (offset,) = offsets
    assert offset is not None
    return offset // ONE_MS


def _iso(local: Callable[[datetime], int]) -> Parser:
    return _text(datetime.fromisoformat, local, "an ISO 8601 date-time")


def _strftime(pattern: str, local: Callable[[datetime], int]) -> Parser:
    fast = _compile_pattern(pattern)
    to_datetime = fast or (lambda text: datetime.strptime(text, pattern))
    return _text(to_datetime, local, f"a date-time like {pattern!r}")


def _text(to_datetime: Callable[[str], datetime], local: Callable[[datetime], int], what: str) -> Parser:
    """A text timestamp parser remembering recent answers: the sensors behind one gateway
    usually sample at the same instants, so a payload repeats each time string many times."""
    memo: dict[str, int] = {}

    def parse(value: Any) -> int:
        if type(value) is not str:
            raise ConversionError(f"expected {what}, got {describe(value)}")
        ms = memo.get(value)
        if ms is not None:
            return ms
        try:
            dt = to_datetime(value)
        except ValueError:
            raise ConversionError(f"{value[:40]!r} is not {what}") from None
        ms = local(dt) if dt.tzinfo is None else aware_ms(dt)
        if len(memo) >= 4096:
            memo.clear()
        memo[value] = ms
        return ms

    return parse


def _compile_pattern(pattern: str) -> Callable[[str], datetime] | None:
    """A regex parser for formats made of %Y %y %m %d %H %M %S %f %z %%; None for anything else."""
    parts: list[str] = []
    names: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            d = pattern[i + 1 : i + 2]
            i += 2
            if d == "%":
                parts.append("%")
            elif d in _DIRECTIVES and d not in names:
                parts.append(_DIRECTIVES[d])
                names.append(d)
            else:
                return None  # month names, weekdays, %I/%p...: leave them to strptime
        elif c.isspace():
            parts.append(r"\s+")
            while i < len(pattern) and pattern[i].isspace():
                i += 1
        else:
            parts.append(re.escape(c))
            i += 1
    match = re.compile("".join(parts), re.IGNORECASE).fullmatch
    if "Y" in names and "y" in names:
        return None
    if {"y", "f", "z"}.isdisjoint(names):
        # The common case: every group is an integer field. Absent fields read their default
        # from a tail appended to the groups, so one itemgetter puts them in datetime's order.
        pick = itemgetter(*(names.index(c) if c in names else len(names) + k for k, c in enumerate("YmdHMS")))

        def plain(text: str) -> datetime:
            m = match(text)
            if m is None:
                raise ValueError("no match")
            year, month, day, hour, minute, second = map(int, pick(m.groups() + _DEFAULTS))
            return datetime(year, month, day, hour, minute, second)

        return plain
    where = {name: n for n, name in enumerate(names)}
    return lambda text: _build(match(text), where)


_DEFAULTS = ("1900", "1", "1", "0", "0", "0")


def _build(m: re.Match[str] | None, where: dict[str, int]) -> datetime:
    """Formats with %y, %f or %z: each needs more than int() of its digits."""
    if m is None:
        raise ValueError("no match")
    g = m.groups()
    f = {name: g[n] for name, n in where.items()}
    if "y" in f:
        yy = int(f["y"])
        year = yy + (2000 if yy < 69 else 1900)  # the POSIX rule strptime follows
    else:
        year = int(f.get("Y", 1900))
    us = int(f["f"].ljust(6, "0")) if "f" in f else 0
    tz = _offset(f["z"]) if "z" in f else None
    month, day, hour, minute, second = (int(f.get(c, d)) for c, d in zip("mdHMS", _DEFAULTS[1:], strict=True))
    return datetime(year, month, day, hour, minute, second, us, tzinfo=tz)


def _offset(text: str) -> tzinfo:
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[0:2]), minutes=int(digits[2:4]), seconds=int(digits[4:6] or 0))
    return timezone(-delta if text[0] == "-" else delta)
