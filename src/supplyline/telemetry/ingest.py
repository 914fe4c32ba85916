"""From signed bytes to stored readings: verify, parse, authorise, flag, then group-commit.

Everything here runs per request on the event loop; the write itself happens in the single
writer. Per reading the work is a dict parse and a few lookups, so a batch of 1,000 readings
costs a few milliseconds before it is queued.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from supplyline.kernel.errors import Invalid, PayloadTooLarge, Unauthorized
from supplyline.kernel.events import NewEvent
from supplyline.telemetry.canonical import parse_canonical
from supplyline.telemetry.codec import Columns
from supplyline.telemetry.credentials import DeviceIdentity
from supplyline.telemetry.directory import DeviceDirectory, DeviceInfo
from supplyline.telemetry.events import CLOCK_SKEW_DETECTED, IMPLAUSIBLE_VALUE
from supplyline.telemetry.metrics import plausibility
from supplyline.telemetry.model import MappingError, NormalizedReading
from supplyline.telemetry.writer import Rejection, Submission, TelemetryWriter

Flag = tuple[str, float, str]  # metric, value, reason
Checker = Callable[[dict[str, float]], list[Flag]]


@dataclass(frozen=True)
class RejectedReading:
    index: int
    device: str | None
    reason: str


@dataclass
class IngestResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[RejectedReading] = field(default_factory=list)
    flagged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": len(self.rejected),
            "flagged": self.flagged,
            "rejections": [{"index": r.index, "device": r.device, "reason": r.reason} for r in self.rejected],
        }


class TelemetryIngest:
    def __init__(
        self,
        directory: DeviceDirectory,
        writer: TelemetryWriter,
        *,
        max_batch: int,
        skew_threshold_s: float,
    ) -> None:
        self.directory = directory
        self.writer = writer
        self.max_batch = max_batch
        self.skew_threshold_ms = int(skew_threshold_s * 1000)
        self._checkers: dict[tuple[uuid.UUID, uuid.UUID], Checker] = {}
        self._skew_reported: dict[uuid.UUID, float] = {}

    async def reject(self, identity: DeviceIdentity, reason: str, detail: str) -> None:
        """Count a refused message against the device that sent it; nothing else is written."""
        empty = Columns([], np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64), {})
        await self.writer.submit(
            Submission(identity.tenant_id, empty, rejections=[Rejection(identity.code, reason, detail)])
        )

    async def ingest(self, identity: DeviceIdentity, body: bytes, signature: str | None) -> IngestResult:
        """Verify the signature over the exact bytes, then store what may be stored."""
        if not identity.secrets:
            await self.reject(identity, "revoked", "credential revoked or expired")
            raise Unauthorized("device credential revoked or expired")
        if not identity.signed(body, signature):
            await self.reject(identity, "bad_signature", "X-Signature does not match the payload")
            raise Unauthorized("the signature does not match the payload (HMAC-SHA256 of the exact body)")
        try:
            items = _readings_of(orjson.loads(body))
        except (orjson.JSONDecodeError, Invalid) as exc:
            detail = exc.detail if isinstance(exc, Invalid) else f"not JSON: {exc}"
            await self.reject(identity, "malformed", detail)
            if isinstance(exc, Invalid):
                raise
            raise Invalid("body", detail) from None
        if len(items) > self.max_batch:
            raise PayloadTooLarge(f"{len(items)} readings in one message; the limit is {self.max_batch}")
        return await self._store(identity, items)

    async def _store(self, identity: DeviceIdentity, items: list[Any]) -> IngestResult:
        tenant = identity.tenant_id
        devices = await self.directory.devices(tenant)
        result = IngestResult()
        rejections: list[Rejection] = []
        readings: list[tuple[NormalizedReading, DeviceInfo]] = []
        flags: dict[tuple[uuid.UUID, str], list[Any]] = {}
        skewed: dict[uuid.UUID, tuple[DeviceInfo, int]] = {}
        now_ms = int(time.time() * 1000)
        for i, item in enumerate(items):
            try:
                reading = parse_canonical(item)
            except MappingError as exc:
                code = item.get("device") if isinstance(item, dict) else None
                self._refuse(
                    result, rejections, i, code if isinstance(code, str) else None, str(exc.detail), identity
                )
                continue
            info = devices.get(reading.device) or await self.directory.device(tenant, reading.device)
            reason = _refusal(identity, reading, info)
            if reason is None and info is not None:
                checker = await self._checker(tenant, info)
                try:
                    found = checker(reading.metrics)
                except Invalid as exc:
                    reason = exc.detail
                else:
                    for metric, value, why in found:
                        entry = flags.setdefault((info.id, metric), [info, value, why, reading.ts_ms, 0])
                        entry[4] += 1
                    result.flagged += bool(found)
            if reason is not None or info is None:
                self._refuse(result, rejections, i, reading.device, reason or "unknown device", identity)
                continue
            if reading.ts_ms - now_ms > self.skew_threshold_ms:
                skewed[info.id] = (info, reading.ts_ms - now_ms)
            readings.append((reading, info))
        events = [
            _implausible(tenant, info, metric, value, why, ts, n)
            for (_, metric), (info, value, why, ts, n) in flags.items()
        ]
        events += [_skew(tenant, info, ms) for info, ms in skewed.values() if self._first_skew(info.id)]
        cols = _columns(readings)
        keep = await self.writer.submit(
            Submission(
                tenant,
                cols,
                events=events,
                rejections=rejections,
                codes={info.id: info.code for _, info in readings},
            )
        )
        result.accepted = int(keep.sum())
        result.duplicate = len(keep) - result.accepted
        return result

    def _refuse(
        self,
        result: IngestResult,
        rejections: list[Rejection],
        index: int,
        code: str | None,
        reason: str,
        identity: DeviceIdentity,
    ) -> None:
        result.rejected.append(RejectedReading(index, code, reason))
        rejections.append(Rejection(code or identity.code, reason.split(":")[0][:64], reason))

    async def _checker(self, tenant: uuid.UUID, info: DeviceInfo) -> Checker:
        key = (tenant, info.profile_id)
        checker = self._checkers.get(key)
        if checker is None:
            profile = await self.directory.profile(tenant, info.profile_id)
            checker = plausibility(list(profile.metrics) if profile else [])
            self._checkers[key] = checker
        return checker

    def _first_skew(self, device: uuid.UUID) -> bool:
        """Report a skewed clock once an hour per device, not on every message."""
        last = self._skew_reported.get(device)
        if last is not None and time.monotonic() - last < 3600:
            return False
        self._skew_reported[device] = time.monotonic()
        return True

    def invalidate(self) -> None:
        self._checkers.clear()


def _readings_of(obj: Any) -> list[Any]:
    if isinstance(obj, dict) and "readings" in obj:
        extra = set(obj) - {"readings", "gateway"}
        if extra:
            raise Invalid(sorted(extra)[0], "unknown field of a batch (expected readings, gateway)")
        items = obj["readings"]
        if not isinstance(items, list):
            raise Invalid("readings", "must be a list of readings")
        return items
    if isinstance(obj, dict):
        return [obj]
    if isinstance(obj, list):
        return obj
    raise Invalid("body", 'expected a reading, a list of readings or {"readings": [...]}')


def _refusal(identity: DeviceIdentity, reading: NormalizedReading, info: DeviceInfo | None) -> str | None:
    if info is None:
        return f"unknown device: no device '{reading.device}' in this tenant"
    if not info.active:
        return f"inactive device: '{reading.device}' is retired, inactive or archived"
    if info.id != identity.device_id and not (
        identity.kind == "gateway" and info.gateway_id == identity.device_id
    ):
        return f"not authorised: '{identity.code}' may not publish for '{reading.device}'"
    return None


def _columns(readings: list[tuple[NormalizedReading, DeviceInfo]]) -> Columns:
    index: dict[uuid.UUID, int] = {}
    dev = [index.setdefault(info.id, len(index)) for _, info in readings]
    names = sorted({m for r, _ in readings for m in r.metrics})
    nan = math.nan
    return Columns(
        list(index),
        np.array(dev, dtype=np.int32),
        np.array([r.ts_ms for r, _ in readings], dtype=np.int64),
        np.array([-1 if r.seq is None else r.seq for r, _ in readings], dtype=np.int64),
        {m: np.array([r.metrics.get(m, nan) for r, _ in readings], dtype=np.float64) for m in names},
    )


def _at(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat()


def _implausible(
    tenant: uuid.UUID, info: DeviceInfo, metric: str, value: float, reason: str, ts_ms: int, count: int
) -> NewEvent:
    return NewEvent(
        type=IMPLAUSIBLE_VALUE.type,
        tenant_id=tenant,
        subject=f"devices/{info.id}",
        source="/supplyline/telemetry",
        data={
            "device_id": str(info.id),
            "code": info.code,
            "metric": metric,
            "value": value,
            "reason": reason,
            "at": _at(ts_ms),
            "count": count,
        },
    )


def _skew(tenant: uuid.UUID, info: DeviceInfo, skew_ms: int) -> NewEvent:
    return NewEvent(
        type=CLOCK_SKEW_DETECTED.type,
        tenant_id=tenant,
        subject=f"devices/{info.id}",
        source="/supplyline/telemetry",
        data={"device_id": str(info.id), "code": info.code, "skew_s": skew_ms / 1000},
    )
