"""From signed bytes to stored readings: verify, parse, authorise, flag, then group-commit.

Everything here runs per request on the event loop; the write itself happens in the single
writer. Per reading the work is a dict parse and a few lookups, so a batch of 1,000 readings
costs a few milliseconds before it is queued.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from supplyline.kernel.errors import DomainError, Invalid, PayloadTooLarge, QuotaExceeded, Unauthorized
from supplyline.kernel.events import NewEvent
from supplyline.telemetry.devices.credentials import DeviceIdentity
from supplyline.telemetry.devices.directory import DeviceDirectory, DeviceInfo, ProfileInfo
from supplyline.telemetry.events import CLOCK_SKEW_DETECTED, IMPLAUSIBLE_VALUE
from supplyline.telemetry.ingest.batching import Batcher
from supplyline.telemetry.ingest.canonical import parse_canonical
from supplyline.telemetry.ingest.checks import check_columns
from supplyline.telemetry.ingest.fastpath import decode_fast
from supplyline.telemetry.mapping.formats import VendorFormats
from supplyline.telemetry.metrics import Metric, metric_set
from supplyline.telemetry.model import MappingError, NormalizedReading
from supplyline.telemetry.storage.codec import Columns
from supplyline.telemetry.storage.writer import Rejection, Submission, TelemetryWriter


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


# Who sent it, the exact bytes, the signature, and the correlation id of the request that
# carried it (None: events name the reading itself, device code @ its time).
Message = tuple[DeviceIdentity, bytes, str | None, str | None]
_MetricSet = tuple[ProfileInfo | None, dict[str, Metric]]  # the profile it was built from, and it
# (tenant, readings in a message) -> None, or raises QuotaExceeded: the tenant's readings/s quota.
AdmitReadings = Callable[[uuid.UUID, int], Awaitable[None]]


@dataclass
class _Accepted:
    """One message on its way: its answer so far, or why it was refused as a whole."""

    identity: DeviceIdentity
    correlation_id: str | None = None
    result: IngestResult = field(default_factory=IngestResult)
    rows: list[tuple[int, NormalizedReading, DeviceInfo]] = field(default_factory=list)
    error: DomainError | None = None


class TelemetryIngest:
    def __init__(
        self,
        directory: DeviceDirectory,
        writer: TelemetryWriter,
        *,
        max_batch: int,
        skew_threshold_s: float,
        formats: VendorFormats | None = None,
        admit: AdmitReadings | None = None,
    ) -> None:
        self.directory = directory
        self.admit = admit
        self.formats = formats if formats is not None else VendorFormats(directory.engine)
        self.writer = writer
        self.max_batch = max_batch
        self.skew_threshold_ms = int(skew_threshold_s * 1000)
        self._metric_sets: dict[
            tuple[uuid.UUID, uuid.UUID], tuple[ProfileInfo | None, dict[str, Metric]]
        ] = {}
        self._skew_reported: dict[uuid.UUID, float] = {}
        # A few MB of bodies per call: enough to amortise the checks and the commit, not so much
        # that one call holds the event loop for long.
        self._batcher: Batcher[uuid.UUID, Message, IngestResult | DomainError] = Batcher(
            self.ingest_many, weight=lambda m: len(m[1]), max_weight=4 << 20
        )

    async def ingest(
        self, identity: DeviceIdentity, body: bytes, signature: str | None, correlation_id: str | None = None
    ) -> IngestResult:
        """Verify the signature over the exact bytes, then store what may be stored.

        Concurrent messages are ingested together (``ingest_many``); each gets its own answer.
        Raises what refused the message as a whole (bad signature, malformed, too large)."""
        out = await self._batcher.submit(identity.tenant_id, (identity, body, signature, correlation_id))
        if isinstance(out, DomainError):
            raise out
        return out

    async def close(self) -> None:
        await self._batcher.close()

    async def ingest_many(
        self, tenant: uuid.UUID, messages: Sequence[Message]
    ) -> list[IngestResult | DomainError]:
        """Many messages of one tenant as one columnar batch and one writer submission.

        Each message keeps its own answer; a message refused as a whole gets the error instead.
        Per-message cost is a signature check and a decode; the checks and the write are paid
        once per call, which is what lets the MQTT bridge keep up with one reading a message.
        """
        rejections: list[Rejection] = []
        devices = await self.directory.devices(tenant)
        accepted = []
        for identity, body, signature, correlation_id in messages:
            if identity.tenant_id != tenant:
                raise ValueError("ingest_many takes the messages of one tenant")
            acc = await self._accept(identity, body, signature, devices, rejections)
            acc.correlation_id = correlation_id
            accepted.append(acc)
        await self._store(tenant, accepted, rejections)
        return [a.error if a.error is not None else a.result for a in accepted]

    async def _accept(
        self,
        identity: DeviceIdentity,
        body: bytes,
        signature: str | None,
        devices: dict[str, DeviceInfo],
        rejections: list[Rejection],
    ) -> _Accepted:
        """Authenticate, parse and authorise one message; nothing is written yet."""
        acc = _Accepted(identity)
        if not identity.secrets:
            rejections.append(Rejection(identity.code, "revoked", "credential revoked or expired"))
            acc.error = Unauthorized("device credential revoked or expired")
            return acc
        if not identity.signed(body, signature):
            rejections.append(
                Rejection(identity.code, "bad_signature", "X-Signature does not match the payload")
            )
            acc.error = Unauthorized(
                "the signature does not match the payload (HMAC-SHA256 of the exact body)"
            )
            return acc
        try:
            parsed = await self._parse(identity, body, acc.result, rejections)
        except Invalid as exc:
            rejections.append(Rejection(identity.code, "malformed", exc.detail))
            acc.error = exc
            return acc
        if len(parsed) + len(acc.result.rejected) > self.max_batch:
            n = len(parsed) + len(acc.result.rejected)
            acc.error = PayloadTooLarge(f"{n} readings in one message; the limit is {self.max_batch}")
            return acc
        if self.admit is not None:
            # Over the tenant's readings/s the message is refused whole, before anything of it
            # is kept: an HTTP sender gets 429, an MQTT message becomes a dead letter.
            try:
                await self.admit(identity.tenant_id, len(parsed))
            except QuotaExceeded as exc:
                acc.error = exc
                return acc
        await self._authorise(acc, parsed, devices, rejections)
        return acc

    async def _parse(
        self, identity: DeviceIdentity, body: bytes, result: IngestResult, rejections: list[Rejection]
    ) -> list[tuple[int, NormalizedReading]]:
        """The readings of a message, each with its index in it; raises Invalid for a bad body.

        A reading that cannot be parsed is refused on its own (``result``, ``rejections``).
        A sender whose device profile names a vendor payload mapping is read through it instead,
        and the first bad value refuses the whole message."""
        vendor = await self.directory.vendor_profile(identity.tenant_id, identity.device_id)
        if vendor is not None:
            return list(enumerate(await self.formats.normalise(identity.tenant_id, vendor, body)))
        fast = decode_fast(body)
        if fast is not None:
            return list(enumerate(fast))
        return self._parse_carefully(identity, body, result, rejections)

    def _parse_carefully(
        self, identity: DeviceIdentity, body: bytes, result: IngestResult, rejections: list[Rejection]
    ) -> list[tuple[int, NormalizedReading]]:
        """Reading by reading, so that each refusal names its reading and field."""
        try:
            items = _readings_of(orjson.loads(body))
        except orjson.JSONDecodeError as exc:
            raise Invalid("body", f"not JSON: {exc}") from None
        parsed = []
        for i, item in enumerate(items):
            try:
                parsed.append((i, parse_canonical(item)))
            except MappingError as exc:
                code = item.get("device") if isinstance(item, dict) else None
                _refuse(
                    result, rejections, i, code if isinstance(code, str) else None, str(exc.detail), identity
                )
        return parsed

    async def _authorise(
        self,
        acc: _Accepted,
        parsed: list[tuple[int, NormalizedReading]],
        devices: dict[str, DeviceInfo],
        rejections: list[Rejection],
    ) -> None:
        """Keep the readings of known, active devices the sender may publish for."""
        identity = acc.identity
        tenant = identity.tenant_id
        allowed = await self.directory.publishable(tenant, identity.device_id, identity.code)
        for i, reading in parsed:
            code = reading.device
            info = devices.get(code)
            if info is not None and info.active and code in allowed:
                acc.rows.append((i, reading, info))
                continue
            info = info or await self.directory.device(tenant, code)
            reason = _refusal(identity, reading, info, allowed)
            if reason is None and info is not None:
                acc.rows.append((i, reading, info))
            else:
                _refuse(acc.result, rejections, i, code, reason or "unknown device", identity)

    async def _store(self, tenant: uuid.UUID, accepted: list[_Accepted], rejections: list[Rejection]) -> None:
        """Check every kept reading together, submit them in one go, and answer each message."""
        kept = [row for acc in accepted for row in acc.rows]
        owner = np.repeat(np.arange(len(accepted), dtype=np.int32), [len(acc.rows) for acc in accepted])
        cols, infos = _columns(kept)
        checked = check_columns(cols, *await self._profiles(tenant, cols, infos))
        flagged = checked.flagged
        if checked.refused:
            keep = np.ones(len(cols), dtype=np.bool_)
            for row, reason in sorted(checked.refused.items()):
                keep[row] = False
                i, reading, _ = kept[row]
                acc = accepted[int(owner[row])]
                _refuse(acc.result, rejections, i, reading.device, reason, acc.identity)
            cols, owner, flagged = cols.take(keep), owner[keep], flagged[keep]
        events = [
            _implausible(tenant, kept[row][2], metric, value, why, kept[row][1].ts_ms, n)
            for row, metric, value, why, n in checked.flags
        ]
        events += self._skews(tenant, cols, infos)
        correlations = {
            info.id: acc.correlation_id
            for acc in accepted
            if acc.correlation_id is not None
            for _, _, info in acc.rows
        }
        stored = await self.writer.submit(
            Submission(
                tenant,
                cols,
                events=events,
                rejections=rejections,
                codes={i.id: i.code for i in infos},
                correlations=correlations,
            )
        )
        n = len(accepted)
        per_accepted = np.bincount(owner[stored], minlength=n).tolist()
        per_total = np.bincount(owner, minlength=n).tolist()
        per_flagged = np.bincount(owner[flagged], minlength=n).tolist()
        for k, acc in enumerate(accepted):
            acc.result.accepted = per_accepted[k]
            acc.result.duplicate = per_total[k] - per_accepted[k]
            acc.result.flagged = per_flagged[k]

    async def _profiles(
        self, tenant: uuid.UUID, cols: Columns, infos: list[DeviceInfo]
    ) -> tuple[dict[int, npt.NDArray[np.bool_]], dict[int, dict[str, Metric]]]:
        """Which rows belong to which profile, and each profile's metrics."""
        profile_ids = [info.profile_id for info in infos]
        distinct = list(dict.fromkeys(profile_ids))
        of_device = np.array([distinct.index(p) for p in profile_ids], dtype=np.int32)
        rows = of_device[cols.device_idx] if len(cols) else np.zeros(0, np.int32)
        profile_rows = {k: rows == k for k in range(len(distinct))}
        return profile_rows, {k: await self._metric_set(tenant, p) for k, p in enumerate(distinct)}

    async def _metric_set(self, tenant: uuid.UUID, profile_id: uuid.UUID) -> dict[str, Metric]:
        """The profile's metrics, rebuilt when the directory hands over a changed profile."""
        key = (tenant, profile_id)
        profile = await self.directory.profile(tenant, profile_id)
        found = self._metric_sets.get(key)
        if found is None or found[0] is not profile:
            found = self._metric_sets[key] = (profile, metric_set(list(profile.metrics) if profile else []))
        return found[1]

    def _skews(self, tenant: uuid.UUID, cols: Columns, infos: list[DeviceInfo]) -> list[NewEvent]:
        """A clock ahead of ours by more than the threshold, reported once an hour per device."""
        ahead = cols.ts_ms - int(time.time() * 1000)
        rows = np.flatnonzero(ahead > self.skew_threshold_ms)
        events = []
        for idx in np.unique(cols.device_idx[rows]).tolist():
            device = cols.devices[idx]
            if self._first_skew(device):
                worst = int(ahead[rows][cols.device_idx[rows] == idx].max())
                events.append(_skew(tenant, infos[idx], worst))
        return events

    def _first_skew(self, device: uuid.UUID) -> bool:
        """Report a skewed clock once an hour per device, not on every message."""
        last = self._skew_reported.get(device)
        if last is not None and time.monotonic() - last < 3600:
            return False
        self._skew_reported[device] = time.monotonic()
        return True

    def invalidate(self) -> None:
        self._metric_sets.clear()


def _refuse(
    result: IngestResult,
    rejections: list[Rejection],
    index: int,
    code: str | None,
    reason: str,
    identity: DeviceIdentity,
) -> None:
    result.rejected.append(RejectedReading(index, code, reason))
    rejections.append(Rejection(code or identity.code, reason.split(":")[0][:64], reason))


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


def _refusal(
    identity: DeviceIdentity, reading: NormalizedReading, info: DeviceInfo | None, allowed: frozenset[str]
) -> str | None:
    if info is None:
        return f"unknown device: no device '{reading.device}' in this tenant"
    if not info.active:
        return f"inactive device: '{reading.device}' is retired, inactive or archived"
    if reading.device not in allowed:
        return f"not authorised: '{identity.code}' may not publish for '{reading.device}'"
    return None


def _columns(kept: list[tuple[int, NormalizedReading, DeviceInfo]]) -> tuple[Columns, list[DeviceInfo]]:
    """Columns of the kept readings, and the device of each device index (keyed by code:
    str hashes are cached, UUID hashes are recomputed on every lookup)."""
    index: dict[str, int] = {}
    infos: list[DeviceInfo] = []
    dev = []
    for _, r, info in kept:
        k = index.get(r.device)
        if k is None:
            k = index[r.device] = len(infos)
            infos.append(info)
        dev.append(k)
    names = sorted({m for _, r, _ in kept for m in r.metrics})
    nan = math.nan
    cols = Columns(
        [info.id for info in infos],
        np.array(dev, dtype=np.int32),
        np.array([r.ts_ms for _, r, _ in kept], dtype=np.int64),
        np.array([-1 if r.seq is None else r.seq for _, r, _ in kept], dtype=np.int64),
        {m: np.array([r.metrics.get(m, nan) for _, r, _ in kept], dtype=np.float64) for m in names},
    )
    return cols, infos


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
