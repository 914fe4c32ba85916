"""Events telemetry publishes: only what matters downstream, never one per reading."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from supplyline.kernel.events import EventType


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialIssued(_Event):
    device_id: uuid.UUID
    credential_id: uuid.UUID
    prefix: str
    previous_expire_at: datetime


class CredentialRevoked(_Event):
    device_id: uuid.UUID
    revoked: int


class DeviceFirstSeen(_Event):
    device_id: uuid.UUID
    code: str
    first_reading_at: datetime


class DeviceWentSilent(_Event):
    device_id: uuid.UUID
    code: str
    last_seen_at: datetime
    silent_for_s: float


class ImplausibleValue(_Event):
    device_id: uuid.UUID
    code: str
    metric: str
    value: float
    reason: str
    at: datetime
    count: int


class ClockSkewDetected(_Event):
    device_id: uuid.UUID
    code: str
    skew_s: float


class TelemetryPurged(_Event):
    readings: int
    at: datetime


CREDENTIAL_ISSUED = EventType(
    "device.credential_issued", 1, CredentialIssued, "A device got a new credential."
)
CREDENTIAL_REVOKED = EventType(
    "device.credential_revoked", 1, CredentialRevoked, "A device's credentials were revoked."
)
DEVICE_FIRST_SEEN = EventType(
    "device.first_seen", 1, DeviceFirstSeen, "A device sent its first accepted reading."
)
DEVICE_WENT_SILENT = EventType("device.went_silent", 1, DeviceWentSilent, "A device stopped reporting.")
IMPLAUSIBLE_VALUE = EventType(
    "telemetry.implausible_value",
    1,
    ImplausibleValue,
    "Readings outside the profile's plausible range (stored, flagged).",
)
CLOCK_SKEW_DETECTED = EventType(
    "device.clock_skew_detected", 1, ClockSkewDetected, "A device's clock is off."
)

TELEMETRY_PURGED = EventType(
    "telemetry.purged", 1, TelemetryPurged, "Telemetry past its retention was deleted."
)

EVENT_TYPES = [
    TELEMETRY_PURGED,
    CREDENTIAL_ISSUED,
    CREDENTIAL_REVOKED,
    DEVICE_FIRST_SEEN,
    DEVICE_WENT_SILENT,
    IMPLAUSIBLE_VALUE,
    CLOCK_SKEW_DETECTED,
]
