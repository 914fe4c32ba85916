"""Vendor payloads on the ingest path: the mapping a device profile names, loaded and compiled once.

A mapping version never changes once stored (code, version and spec are immutable), so its spec
is cached until ``invalidate``. The compiled normaliser also depends on the profile's metrics
(profile-declared metrics map too), which may change: it is kept with the profile it was built
for and rebuilt when the directory hands over a different one.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from supplyline.kernel.errors import FieldError, Invalid
from supplyline.kernel.scope import Scope
from supplyline.resources import ResourceSpec, Validator, scoped
from supplyline.telemetry.devices.directory import MappingRef, ProfileInfo
from supplyline.telemetry.mapping.compiler import Normalizer, PayloadMappingSpec, compile_mapping
from supplyline.telemetry.metrics import Metric, metric_set
from supplyline.telemetry.model import MappingError, NormalizedReading
from supplyline.telemetry.tables import telemetry_payload_mapping

_SpecKey = tuple[uuid.UUID, str, int]  # tenant, code, version


class VendorFormats:
    """Normalises the payloads of senders whose device profile names a vendor payload mapping."""

    def __init__(self, engine: AsyncEngine, *, retry_missing_s: float = 1.0) -> None:
        self.engine = engine
        self.retry_missing_s = retry_missing_s
        self._specs: dict[_SpecKey, PayloadMappingSpec] = {}
        # A mapping not found is looked up again after retry_missing_s, not on every message.
        self._missing: dict[_SpecKey, float] = {}
        # (tenant, profile) -> the profile as compiled for, and the normaliser or why there is none
        self._compiled: dict[
            tuple[uuid.UUID, uuid.UUID], tuple[ProfileInfo, Normalizer | list[FieldError]]
        ] = {}

    def invalidate(self) -> None:
        self._specs.clear()
        self._missing.clear()
        self._compiled.clear()

    async def normalise(
        self, tenant_id: uuid.UUID, profile: ProfileInfo, body: bytes
    ) -> list[NormalizedReading]:
        """The readings of a vendor payload; raises Invalid naming the path of the first bad value."""
        normalize = await self.normaliser(tenant_id, profile)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise Invalid("body", f"not JSON: {exc}") from None
        try:
            return normalize(payload)
        except MappingError as exc:
            raise MappingError(exc.path, f"{exc.reason} (payload mapping {profile.mapping})") from None

    async def normaliser(self, tenant_id: uuid.UUID, profile: ProfileInfo) -> Normalizer:
        """The compiled mapping ``profile`` names; Invalid when it is missing or does not fit it."""
        key = (tenant_id, profile.id)
        found = self._compiled.get(key)
        if found is None or found[0] != profile:
            ref = profile.mapping
            if ref is None:
                raise ValueError(f"device profile {profile.id} names no payload mapping")
            spec = await self._spec(tenant_id, ref)
            if spec is None:  # not cached here: _spec looks again after retry_missing_s
                raise Invalid(
                    "payload_mapping",
                    f"device profile '{profile.code}' names payload mapping {ref}, which does not exist "
                    "in this tenant: create it (POST /v1/payload-mappings) or change the profile",
                )
            found = self._compiled[key] = (profile, compile_for(spec, ref, metric_set(profile.metrics)))
        if isinstance(found[1], list):
            raise Invalid.many(found[1])  # a new one each time: a re-raised exception grows its traceback
        return found[1]

    async def _spec(self, tenant_id: uuid.UUID, ref: MappingRef) -> PayloadMappingSpec | None:
        key = (tenant_id, ref.code, ref.version)
        spec = self._specs.get(key)
        if spec is not None:
            return spec
        missed = self._missing.get(key)
        if missed is not None and time.monotonic() - missed < self.retry_missing_s:
            return None
        m = telemetry_payload_mapping
        stmt = select(m.c.spec).where(
            m.c.tenant_id == tenant_id, m.c.code == ref.code, m.c.mapping_version == ref.version
        )
        async with self.engine.connect() as conn:
            raw = (await conn.execute(stmt)).scalar_one_or_none()
        if raw is None:
            self._missing[key] = time.monotonic()
            return None
        # An archived mapping still reads the payloads of the profiles naming it; new profiles
        # may not name it (``check_profile_mappings``).
        spec = self._specs[key] = PayloadMappingSpec.model_validate(raw)
        self._missing.pop(key, None)
        return spec


def compile_for(
    spec: PayloadMappingSpec, ref: MappingRef, metrics: Mapping[str, Metric]
) -> Normalizer | list[FieldError]:
    """The mapping compiled for a profile's metric set, or why it cannot be (a metric it lacks)."""
    try:
        return compile_mapping(spec, metrics)
    except Invalid as exc:
        return [
            FieldError(
                "payload_mapping", f"payload mapping {ref} does not fit the profile: {e.field}: {e.reason}"
            )
            for e in exc.errors
        ]


# ---- the check when a device profile is saved -------------------------------------------------

Errors = list[tuple[int, FieldError]]


async def check_profile_mappings(
    conn: AsyncConnection,
    scope: Scope,
    values: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any] | None],
) -> Errors:
    """A profile names a payload mapping of its tenant that exists and maps only metrics it knows.

    A newly named mapping may not be archived; a profile already naming one keeps it.
    """
    named = [
        (i, v, row) for i, (v, row) in enumerate(zip(values, rows, strict=True)) if v.get("payload_mapping")
    ]
    if not named:
        return []
    m = telemetry_payload_mapping
    stmt = scoped(select(m.c.code, m.c.mapping_version, m.c.spec, m.c.archived_at), m, scope).where(
        m.c.code.in_({v["payload_mapping"] for _, v, _ in named})
    )
    stored = {(r.code, r.mapping_version): r for r in await conn.execute(stmt)}
    errors: Errors = []
    for i, v, row in named:
        ref = MappingRef(v["payload_mapping"], v["payload_mapping_version"])
        found = stored.get((ref.code, ref.version))
        if found is None:
            errors.append((i, _missing(ref, sorted(ver for code, ver in stored if code == ref.code))))
            continue
        kept = row is not None and MappingRef(row["payload_mapping"], row["payload_mapping_version"]) == ref
        if found.archived_at is not None and not kept:
            errors.append((i, FieldError("payload_mapping", f"payload mapping {ref} is archived")))
            continue
        try:
            metrics = metric_set(v.get("metrics") or ())
        except Invalid as exc:  # the profile's own metrics are wrong: say so where they are
            errors += [(i, e) for e in exc.errors]
            continue
        compiled = compile_for(PayloadMappingSpec.model_validate(found.spec), ref, metrics)
        if not callable(compiled):
            errors += [(i, e) for e in compiled]
    return errors


def _missing(ref: MappingRef, versions: list[int]) -> FieldError:
    if not versions:
        return FieldError("payload_mapping", f"no payload mapping '{ref.code}' in this tenant")
    shown = ", ".join(str(v) for v in versions)
    return FieldError(
        "payload_mapping_version",
        f"payload mapping '{ref.code}' has no version {ref.version} (it has {shown})",
    )


def with_profile_mapping_check(specs: Sequence[ResourceSpec]) -> list[ResourceSpec]:
    """``specs`` with the device-profile resource checking its payload mapping when saved.

    The registry sits below telemetry and cannot see its tables; the composition root adds the
    check here, after the registry's own validation if it has one.
    """
    return [
        dataclasses.replace(spec, validate=_chained(spec.validate))
        if spec.name == "device-profiles"
        else spec
        for spec in specs
    ]


def _chained(first: Validator | None) -> Validator:
    if first is None:
        return check_profile_mappings

    async def validate(
        conn: AsyncConnection,
        scope: Scope,
        values: Sequence[dict[str, Any]],
        rows: Sequence[dict[str, Any] | None],
    ) -> Errors:
        return [
            *await first(conn, scope, values, rows),
            *await check_profile_mappings(conn, scope, values, rows),
        ]

    return validate
