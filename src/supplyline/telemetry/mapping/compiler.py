"""Vendor payload mappings: data describing where a vendor puts each value, compiled into a function.

A mapping is validated once (pydantic, errors naming the field) and compiled once into plain
closures, so normalising a reading costs a few dictionary lookups and multiply-adds, never a
model validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from supplyline.kernel.errors import FieldError, Invalid
from supplyline.telemetry.ingest.canonical import parse_canonical
from supplyline.telemetry.mapping.paths import Bases, Getter, Keys, Located, getter, join, keys_of, walk
from supplyline.telemetry.mapping.timestamps import Parser, format_error, timestamp_parser, zone_error
from supplyline.telemetry.metrics import (
    CANONICAL_METRICS,
    ConversionError,
    Converter,
    Metric,
    UnknownMetric,
    converter,
    describe,
)
from supplyline.telemetry.model import MappingError, NormalizedReading

__all__ = [
    "MappingError",
    "NormalizedReading",
    "PayloadMappingSpec",
    "compile_mapping",
    "mapping_errors",
    "parse_canonical",
]

Base = Literal["reading", "parent", "envelope"]
Normalizer = Callable[[Any], list[NormalizedReading]]
PATH = r"^[^.]+(\.[^.]+)*$"
_BASES: dict[str, int] = {"reading": 0, "parent": 1, "envelope": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class ValueRef(_Strict):
    path: str = Field(
        pattern=PATH, max_length=300, description="Dotted path; integer segments index lists: gps.0"
    )
    relative_to: Base = Field(
        default="reading",
        description="Where the path starts: the reading, the element holding the readings list "
        "(a sensor in a gateway envelope), or the whole payload.",
    )


class TimestampRef(ValueRef):
    format: str = Field(default="iso8601", description="epoch_s, epoch_ms, iso8601 or strftime:<format>")
    timezone: str | None = Field(
        default=None, description="IANA zone of times without an offset (default UTC)"
    )

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        reason = format_error(value)
        if reason:
            raise ValueError(reason)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None, info: ValidationInfo) -> str | None:
        reason = zone_error(info.data.get("format", "iso8601"), value) if value is not None else None
        if reason:
            raise ValueError(reason)
        return value


class ReadingsRef(_Strict):
    path: str = Field(
        pattern=PATH,
        max_length=300,
        description="Path to the list of readings; * iterates an outer list: sensors.*.samples",
    )

    @field_validator("path")
    @classmethod
    def _lists(cls, value: str) -> str:
        # Parent and envelope are then always objects, so relative paths always have a base.
        segments = value.split(".")
        if segments[0] == "*" or any(a == b == "*" for a, b in pairwise(segments)):
            raise ValueError("each * must follow the name of a list inside an object: sensors.*.samples")
        return value


class FieldMap(ValueRef):
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Canonical or profile metric")
    unit: str | None = Field(default=None, max_length=32, description="The vendor's unit, if not canonical")
    values: dict[str, float | bool] | None = Field(
        default=None, description='Raw value -> canonical value: {"OPEN": 1, "CLOSED": 0}'
    )

    @field_validator("values")
    @classmethod
    def _values(cls, value: dict[str, float | bool] | None, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("unit") is not None:
            raise ValueError("values give canonical values directly; drop unit or values")
        if value is not None and not value:
            raise ValueError("an empty value map would refuse every value")
        return value


class PayloadMappingSpec(_Strict):
    """Where a vendor's payload carries the device, time, sequence and each metric."""

    device: ValueRef
    timestamp: TimestampRef
    seq: ValueRef | None = None
    readings: ReadingsRef | None = None
    fields: list[FieldMap] = Field(min_length=1, max_length=200)


def mapping_errors(spec: PayloadMappingSpec, metrics: Mapping[str, Metric] | None = None) -> list[FieldError]:
    """Why ``spec`` does not compile, each error named by its path in the spec.

    With ``metrics=None`` the device profile is not known yet (a mapping stored on its own):
    canonical metrics are checked in full, other names are left for ``compile_mapping`` against
    the profile's metric set.
    """
    _, errors = _plan_fields(spec, metrics)
    return errors


Plan = tuple[int, Keys, str, str, Converter]


def _plan_fields(
    spec: PayloadMappingSpec, metrics: Mapping[str, Metric] | None
) -> tuple[list[Plan], list[FieldError]]:
    plans: list[Plan] = []
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    for i, f in enumerate(spec.fields):
        at = f"fields.{i}."
        if f.metric in first:
            errors.append(
                FieldError(f"{at}metric", f"{f.metric} is already mapped by fields.{first[f.metric]}")
            )
            continue
        first[f.metric] = i
        try:
            conv = (
                _values_converter(f, metrics)
                if f.values is not None
                else converter(f.unit, f.metric, metrics)
            )
        except UnknownMetric as exc:
            if metrics is None:
                continue  # checked once the device profile is known
            errors.append(FieldError(f"{at}metric", exc.errors[0].reason))
            continue
        except Invalid as exc:
            errors += [FieldError(f"{at}{e.field}", e.reason) for e in exc.errors]
            continue
        plans.append((_BASES[f.relative_to], keys_of(f.path), f.path, f.metric, conv))
    return plans, errors


def _values_converter(f: FieldMap, metrics: Mapping[str, Metric] | None) -> Converter:
    target = (CANONICAL_METRICS if metrics is None else metrics).get(f.metric)
    if target is None:
        raise UnknownMetric(f.metric, "metric")
    table = {key: float(v) for key, v in (f.values or {}).items()}
    if target.kind == "boolean":
        bad = [k for k, v in table.items() if v not in (0.0, 1.0)]
        if bad:
            raise Invalid(f"values.{bad[0]}", f"{f.metric} is a boolean: map to 1 or 0")
    shown = ", ".join(sorted(table)[:10])

    def convert(value: Any) -> float:
        found = table.get(value if type(value) is str else _json_text(value))
        if found is None:
            raise ConversionError(f"{describe(value)} is not one of {shown}")
        return found

    return convert


def _json_text(value: Any) -> str:
    """A non-string raw value as JSON writes it, so ``{"1": ...}`` matches the number 1."""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else ""


def compile_mapping(spec: PayloadMappingSpec, metrics: Mapping[str, Metric] | None = None) -> Normalizer:
    """Compile ``spec`` into ``payload -> [NormalizedReading]``; ``metrics`` defaults to canonical.

    Pass a profile's ``metric_set`` to map its own metrics. Raises ``Invalid`` (fields named
    ``fields.<i>.<field>``) for a spec that cannot work; the returned function raises
    ``MappingError`` naming the path of the first bad value in a payload.
    """
    plans, errors = _plan_fields(spec, metrics if metrics is not None else CANONICAL_METRICS)
    if errors:
        raise Invalid.many(errors)
    one = _reading(spec, plans)
    if spec.readings is None:

        def single(payload: Any) -> list[NormalizedReading]:
            if type(payload) is not dict:
                raise MappingError("body", f"expected a JSON object, got {describe(payload)}")
            try:
                return [one((payload, payload, payload))]
            except Located as exc:
                raise MappingError(exc.path, exc.reason) from None

        return single
    return _many(spec.readings.path, one)


def _reading(spec: PayloadMappingSpec, plans: list[Plan]) -> Callable[[Bases], NormalizedReading]:
    def ref(r: ValueRef) -> tuple[int, Getter, str]:
        base = _BASES[r.relative_to]
        return base, getter(keys_of(r.path), base), r.path

    dev_base, get_device, dev_path = ref(spec.device)
    ts_base, get_ts, ts_path = ref(spec.timestamp)
    parse_ts: Parser = timestamp_parser(spec.timestamp.format, spec.timestamp.timezone)
    seq_base, get_seq, seq_path = ref(spec.seq) if spec.seq else (0, None, "")
    # A one-segment path is a plain dict lookup (every base is a dict): the common case, inlined.
    fields = [
        (b, keys[0][0] if len(keys) == 1 and keys[0][1] is None else None, getter(keys, b), path, m, c)
        for b, keys, path, m, c in plans
    ]

    def one(bases: Bases) -> NormalizedReading:
        device = get_device(bases[dev_base])
        if type(device) is not str or not device:
            device = _device(device, dev_base, dev_path)
        raw_ts = get_ts(bases[ts_base])
        if raw_ts is None:
            raise Located(ts_base, ts_path, "missing: a reading needs the time it was measured")
        try:
            ts_ms = parse_ts(raw_ts)
        except ConversionError as exc:
            raise Located(ts_base, ts_path, str(exc)) from None
        n = None
        if get_seq is not None:
            n = get_seq(bases[seq_base])
            if n is not None and type(n) is not int:
                raise Located(seq_base, seq_path, f"expected an integer, got {describe(n)}")
        metrics: dict[str, float] = {}
        for base, key, get, path, name, conv in fields:
            value = bases[base].get(key) if key is not None else get(bases[base])
            if value is not None:
                try:
                    metrics[name] = conv(value)
                except ConversionError as exc:
                    raise Located(base, path, str(exc)) from None
        return NormalizedReading(device, ts_ms, n, metrics)

    return one


def _device(value: Any, base: int, path: str) -> str:
    """Device codes are strings; some vendors send numeric ids (an IMEI), taken as their digits."""
    if type(value) is int:
        return str(value)
    if value is None:
        raise Located(base, path, "missing: a reading needs its device")
    raise Located(base, path, f"expected a device code (a string), got {describe(value)}")


def _many(path: str, one: Callable[[Bases], NormalizedReading]) -> Normalizer:
    """Payloads carrying lists of readings, possibly nested (a list of samples per sensor)."""
    levels = [p.strip(".") for p in f".{path}.".split(".*.") if p.strip(".")]
    level_keys = [keys_of(p) for p in levels]
    last = len(levels) - 1

    def where(trail: tuple[int, ...]) -> str:
        return ".".join(f"{text}.{i}" for text, i in zip(levels, trail, strict=False))

    def expand(
        obj: dict[str, Any], envelope: dict[str, Any], trail: tuple[int, ...], out: list[NormalizedReading]
    ) -> None:
        depth = len(trail)
        try:
            items = walk(obj, level_keys[depth], 0)
        except Located as exc:
            raise MappingError(join(where(trail), exc.path), exc.reason) from None
        if type(items) is not list:
            reason = (
                "missing: expected the list of readings"
                if items is None
                else f"expected a list, got {describe(items)}"
            )
            raise MappingError(join(where(trail), levels[depth]), reason)
        for i, item in enumerate(items):
            if type(item) is not dict:
                raise MappingError(where((*trail, i)), f"expected an object, got {describe(item)}")
            if depth < last:
                expand(item, envelope, (*trail, i), out)
                continue
            try:
                out.append(one((item, obj, envelope)))
            except Located as exc:
                prefix = (where((*trail, i)), where(trail), "")[exc.base]
                raise MappingError(join(prefix, exc.path), exc.reason) from None

    def normalize(payload: Any) -> list[NormalizedReading]:
        if type(payload) is not dict:
            raise MappingError("body", f"expected a JSON object, got {describe(payload)}")
        out: list[NormalizedReading] = []
        expand(payload, payload, (), out)
        return out

    return normalize
