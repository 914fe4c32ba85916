"""Payload mappings as versioned data: created, listed and refused through the resource service."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import supplyline.telemetry.tables  # noqa: F401  (until db.schema imports it)
from supplyline import logistics, registry
from supplyline.bootstrap import Services
from supplyline.kernel.errors import Conflict, Invalid
from supplyline.resources import ResourceCatalog, ResourceService
from supplyline.telemetry.mapping import resources as telemetry_resources
from supplyline.telemetry.mapping.compiler import PayloadMappingSpec, compile_mapping
from supplyline.telemetry.mapping.vendors import builtin_mapping_documents, builtin_sample
from tests.conftest import TenantCtx

NAME = "payload-mappings"


@pytest.fixture
def svc(services: Services) -> ResourceService:
    catalog = ResourceCatalog([*registry.RESOURCES, *logistics.RESOURCES, *telemetry_resources.RESOURCES])
    catalog.check()
    # Until bootstrap adds telemetry resources to its catalog, their events need registering here.
    services.event_types.register_all(list(telemetry_resources.PAYLOAD_MAPPINGS.event_types.values()))
    return ResourceService(catalog)


async def create(services: Services, svc: ResourceService, tenant: TenantCtx, doc: dict[str, Any]) -> Any:
    async with services.uow() as uow:
        rec = await svc.create(uow, tenant.scope, NAME, doc)
        await uow.commit()
    return rec


async def test_a_mapping_is_stored_as_a_new_version_never_changed_in_place(
    services: Services, svc: ResourceService, tenant: TenantCtx
) -> None:
    doc = builtin_mapping_documents()["acme-reefer@1"]
    rec = await create(services, svc, tenant, doc)
    assert (rec["code"], rec["mapping_version"], rec["version"]) == ("acme-reefer", 1, 1)
    async with services.engine.connect() as conn:
        stored = await svc.get(conn, tenant.scope, NAME, rec["id"])
    normalise = compile_mapping(PayloadMappingSpec.model_validate(stored["spec"]))
    assert normalise(builtin_sample("acme-reefer@1"))[0].metrics["temperature_c"] == 4.0

    changed = copy.deepcopy(doc["spec"])
    changed["fields"][0]["unit"] = "C"
    async with services.uow() as uow:
        with pytest.raises(Invalid) as exc:
            await svc.update(uow, tenant.scope, NAME, rec["id"], {"spec": changed})
        assert exc.value.errors[0].field == "spec"
        renamed = await svc.update(uow, tenant.scope, NAME, rec["id"], {"name": "ACME reefer (legacy)"})
        await uow.commit()
    assert renamed["name"] == "ACME reefer (legacy)" and renamed["version"] == 2

    v2 = await create(services, svc, tenant, {**doc, "mapping_version": 2, "spec": changed})
    assert v2["spec"]["fields"][0]["unit"] == "C"
    with pytest.raises(Conflict, match="mapping_version"):
        await create(services, svc, tenant, doc)
    async with services.engine.connect() as conn:
        page = await svc.list_page(conn, tenant.scope, NAME, filters={"code": "acme-reefer"})
    assert sorted(r["mapping_version"] for r in page.items) == [1, 2]


async def test_a_mapping_that_cannot_compile_is_refused_naming_the_spec_field(
    services: Services, svc: ResourceService, tenant: TenantCtx
) -> None:
    doc = builtin_mapping_documents()["coldbox-gateway@1"]
    bad = copy.deepcopy(doc)
    bad["spec"]["fields"][3]["unit"] = "furlong"
    bad["spec"]["fields"][0]["metric"] = "humidity_pct"  # now mapped twice
    with pytest.raises(Invalid) as exc:
        await create(services, svc, tenant, bad)
    assert [e.field for e in exc.value.errors] == ["spec.fields.1.metric", "spec.fields.3.unit"]

    bad = copy.deepcopy(doc)
    bad["spec"]["timestamp"]["timezone"] = "Europe/Atlantis"
    bad["spec"]["fields"][2]["value_map"] = {}
    with pytest.raises(Invalid) as exc:
        await create(services, svc, tenant, bad)
    assert sorted(e.field for e in exc.value.errors) == ["spec.fields.2.value_map", "spec.timestamp.timezone"]

    # A metric a device profile may declare is accepted now and checked against the profile later.
    custom = copy.deepcopy(doc)
    custom["spec"]["fields"].append({"path": "co2", "metric": "co2_ppm", "unit": "ppm"})
    assert (await create(services, svc, tenant, custom))["spec"]["fields"][4]["metric"] == "co2_ppm"
