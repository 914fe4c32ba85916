"""What a client sends to create registry entities; read and update shapes derive from these."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from supplyline.kernel.json import JsonObject

Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
Name = Field(min_length=1, max_length=200)

OrganizationKind = Literal["own", "carrier", "customer", "supplier", "service_provider", "oem"]
SiteKind = Literal["warehouse", "depot", "plant", "store", "cold_room", "partner_site"]
ZoneKind = Literal["ambient", "chilled", "frozen", "dock", "quarantine", "staging", "other"]
AssetKind = Literal["vehicle", "trailer", "container", "pallet", "equipment", "facility", "tote", "other"]
AssetStatus = Literal["active", "inactive", "maintenance", "retired"]
DeviceKind = Literal["tracker", "sensor", "gateway"]
DeviceStatus = Literal["provisioned", "active", "inactive", "retired"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class OrganizationIn(Strict):
    code: str = Code
    name: str = Name
    kind: OrganizationKind
    contact_email: EmailStr | None = None
    attributes: JsonObject = Field(default_factory=dict)


class RegionIn(Strict):
    code: str = Code
    name: str = Name
    description: str | None = Field(default=None, max_length=2000)


class Address(Strict):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    state: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1")


class SiteIn(Strict):
    code: str = Code
    name: str = Name
    kind: SiteKind
    region_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = Field(
        default=None, description="The organisation operating the site (a partner's site)."
    )
    address: Address | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180, validate_default=True)
    timezone: str = "UTC"
    attributes: JsonObject = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Europe/Paris") from None
        return value

    @field_validator("longitude")
    @classmethod
    def _both_coordinates(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "latitude" in info.data and (info.data["latitude"] is None) != (value is None):
            raise ValueError("latitude and longitude go together")
        return value


def not_before(earlier: str, what: str = "is before") -> Any:
    """A field validator: this field may not be below the (already validated) ``earlier`` one."""

    def check(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
        start = info.data.get(earlier)
        if value is not None and start is not None and value < start:
            raise ValueError(f"{what} {earlier}")
        return value

    return classmethod(check)


class StorageRange(Strict):
    storage_min_c: float | None = Field(default=None, ge=-100, le=100)
    storage_max_c: float | None = Field(default=None, ge=-100, le=100)

    _ordered = field_validator("storage_max_c")(not_before("storage_min_c", "is below"))


class ZoneIn(StorageRange):
    site_id: uuid.UUID
    code: str = Code
    name: str = Name
    kind: ZoneKind = "ambient"


class AssetTypeIn(Strict):
    code: str = Code
    name: str = Name
    kind: AssetKind
    attributes_schema: JsonObject = Field(
        default_factory=lambda: {"type": "object"},
        description="JSON Schema (2020-12) that every asset of this type's attributes must meet.",
    )


class AssetIn(Strict):
    code: str = Code
    name: str = Name
    asset_type_id: uuid.UUID
    parent_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    zone_id: uuid.UUID | None = None
    owner_organization_id: uuid.UUID | None = None
    manufacturer_organization_id: uuid.UUID | None = None
    maintainer_organization_id: uuid.UUID | None = None
    serial_number: str | None = Field(default=None, max_length=128)
    status: AssetStatus = "active"
    attributes: JsonObject = Field(default_factory=dict)


class MetricSpec(Strict):
    metric: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    unit: str = Field(min_length=1, max_length=32)
    min: float | None = None
    max: float | None = None


class DeviceProfileIn(Strict):
    code: str = Code
    name: str = Name
    device_kind: DeviceKind
    vendor: str | None = Field(default=None, max_length=128)
    model: str | None = Field(default=None, max_length=128)
    metrics: list[MetricSpec] = Field(default_factory=list)
    payload_mapping: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="The vendor payload mapping (its code) the devices send; none: the canonical format.",
    )
    payload_mapping_version: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        validate_default=True,
        description="The version of payload_mapping; given with it, or not at all.",
    )

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, value: list[MetricSpec]) -> list[MetricSpec]:
        names = [m.metric for m in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"metric declared twice: {', '.join(dupes)}")
        return value

    @field_validator("payload_mapping_version")
    @classmethod
    def _mapping_with_version(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "payload_mapping" in info.data and (info.data["payload_mapping"] is None) != (value is None):
            raise ValueError("payload_mapping and payload_mapping_version go together")
        return value


class DeviceIn(Strict):
    code: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
        description="The id the device uses on the wire (MQTT topic, payloads).",
    )
    name: str | None = Field(default=None, max_length=200)
    kind: DeviceKind
    device_profile_id: uuid.UUID
    asset_id: uuid.UUID | None = None
    gateway_id: uuid.UUID | None = Field(
        default=None, description="The gateway that may publish on this device's behalf."
    )
    serial_number: str | None = Field(default=None, max_length=128)
    status: DeviceStatus = "active"
    attributes: JsonObject = Field(default_factory=dict)
