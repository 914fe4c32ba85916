"""Telemetry entities declared as resources: vendor payload mappings, versioned data over the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import FieldError
from supplyline.kernel.scope import Scope
from supplyline.resources import ResourceSpec
from supplyline.telemetry.mapping.compiler import PayloadMappingSpec, mapping_errors
from supplyline.telemetry.storage.retention import RETENTION_POLICIES
from supplyline.telemetry.tables import telemetry_payload_mapping


class PayloadMappingIn(BaseModel):
    """A vendor payload mapping; the built-in ones (``telemetry/vendors``) have this shape too."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)
    code: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="The vendor format: acme-reefer",
    )
    mapping_version: int = Field(
        ge=1,
        le=1_000_000,
        description="A change to a mapping is a new version; devices name the one they send.",
    )
    name: str = Field(min_length=1, max_length=200)
    spec: PayloadMappingSpec


async def _check_mappings(
    conn: AsyncConnection,
    scope: Scope,
    values: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any] | None],
) -> list[tuple[int, FieldError]]:
    """The spec must compile: known metrics, units convertible to theirs, no metric mapped twice.

    Metrics outside the canonical set are checked when the mapping meets a device profile.
    """
    errors: list[tuple[int, FieldError]] = []
    for i, v in enumerate(values):
        spec = PayloadMappingSpec.model_validate(v["spec"])
        errors += [(i, FieldError(f"spec.{e.field}", e.reason)) for e in mapping_errors(spec)]
    return errors


PAYLOAD_MAPPINGS = ResourceSpec(
    name="payload-mappings",
    entity="payload_mapping",
    title="PayloadMapping",
    capability="telemetry",
    table=telemetry_payload_mapping,
    fields=PayloadMappingIn,
    natural_keys=(("code", "mapping_version"),),
    filters=("code", "mapping_version"),
    immutable=frozenset({"code", "mapping_version", "spec"}),
    validate=_check_mappings,
    description="How a vendor's payload maps to canonical readings: field paths, units, time format.",
)

RESOURCES = [PAYLOAD_MAPPINGS, RETENTION_POLICIES]
