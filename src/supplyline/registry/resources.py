"""Registry entities declared as resources, with the rules a single field check cannot express."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsonschema
from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline.kernel.errors import FieldError
from supplyline.kernel.scope import Scope
from supplyline.registry import model as m
from supplyline.registry import tables as t
from supplyline.resources import Ref, ResourceSpec, rows_by_id


def schema_errors(schema: dict[str, Any], value: Any, field: str) -> list[FieldError]:
    """All the ways ``value`` misses ``schema``, each named by its path under ``field``."""
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    seen_required: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    for err in sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]):
        parts = [field, *(str(p) for p in err.absolute_path)]
        if err.validator == "required" and isinstance(err.instance, dict):
            # One error per missing property, each named by the property it is about.
            key = (tuple(parts), tuple(map(str, err.validator_value)))
            if key not in seen_required:
                seen_required.add(key)
                for name in err.validator_value:
                    if name not in err.instance:
                        out.append(
                            FieldError(".".join([*parts, str(name)]), f"{name!r} is a required property")
                        )
            continue
        out.append(FieldError(".".join(parts), err.message))
    return out


Errors = list[tuple[int, FieldError]]
Values = Sequence[dict[str, Any]]
Rows = Sequence[dict[str, Any] | None]


async def _check_asset_type(conn: AsyncConnection, scope: Scope, values: Values, rows: Rows) -> Errors:
    errors: Errors = []
    for i, v in enumerate(values):
        try:
            jsonschema.Draft202012Validator.check_schema(v["attributes_schema"])
        except jsonschema.SchemaError as exc:
            errors.append((i, FieldError("attributes_schema", f"not a valid JSON Schema: {exc.message}")))
    return errors


async def _check_asset(conn: AsyncConnection, scope: Scope, values: Values, rows: Rows) -> Errors:
    errors: Errors = []
    types = await rows_by_id(conn, scope, t.registry_asset_type, (v["asset_type_id"] for v in values))
    zones = await rows_by_id(conn, scope, t.registry_zone, (v["zone_id"] for v in values))
    for i, v in enumerate(values):
        asset_type = types.get(v["asset_type_id"])
        if asset_type is not None:
            errors += [
                (i, e) for e in schema_errors(asset_type["attributes_schema"], v["attributes"], "attributes")
            ]
        zone = zones.get(v["zone_id"])
        if zone is not None and zone["site_id"] != v["site_id"]:
            errors.append((i, FieldError("zone_id", "the zone belongs to another site than site_id")))
    for i, (v, row) in enumerate(zip(values, rows, strict=True)):
        if (
            row is not None
            and v["parent_id"] is not None
            and await _is_ancestor(conn, scope, row["id"], v["parent_id"])
        ):
            errors.append((i, FieldError("parent_id", "an asset cannot be its own ancestor")))
    return errors


async def _is_ancestor(conn: AsyncConnection, scope: Scope, asset_id: Any, start: Any) -> bool:
    """Walk up from ``start``; meeting ``asset_id`` means re-parenting would make a cycle."""
    seen, cursor = set(), start
    while cursor is not None and cursor not in seen:
        if cursor == asset_id:
            return True
        seen.add(cursor)
        parent = (await rows_by_id(conn, scope, t.registry_asset, [cursor])).get(cursor)
        cursor = parent["parent_id"] if parent else None
    return False


async def _check_device(conn: AsyncConnection, scope: Scope, values: Values, rows: Rows) -> Errors:
    errors: Errors = []
    profiles = await rows_by_id(
        conn, scope, t.registry_device_profile, (v["device_profile_id"] for v in values)
    )
    gateways = await rows_by_id(conn, scope, t.registry_device, (v["gateway_id"] for v in values))
    for i, (v, row) in enumerate(zip(values, rows, strict=True)):
        profile = profiles.get(v["device_profile_id"])
        if profile is not None and profile["device_kind"] != v["kind"]:
            reason = f"the profile is for {profile['device_kind']}s, not {v['kind']}s"
            errors.append((i, FieldError("kind", reason)))
        if v["gateway_id"] is None:
            continue
        if row is not None and v["gateway_id"] == row["id"]:
            errors.append((i, FieldError("gateway_id", "a device cannot be its own gateway")))
        gateway = gateways.get(v["gateway_id"])
        if gateway is not None and gateway["kind"] != "gateway":
            errors.append((i, FieldError("gateway_id", f"device {gateway['code']} is not a gateway")))
    return errors


ORGANIZATIONS = ResourceSpec(
    name="organizations",
    entity="organization",
    title="Organization",
    capability="registry",
    table=t.registry_organization,
    fields=m.OrganizationIn,
    natural_keys=(("code",),),
    filters=("kind", "code"),
    description="The tenant's own organisation and its partners: carriers, customers, ...",
)
REGIONS = ResourceSpec(
    name="regions",
    entity="region",
    title="Region",
    capability="registry",
    table=t.registry_region,
    fields=m.RegionIn,
    natural_keys=(("code",),),
    filters=("code",),
    description="The top of the site hierarchy: region > site > zone.",
)
SITES = ResourceSpec(
    name="sites",
    entity="site",
    title="Site",
    capability="registry",
    table=t.registry_site,
    fields=m.SiteIn,
    refs=(Ref("region_id", "regions"), Ref("organization_id", "organizations")),
    natural_keys=(("code",),),
    filters=("kind", "region_id", "organization_id", "code"),
    description="A place goods are kept or handled: warehouse, depot, plant, store, cold room.",
)
ZONES = ResourceSpec(
    name="zones",
    entity="zone",
    title="Zone",
    capability="registry",
    table=t.registry_zone,
    fields=m.ZoneIn,
    refs=(Ref("site_id", "sites"),),
    natural_keys=(("site_id", "code"),),
    filters=("site_id", "kind", "code"),
    immutable=frozenset({"site_id"}),
    description="An area inside a site, with its storage conditions.",
)
ASSET_TYPES = ResourceSpec(
    name="asset-types",
    entity="asset_type",
    title="AssetType",
    capability="registry",
    table=t.registry_asset_type,
    fields=m.AssetTypeIn,
    natural_keys=(("code",),),
    filters=("kind", "code"),
    validate=_check_asset_type,
    description="A kind of asset and the JSON Schema of its custom attributes.",
)
ASSETS = ResourceSpec(
    name="assets",
    entity="asset",
    title="Asset",
    capability="registry",
    table=t.registry_asset,
    fields=m.AssetIn,
    refs=(
        Ref("asset_type_id", "asset-types"),
        Ref("parent_id", "assets"),
        Ref("site_id", "sites"),
        Ref("zone_id", "zones"),
        Ref("owner_organization_id", "organizations"),
        Ref("manufacturer_organization_id", "organizations"),
        Ref("maintainer_organization_id", "organizations"),
    ),
    natural_keys=(("code",),),
    filters=(
        "asset_type_id",
        "parent_id",
        "site_id",
        "status",
        "owner_organization_id",
        "manufacturer_organization_id",
        "maintainer_organization_id",
        "code",
    ),
    validate=_check_asset,
    description="A vehicle, trailer, container, pallet, piece of equipment or facility.",
)
DEVICE_PROFILES = ResourceSpec(
    name="device-profiles",
    entity="device_profile",
    title="DeviceProfile",
    capability="registry",
    table=t.registry_device_profile,
    fields=m.DeviceProfileIn,
    natural_keys=(("code",),),
    filters=("device_kind", "vendor", "code"),
    description="A device model: the metrics it reports and their plausible ranges.",
)
DEVICES = ResourceSpec(
    name="devices",
    entity="device",
    title="Device",
    capability="registry",
    table=t.registry_device,
    fields=m.DeviceIn,
    refs=(
        Ref("device_profile_id", "device-profiles"),
        Ref("asset_id", "assets"),
        Ref("gateway_id", "devices"),
    ),
    natural_keys=(("code",),),
    filters=("kind", "device_profile_id", "asset_id", "gateway_id", "status", "code"),
    validate=_check_device,
    description="A tracker, sensor or gateway, attached to an asset.",
)

RESOURCES = [
    ORGANIZATIONS,
    REGIONS,
    SITES,
    ZONES,
    ASSET_TYPES,
    ASSETS,
    DEVICE_PROFILES,
    DEVICES,
]
