"""The demo tenant: seeded once, with a complete cold chain, and a key that survives re-runs."""

from __future__ import annotations

import stat
from pathlib import Path

from supplyline import access
from supplyline.bootstrap import Services
from supplyline.demo import DemoInfo, demo_api_key, facts, seed_demo
from supplyline.kernel.scope import Scope

EXPECTED = {
    "organizations": 4,
    "regions": 1,
    "sites": 3,
    "zones": 4,
    "asset-types": 1,
    "assets": 2,
    "device-profiles": 1,
    "devices": 2,
    "products": 2,
    "lots": 3,
    "orders": 1,
    "shipments": 1,
    "inventory-positions": 5,
    "payload-mappings": 0,
    "retention-policies": 0,
    "rules": 1,
    "escalation-policies": 1,
}


async def test_seed_demo_is_idempotent(services: Services) -> None:
    first = await seed_demo(services)
    second = await seed_demo(services)
    assert first.created and not second.created
    assert first.tenant_id == second.tenant_id
    assert first.counts == second.counts == EXPECTED
    assert first.first_key is not None and second.first_key is None
    async with services.engine.connect() as conn:
        tenants = await access.list_tenants(conn, Scope.platform())
    assert [t.slug for t in tenants] == [facts.TENANT_SLUG]


async def test_demo_shipment_carries_lots_with_a_tracker(services: Services) -> None:
    info = await seed_demo(services)
    scope = Scope.system(info.tenant_id)
    async with services.engine.connect() as conn:
        (shipment,) = (await services.resources.list_page(conn, scope, "shipments")).items
        tracker = await services.resources.get(conn, scope, "devices", shipment["devices"][0]["device_id"])
        sites = {s["id"]: s for s in (await services.resources.list_page(conn, scope, "sites")).items}
    assert shipment["status"] == "in_transit"
    assert len(shipment["lots"]) == 2
    assert shipment["order_id"] is not None
    assert tracker["kind"] == "tracker" and tracker["asset_id"] == shipment["assets"][0]["asset_id"]
    assert {s["timezone"] for s in sites.values()} == {"Europe/Paris", "Europe/Zurich", "Europe/Berlin"}
    assert all(s["latitude"] is not None for s in sites.values())


async def test_the_story_s_shipment_rides_the_reefer_that_fails_with_its_tracker(services: Services) -> None:
    """The facts the story, the simulator and the README name are the ones seeded together."""
    info = await seed_demo(services)
    scope = Scope.system(info.tenant_id)
    async with services.engine.connect() as conn:
        page = await services.resources.list_page(
            conn, scope, "shipments", filters={"number": facts.SHIPMENT}
        )
        (shipment,) = page.items
        reefer = await services.resources.get(conn, scope, "assets", shipment["assets"][0]["asset_id"])
        tracker = await services.resources.get(conn, scope, "devices", shipment["devices"][0]["device_id"])
        (rule,) = (await services.resources.list_page(conn, scope, "rules")).items
    assert (reefer["code"], tracker["code"], rule["code"]) == (facts.REEFER, facts.TRACKER, facts.RULE)
    assert tracker["asset_id"] == reefer["id"]
    assert rule["condition"]["value"] == facts.LIMIT_C and rule["condition"]["clear_at"] == facts.CLEAR_C


async def _role(services: Services, token: str) -> tuple[list[str], object]:
    async with services.engine.connect() as conn:
        scope = await access.authenticate(conn, token, None, rules=services.visibility)
    return scope.roles, scope.tenant_id


async def test_demo_key_is_saved_private_and_reused(services: Services, tmp_path: Path) -> None:
    path = tmp_path / facts.CREDENTIALS_FILE
    info = await seed_demo(services)
    token = await demo_api_key(services, info, path)
    assert token == info.first_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rerun = await seed_demo(services)
    assert await demo_api_key(services, rerun, path) == token
    assert await _role(services, token) == (["tenant_admin"], info.tenant_id)


async def test_a_lost_or_foreign_key_file_gets_a_new_working_key(services: Services, tmp_path: Path) -> None:
    path = tmp_path / facts.CREDENTIALS_FILE
    info = await seed_demo(services)
    reused = DemoInfo(info.tenant_id, info.slug, info.name, False, info.counts)
    path.write_text('{"tenant_id": "someone else", "api_key": "sl_nope"}', encoding="utf-8")
    fresh = await demo_api_key(services, reused, path)
    assert fresh != info.first_key
    assert await _role(services, fresh) == (["tenant_admin"], info.tenant_id)
    path.unlink()
    again = await demo_api_key(services, reused, path)
    assert again != fresh
    assert await demo_api_key(services, reused, path) == again
