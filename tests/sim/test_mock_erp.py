"""The mock ERP: the three message types, idempotency, malformed messages, downtime, allocations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from supplyline.sim.mock_erp import ErpState, create_mock_erp

URL = "/erp/v1/messages"
LOT = {"id": "lot-1", "lot_code": "FLU-2611-A", "sku": "VAX-FLU-10"}


@pytest.fixture
def state() -> ErpState:
    return ErpState()


@pytest.fixture
async def erp(state: ErpState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_mock_erp(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as c:
        yield c


def base(kind: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "correlation_id": "corr-1",
        "occurred_at": "2026-11-22T10:15:00+00:00",
        "tenant": "01a2283f-9ac4-7000-9b14-275f02a4e9f3",
    }


def exception() -> dict[str, Any]:
    return {
        **base("exception"),
        "shipment": {"id": "shp-1", "number": "SHP-1001"},
        "lots": [
            {**LOT, "quantity": 200, "unit": "box"},
            {"id": "lot-2", "lot_code": "INS-2610-07", "sku": "INS-PEN-5", "quantity": 50, "unit": "box"},
        ],
        "severity": "critical",
        "reason": "cold-chain: temperature_c 8.4 at 2026-11-22T10:14:00Z (ct200-001)",
    }


def hold(hold_id: str = "hold-1") -> dict[str, Any]:
    return {
        **base("hold"),
        "hold_id": hold_id,
        "lot": LOT,
        "quantity": 1200,
        "unit": "box",
        "reason": "excursion",
    }


def release(hold_id: str = "hold-1") -> dict[str, Any]:
    return {**base("release"), "hold_id": hold_id, "lot": LOT, "approved_by": "qa@alpine.example"}


async def allocations(erp: httpx.AsyncClient, **params: str) -> dict[str, dict[str, Any]]:
    r = await erp.get("/erp/v1/allocations", params=params)
    assert r.status_code == 200, r.text
    return {a["lot_code"]: a for a in r.json()["items"]}


def assert_problem(r: httpx.Response, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert field in [e["field"] for e in body["errors"]], body


async def test_exception_hold_and_release_get_documents_and_move_the_allocation(
    erp: httpx.AsyncClient,
) -> None:
    r = await erp.post(URL, json=exception())
    assert r.status_code == 202, r.text
    assert r.json()["ack"] == "EXC-000001" and r.json()["received_at"].endswith("Z")
    rows = await allocations(erp)
    assert set(rows) == {"FLU-2611-A", "INS-2610-07"}  # made on first sight
    assert rows["FLU-2611-A"]["status"] == "allocated" and rows["FLU-2611-A"]["quantity"] == 200

    r = await erp.post(URL, json=hold())
    assert r.status_code == 202 and r.json()["ack"] == "HLD-000001"
    held = (await allocations(erp))["FLU-2611-A"]
    assert held["status"] == "held" and held["hold_id"] == "hold-1"
    assert held["held_at"] == "2026-11-22T10:15:00+00:00"
    assert list(await allocations(erp, status="held")) == ["FLU-2611-A"]

    r = await erp.post(URL, json=release())
    assert r.status_code == 202 and r.json()["ack"] == "REL-000001"
    freed = (await allocations(erp))["FLU-2611-A"]
    assert freed["status"] == "allocated" and freed["hold_id"] is None
    assert freed["released_by"] == "qa@alpine.example"

    listed = (await erp.get(URL)).json()["items"]
    assert [(m["type"], m["ack"]) for m in listed] == [
        ("exception", "EXC-000001"),
        ("hold", "HLD-000001"),
        ("release", "REL-000001"),
    ]
    assert listed[1]["message"]["lot"] == LOT
    assert [m["ack"] for m in (await erp.get(URL, params={"type": "hold"})).json()["items"]] == ["HLD-000001"]


async def test_a_hold_on_an_unknown_lot_creates_its_allocation_held(erp: httpx.AsyncClient) -> None:
    r = await erp.post(URL, json=hold())
    assert r.status_code == 202
    row = (await allocations(erp))["FLU-2611-A"]
    assert (row["status"], row["quantity"], row["unit"], row["sku"]) == ("held", 1200, "box", "VAX-FLU-10")


async def test_two_holds_keep_the_lot_held_until_both_are_released(erp: httpx.AsyncClient) -> None:
    for h in ("hold-1", "hold-2"):
        assert (await erp.post(URL, json=hold(h))).status_code == 202
    assert (await erp.post(URL, json=release("hold-1"))).status_code == 202
    row = (await allocations(erp))["FLU-2611-A"]
    assert (row["status"], row["hold_id"]) == ("held", "hold-2")
    assert (await erp.post(URL, json=release("hold-2"))).status_code == 202
    assert (await allocations(erp))["FLU-2611-A"]["status"] == "allocated"


async def test_a_repeat_is_a_no_op_with_the_first_answer(erp: httpx.AsyncClient, state: ErpState) -> None:
    message = hold()
    keyed = {"Idempotency-Key": "delivery-1"}
    first = await erp.post(URL, json=message, headers=keyed)
    again = await erp.post(URL, json=message, headers=keyed)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    # Without the header the body's id is the key.
    other = exception()
    assert (await erp.post(URL, json=other)).json() == (await erp.post(URL, json=other)).json()
    # The same hold sent again as a new message (a new id) is the same hold.
    resent = await erp.post(URL, json={**message, "id": "another-id"})
    assert resent.status_code == 202 and resent.json()["ack"] == first.json()["ack"]
    assert [m["ack"] for m in state.messages] == ["HLD-000001", "EXC-000001"]
    assert state.counters == {"HLD": 1, "EXC": 1}


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({**hold(), "lot": {"id": "lot-1", "lot_code": "FLU-2611-A"}}, "lot.sku"),
        ({**hold(), "quantity": "many"}, "quantity"),
        ({**release(), "approved_by": ""}, "approved_by"),
        ({**exception(), "lots": [{**LOT, "quantity": -1, "unit": "box"}]}, "lots.0.quantity"),
        ({**exception(), "shipment": {"id": "shp-1"}}, "shipment.number"),
        ({**exception(), "occurred_at": "2026-11-22T10:15:00"}, "occurred_at"),
        ({k: v for k, v in hold().items() if k != "hold_id"}, "hold_id"),
        ({**hold(), "type": "invoice"}, "type"),
        ([hold()], "body"),
    ],
)
async def test_a_malformed_message_is_refused_naming_the_field(
    erp: httpx.AsyncClient, state: ErpState, message: Any, field: str
) -> None:
    assert_problem(await erp.post(URL, json=message), 422, field)
    assert state.messages == [] and state.allocations == {}


async def test_not_json_and_a_release_of_an_unknown_hold_are_refused(erp: httpx.AsyncClient) -> None:
    assert_problem(await erp.post(URL, content=b"{nope"), 422, "body")
    assert_problem(await erp.post(URL, json=release("hold-9")), 409, "hold_id")
    await erp.post(URL, json=hold())
    other_lot = {**release(), "lot": {**LOT, "id": "lot-2"}}
    assert_problem(await erp.post(URL, json=other_lot), 409, "lot.id")
    # A correlation id may be absent or null.
    assert (await erp.post(URL, json={**exception(), "correlation_id": None})).status_code == 202


async def test_down_answers_503_until_set_back(erp: httpx.AsyncClient, state: ErpState) -> None:
    r = await erp.post("/erp/v1/_control", json={"down": True})
    assert r.status_code == 200 and r.json()["down"] is True
    refused = await erp.post(URL, json=hold())
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await erp.get(URL)).status_code == 503
    assert (await erp.get("/erp/v1/health")).status_code == 503
    assert state.messages == [] and state.allocations == {}
    assert_problem(await erp.post("/erp/v1/_control", json={"down": "yes"}), 422, "down")

    await erp.post("/erp/v1/_control", json={"down": False})
    assert (await erp.get("/erp/v1/health")).json() == {"status": "ok", "messages": 0}
    r = await erp.post(URL, json=hold())
    assert r.status_code == 202 and r.json()["ack"] == "HLD-000001"  # nothing was numbered while down


async def test_reset_forgets_everything(erp: httpx.AsyncClient, state: ErpState) -> None:
    await erp.post(URL, json=hold())
    await erp.post("/erp/v1/_control", json={"reset": True})
    assert (await erp.get(URL)).json() == {"items": []} and await allocations(erp) == {}
    assert (await erp.post(URL, json=hold())).json()["ack"] == "HLD-000001"


async def test_a_token_is_required_when_set() -> None:
    transport = httpx.ASGITransport(app=create_mock_erp(token="s3cret"))
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as erp:
        assert (await erp.post(URL, json=hold())).status_code == 401
        assert (await erp.get("/erp/v1/allocations")).status_code == 401
        ok = await erp.post(URL, json=hold(), headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 202
        assert (await erp.get("/erp/v1/health")).status_code == 200


async def test_the_state_file_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "erp.json"
    for expected in ("HLD-000001", "REL-000001"):
        transport = httpx.ASGITransport(app=create_mock_erp(state_file=path))
        async with httpx.AsyncClient(transport=transport, base_url="http://erp") as erp:
            message = hold() if expected.startswith("HLD") else release()
            assert (await erp.post(URL, json=message)).json()["ack"] == expected
    restored = ErpState.load(path)
    assert [m["ack"] for m in restored.messages] == ["HLD-000001", "REL-000001"]
    assert restored.allocations["lot-1"].status == "allocated"
