"""The lineage and recall view in a real browser, on each backend: raw lot A is made into lot B,
which is sold and shipped to a customer. An operations manager opens A's lineage and sees B
downstream, runs the recall and sees the shipment and the customer exposed, holds the exposed
lots (held in the service too), and sees every ledger entry of the lineage proved in the page
against the signed tree head; a tampered proof is shown not verified. A planner, who may read
lineage but neither recall nor read the ledger, is told so by the API's own words."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, expect
from sqlalchemy import select

from supplyline import trace
from supplyline.bootstrap import Services
from supplyline.console import create_console_app
from supplyline.epcis import index_event, insert_events
from supplyline.logistics.tables import logistics_hold
from tests.conftest import Backend, TenantCtx, make_services, new_tenant
from tests.console.conftest import STATIC, axe_violations, need, serving
from tests.epcis.network import CP, gtin
from tests.factories import post

PASSWORD = "a long lineage password"
RAW, YOGHURT = 1, 3


def lgtin(item: int, code: str) -> str:
    return f"urn:epc:class:lgtin:{CP}.0{item:05d}.{code}"


def events() -> list[dict[str, Any]]:
    """A transformation of raw milk lot RAW-1 into yoghurt lot YOG-1, then YOG-1 shipped."""
    common = {"eventTimeZoneOffset": "+00:00"}
    return [
        {
            **common,
            "type": "TransformationEvent",
            "eventID": f"urn:uuid:{uuid.UUID(int=1)}",
            "eventTime": "2026-11-02T08:00:00+00:00",
            "inputQuantityList": [{"epcClass": lgtin(RAW, "RAW-1"), "quantity": 100.0, "uom": "KGM"}],
            "outputQuantityList": [{"epcClass": lgtin(YOGHURT, "YOG-1"), "quantity": 40.0, "uom": "KGM"}],
            "bizStep": "commissioning",
        },
        {
            **common,
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:{uuid.UUID(int=2)}",
            "eventTime": "2026-11-03T09:30:00+00:00",
            "action": "OBSERVE",
            "quantityList": [{"epcClass": lgtin(YOGHURT, "YOG-1"), "quantity": 5.0, "uom": "KGM"}],
            "bizStep": "shipping",
            "bizLocation": {"id": f"urn:epc:id:sgln:{CP}.00001.0"},
            "destinationList": [{"type": "owning_party", "destination": f"urn:epc:id:pgln:{CP}.00101"}],
        },
    ]


async def person(c: httpx.AsyncClient, headers: dict[str, str], email: str, role: str) -> None:
    user = await post(c, headers, "users", {"email": email, "password": PASSWORD})
    await post(c, headers, "role-assignments", {"role": role, "user_id": user["id"]})


@dataclass
class Chain:
    url: str
    svc: Services
    tenant: TenantCtx
    raw: dict[str, Any]
    yoghurt: dict[str, Any]


async def build(c: httpx.AsyncClient, svc: Services, tenant: TenantCtx) -> dict[str, Any]:
    h = tenant.headers
    w: dict[str, Any] = {}
    w["customer"] = await post(
        c, h, "organizations", {"code": "CUS1", "name": "Fresh Mart", "kind": "customer"}
    )
    w["dc"] = await post(c, h, "sites", {"code": "DC-LYON", "name": "Lyon DC", "kind": "warehouse"})
    w["store"] = await post(c, h, "sites", {"code": "ST-12", "name": "Store 12", "kind": "store"})
    products = {}
    for item, name in ((RAW, "Raw milk"), (YOGHURT, "Yoghurt")):
        body = {"sku": f"ITEM-{item}", "gtin": gtin(item), "name": name, "unit": "kg"}
        products[item] = await post(c, h, "products", body)
    w["raw"] = await post(
        c, h, "lots", {"product_id": products[RAW]["id"], "lot_code": "RAW-1", "quantity": 100, "unit": "kg"}
    )
    w["yoghurt"] = await post(
        c,
        h,
        "lots",
        {"product_id": products[YOGHURT]["id"], "lot_code": "YOG-1", "quantity": 40, "unit": "kg"},
    )
    line = {"product_id": products[YOGHURT]["id"], "lot_id": w["yoghurt"]["id"], "quantity": 5, "unit": "kg"}
    order = {
        "number": "SO-77",
        "kind": "sales",
        "organization_id": w["customer"]["id"],
        "from_site_id": w["dc"]["id"],
        "lines": [line],
    }
    await post(c, h, "orders", order)
    shipment = {
        "number": "SH-100",
        "origin_site_id": w["dc"]["id"],
        "destination_site_id": w["store"]["id"],
        "lots": [{"lot_id": w["yoghurt"]["id"], "quantity": 5, "unit": "kg"}],
    }
    await post(c, h, "shipments", shipment)
    await person(c, h, "ops@acme.test", "operations_manager")
    await person(c, h, "plan@acme.test", "planner")
    async with svc.uow() as uow:
        await insert_events(
            uow, tenant.id, [index_event(e) for e in events()], source="capture", actor="test"
        )
        await uow.commit()
    await svc.consumers.catch_up(trace.CONSUMER_NAME)  # the ledger records the EPCIS events
    return w


@pytest.fixture
async def chain(backend: Backend, tmp_path: Path) -> AsyncIterator[Chain]:
    need("The built console", STATIC / "app" / "lineage.html", "console")
    svc = make_services(backend, tmp_path)
    acme = await new_tenant(svc, "acme")
    async with serving(create_console_app(svc, run_consumers=False)) as url:
        async with httpx.AsyncClient(base_url=url) as c:
            w = await build(c, svc, acme)
        yield Chain(url, svc, acme, w["raw"], w["yoghurt"])
    await svc.close()


async def log_in(page: Page, url: str, email: str, path: str) -> None:
    await page.goto(url + path)  # no session: the login page, and back after
    await page.get_by_label("Tenant", exact=True).fill("acme")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def active_holds(chain: Chain) -> set[str]:
    h = logistics_hold
    async with chain.svc.read_engine.connect() as conn:
        rows = await conn.execute(
            select(h.c.lot_id).where(h.c.tenant_id == chain.tenant.id, h.c.status == "active")
        )
        return {str(r[0]) for r in rows}


async def expect_all_verified(page: Page, at_least: int) -> None:
    results = page.locator("#checkpoints tbody tr td:nth-child(4)")
    await expect(results.first).to_have_text("Verified")
    await expect(page.locator("#checkpoints .verified")).to_have_count(await results.count())
    assert await results.count() >= at_least
    await expect(page.locator("#head")).to_contain_text("Verified")


async def test_lineage_recall_hold_and_proofs(chain: Chain, page: Page) -> None:
    raw, yoghurt = chain.raw["id"], chain.yoghurt["id"]
    await log_in(page, chain.url, "ops@acme.test", f"/console/lineage?lot={raw}")
    await expect(page).to_have_title("Lineage of lot RAW-1 · supplyline console")
    await expect(page.get_by_role("heading", name="Lineage and recall of lot RAW-1")).to_be_visible()

    # Downstream in the graph (a link to its own lineage) and in the edge table, with the event.
    node = page.locator("#graph").get_by_role("link", name="lot YOG-1")
    await expect(node).to_have_attribute("href", f"/console/lineage?lot={yoghurt}&depth=5")
    edge = page.locator("#edges tbody tr").filter(has_text="lot YOG-1")
    await expect(edge).to_contain_text("downstream")
    await expect(edge).to_contain_text("transform")
    await expect(edge).to_contain_text("TransformationEvent")
    await expect(edge).to_contain_text("40 KGM")
    await expect(page.get_by_label("Lot", exact=True)).to_have_value(raw)

    # The ledger entries of the lineage, each proved in the page.
    await expect_all_verified(page, 2)
    assert await axe_violations(page) == []

    # A dry run: what is exposed, and nothing held.
    recall = page.locator("#recall")
    await recall.get_by_role("button", name="Show exposure").click()
    await expect(recall.get_by_text("A reason is required")).to_be_visible()
    await recall.get_by_label("Reason", exact=True).fill("supplier notice: raw milk RAW-1")
    await recall.get_by_role("button", name="Show exposure").click()
    await expect(page.locator("#recall-note")).to_contain_text("Nothing was held")
    await expect(page.locator("#exposed-shipments")).to_contain_text("SH-100")
    await expect(page.locator("#exposed-orders")).to_contain_text("SO-77")
    await expect(page.locator("#exposed-customers")).to_contain_text("Fresh Mart (CUS1)")
    await expect(page.locator("#exposed-sites")).to_contain_text("Store 12 (ST-12)")
    await expect(page.locator("#exposed-lots")).to_contain_text("YOG-1")
    await expect(page.locator("#exposed-shipping")).to_contain_text("lot YOG-1")
    assert await active_holds(chain) == set()
    assert await axe_violations(page) == []

    # Hold every exposed lot: both held, in the page and in the service.
    await recall.get_by_role("button", name="Hold exposed lots").click()
    await expect(page.locator("#recall-note")).to_contain_text("2 exposed lots held (2 placed now")
    held = page.locator("#held tbody")
    await expect(held.get_by_role("row")).to_have_count(2)
    await expect(held).to_contain_text("RAW-1")
    await expect(held).to_contain_text("YOG-1")
    assert await active_holds(chain) == {raw, yoghurt}
    async with httpx.AsyncClient(base_url=chain.url) as c:
        r = await c.get("/v1/holds", params={"status": "active"}, headers=chain.tenant.headers)
        assert {h["lot_id"] for h in r.json()["items"]} == {raw, yoghurt}
        assert all(h["reason"] == "recall: supplier notice: raw milk RAW-1" for h in r.json()["items"])

    # Once the ledger records the holds, they are entries of the lots too, proved like the rest.
    await chain.svc.consumers.catch_up(trace.CONSUMER_NAME)
    await page.get_by_role("button", name="Check again").click()
    holds = page.locator("#checkpoints tbody tr").filter(has_text="lot.held")
    await expect(holds).to_have_count(2)
    await expect(holds.filter(has_text="lot RAW-1")).to_contain_text("Verified")
    await expect_all_verified(page, 4)
    assert await axe_violations(page) == []
    if shots := os.environ.get("SUPPLYLINE_SCREENSHOTS"):  # a picture for the docs, on request
        await page.screenshot(path=f"{shots}/lineage.png", full_page=True)

    # From B's own lineage, A is upstream; without a lot in the address, the picker leads to A.
    await node.click()
    await expect(page).to_have_title("Lineage of lot YOG-1 · supplyline console")
    await expect(page.locator("#edges tbody tr").filter(has_text="lot RAW-1")).to_contain_text("upstream")
    await page.goto(chain.url + "/console/lineage")
    await expect(page.locator("#note")).to_contain_text("Choose a lot")
    await expect(page.locator("#recall")).to_be_hidden()
    await page.get_by_role("button", name="Show lineage").click()
    await expect(page.locator("#problem")).to_have_text("Choose a lot to show its lineage.")
    assert await axe_violations(page) == []
    await page.get_by_label("Lot", exact=True).select_option(label="RAW-1 · Raw milk")
    await page.get_by_role("button", name="Show lineage").click()
    await expect(page).to_have_title("Lineage of lot RAW-1 · supplyline console")


async def test_a_tampered_proof_is_not_verified(chain: Chain, page: Page) -> None:
    async def tamper(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        assert body["proof"], "a tree of one entry has an empty proof: nothing to tamper with"
        first = body["proof"][0]
        body["proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        await route.fulfill(response=response, body=json.dumps(body))

    await page.route("**/v1/ledger/proofs/inclusion?*", tamper)
    await log_in(page, chain.url, "ops@acme.test", f"/console/lineage?lot={chain.raw['id']}")
    results = page.locator("#checkpoints tbody tr td:nth-child(4)")
    await expect(results.first).to_have_text("Not verified: the proof does not lead to the signed root")
    await expect(page.locator("#checkpoints .not-verified")).to_have_count(await results.count())
    await expect(page.locator("#checkpoints .verified")).to_have_count(0)
    await expect(page.locator("#head")).to_contain_text("Verified")  # the head itself is genuine


async def test_a_tree_head_with_an_altered_root_is_not_verified(chain: Chain, page: Page) -> None:
    """The signed text is what is checked: a root changed in it breaks the Ed25519 signature."""

    async def tamper(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        origin, size, root, rest = body["checkpoint"].split("\n", 3)
        body["checkpoint"] = "\n".join([origin, size, ("A" if root[0] != "A" else "B") + root[1:], rest])
        await route.fulfill(response=response, body=json.dumps(body))

    await page.route("**/v1/ledger/tree-head", tamper)
    await log_in(page, chain.url, "ops@acme.test", f"/console/lineage?lot={chain.raw['id']}")
    await expect(page.locator("#head")).to_contain_text(
        "Not verified: the signature of supplyline.ledger on the tree head does not verify"
    )
    results = page.locator("#checkpoints tbody tr td:nth-child(4)")
    await expect(results.first).to_contain_text("Not verified: the tree head is not verified")
    await expect(page.locator("#checkpoints .verified")).to_have_count(0)


async def test_a_planner_is_told_what_the_api_refuses(
    chain: Chain, page: Page, page_errors: list[str]
) -> None:
    await log_in(page, chain.url, "plan@acme.test", f"/console/lineage?lot={chain.raw['id']}")
    await expect(page).to_have_title("Lineage of lot RAW-1 · supplyline console")
    await expect(page.locator("#edges")).to_contain_text("lot YOG-1")
    await expect(page.locator("#proofs-problem")).to_contain_text("The ledger cannot be read:")
    await expect(page.locator("#proofs-problem")).to_contain_text("ledger:read")
    recall = page.locator("#recall")
    await recall.get_by_label("Reason", exact=True).fill("supplier notice")
    await recall.get_by_role("button", name="Hold exposed lots").click()
    await expect(page.locator("#recall-problem")).to_contain_text("Not allowed:")
    await expect(page.locator("#recall-problem")).to_contain_text("traceability:write")
    assert await active_holds(chain) == set()
    assert await axe_violations(page) == []
    page_errors[:] = [e for e in page_errors if "403" not in e]  # the refused reads and recall
