"""Forecast overrides through the API on both backends: made, listed, withdrawn (never deleted),
refused with the field named, confined to the caller's reach, on the log and in the audit trail,
never written over the statistical forecast; and FVA computed by hand on a tiny series."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from supplyline import planning
from supplyline.bootstrap import Services
from supplyline.kernel.ids import new_id
from supplyline.planning.tables import planning_demand, planning_forecast_point, planning_forecast_run
from tests.api.samples import assert_problem, events_of
from tests.audit.conftest import entries
from tests.conftest import TenantCtx
from tests.factories import post, world

URL = "/v1/forecast-overrides"
SOON = date.today() + timedelta(days=10)


def _body(w: dict[str, Any], **change: Any) -> dict[str, Any]:
    body = {
        "product_id": w["product"]["id"],
        "site_id": w["dc"]["id"],
        "starts_on": SOON.isoformat(),
        "ends_on": (SOON + timedelta(days=6)).isoformat(),
        "kind": "percent",
        "value": 20,
        "reason_code": "promotion",
        "note": "spring promotion",
    }
    return {**body, **change}


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(URL, json=body, headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_create_list_get_and_withdraw(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    made = await _create(client, tenant.headers, _body(w))
    assert made["status"] == "active" and made["created_by"] and made["withdrawn_at"] is None
    assert made["expires_at"].startswith((SOON + timedelta(days=7)).isoformat())  # the day after ends_on
    other = await _create(client, tenant.headers, _body(w, site_id=w["store"]["id"], kind="set", value=3))
    r = await client.get(URL, headers=tenant.headers)
    assert [o["id"] for o in r.json()["items"]] == [other["id"], made["id"]]  # newest first
    r = await client.get(URL, params={"site": w["dc"]["id"], "limit": 1}, headers=tenant.headers)
    assert [o["id"] for o in r.json()["items"]] == [made["id"]] and r.json()["next_cursor"] is None
    page1 = (await client.get(URL, params={"limit": 1}, headers=tenant.headers)).json()
    page2 = (
        await client.get(URL, params={"limit": 1, "cursor": page1["next_cursor"]}, headers=tenant.headers)
    ).json()
    assert [o["id"] for o in page1["items"] + page2["items"]] == [other["id"], made["id"]]
    assert (await client.get(f"{URL}/{made['id']}", headers=tenant.headers)).json() == made

    r = await client.delete(f"{URL}/{made['id']}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn" and r.json()["withdrawn_by"] == made["created_by"]
    kept = (await client.get(f"{URL}/{made['id']}", headers=tenant.headers)).json()
    assert kept["status"] == "withdrawn" and kept["value"] == 20  # kept, not deleted
    assert_problem(await client.delete(f"{URL}/{made['id']}", headers=tenant.headers), 409)
    active = (await client.get(URL, params={"active": "true"}, headers=tenant.headers)).json()["items"]
    assert [o["id"] for o in active] == [other["id"]]
    inactive = (await client.get(URL, params={"active": "false"}, headers=tenant.headers)).json()["items"]
    assert [o["id"] for o in inactive] == [made["id"]]
    assert_problem(await client.get(URL, params={"cursor": "nope"}, headers=tenant.headers), 422, "cursor")


BAD = [
    ({"reason_code": "other", "note": None}, "note"),
    ({"reason_code": "other", "note": "  "}, "note"),
    ({"ends_on": (SOON - timedelta(days=1)).isoformat()}, "ends_on"),
    ({"ends_on": (SOON + timedelta(days=366)).isoformat()}, "ends_on"),
    ({"kind": "percent", "value": -100}, "value"),
    ({"kind": "set", "value": -1}, "value"),
    ({"value": 1e13}, "value"),
    ({"kind": "scale"}, "kind"),
    ({"reason_code": "hunch"}, "reason_code"),
    ({"note": "x" * 1001}, "note"),
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "2999-01-01T00:00:00"}, "expires_at"),  # naive
    ({"starts_on": "2020-01-01", "ends_on": "2020-01-02"}, "ends_on"),  # already over
    ({"colour": "red"}, "colour"),
]


async def test_bad_overrides_name_the_field_and_store_nothing(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    for change, field in BAD:
        body = assert_problem(await client.post(URL, json=_body(w, **change), headers=tenant.headers), 422)
        assert any(e["field"] == field for e in body["errors"]), (change, body)
    for ask in ({"product_id": str(uuid.uuid4())}, {"site_id": str(uuid.uuid4())}):
        assert_problem(await client.post(URL, json=_body(w, **ask), headers=tenant.headers), 404)
    assert_problem(await client.get(f"{URL}/{uuid.uuid4()}", headers=tenant.headers), 404)
    assert_problem(await client.delete(f"{URL}/{uuid.uuid4()}", headers=tenant.headers), 404)
    assert (await client.get(URL, headers=tenant.headers)).json()["items"] == []
    assert not [e for e in await events_of(client, tenant.headers) if "forecast." in e["type"]]


async def test_events_and_audit(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    made = await _create(client, tenant.headers, _body(w))
    await client.delete(f"{URL}/{made['id']}", headers=tenant.headers)
    events = [e for e in await events_of(client, tenant.headers) if "forecast." in e["type"]]
    assert [e["type"] for e in events] == [
        planning.FORECAST_OVERRIDE_CREATED.type,
        planning.FORECAST_OVERRIDE_WITHDRAWN.type,
    ]
    assert {e["subject"] for e in events} == {f"forecast-overrides/{made['id']}"}
    assert events[0]["data"]["reason_code"] == "promotion" and events[0]["data"]["value"] == 20
    created = await entries(services, tenant.id, action="forecast_overrides.create")
    withdrawn = await entries(services, tenant.id, action="forecast_overrides.withdraw")
    assert [e["subject"] for e in created + withdrawn] == [f"forecast-overrides/{made['id']}"] * 2
    assert created[0]["after"]["id"] == made["id"]
    assert withdrawn[0]["before"]["status"] == "active" and withdrawn[0]["after"]["status"] == "withdrawn"


async def _site_planner(client: httpx.AsyncClient, tenant: TenantCtx, site_id: str) -> dict[str, str]:
    """A logged-in planner whose grant covers one site only."""
    person = {
        "email": f"planner@{tenant.slug}.example",
        "name": "Planner",
        "password": "a long enough secret",
    }
    user = await post(client, tenant.headers, "users", person)
    await post(
        client,
        tenant.headers,
        "role-assignments",
        {"role": "planner", "user_id": user["id"], "site_id": site_id},
    )
    login = {"tenant": tenant.slug, "email": person["email"], "password": person["password"]}
    r = await client.post("/v1/auth/login", json=login)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _key(client: httpx.AsyncClient, tenant: TenantCtx, body: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {(await post(client, tenant.headers, 'api-keys', body))['token']}"}


async def test_narrowed_and_partner_callers_are_refused(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    at_dc = await _create(client, tenant.headers, _body(w))
    store = await _site_planner(client, tenant, w["store"]["id"])
    assert_problem(await client.post(URL, json=_body(w), headers=store), 404)
    at_store = await _create(client, store, _body(w, site_id=w["store"]["id"]))
    assert [o["id"] for o in (await client.get(URL, headers=store)).json()["items"]] == [at_store["id"]]
    assert_problem(await client.get(f"{URL}/{at_dc['id']}", headers=store), 404)
    assert_problem(await client.delete(f"{URL}/{at_dc['id']}", headers=store), 404)
    fva = {"product": w["product"]["id"], "site": w["dc"]["id"], "start": "2025-01-01", "end": "2025-01-31"}
    assert_problem(await client.get(f"{URL}/value-added", params=fva, headers=store), 404)
    assert (await client.get(f"{URL}/{at_dc['id']}", headers=tenant.headers)).json()["status"] == "active"
    key = {"name": "carrier", "role": "partner_operator", "organization_id": w["carrier"]["id"]}
    partner = await _key(client, tenant, key)
    viewer = await _key(client, tenant, {"name": "v", "role": "viewer"})
    for headers in (partner, viewer):
        assert_problem(await client.post(URL, json=_body(w), headers=headers), 403)
        assert_problem(await client.delete(f"{URL}/{at_dc['id']}", headers=headers), 403)
    assert_problem(await client.get(URL, headers=partner), 403)
    assert_problem(await client.get(f"{URL}/value-added", params=fva, headers=partner), 403)


async def _run(
    services: Services,
    tenant: TenantCtx,
    w: dict[str, Any],
    site: str,
    started_at: datetime,
    means: dict[date, float],
    grain: str = "day",
) -> uuid.UUID:
    """A forecast run inserted directly (the run service is not this test's), with its points."""
    run_id = new_id()
    run = {
        "id": run_id,
        "tenant_id": tenant.id,
        "product_id": uuid.UUID(w["product"]["id"]),
        "site_id": uuid.UUID(w[site]["id"]),
        "grain": grain,
        "horizon": len(means),
        "season": 7,
        "demand_class": "smooth",
        "model": "naive",
        "params": {},
        "library": "test",
        "band_method": "model",
        "backtest": {},
        "input_points": 0,
        "input_fingerprint": "0" * 64,
        "trigger": "request",
        "created_by": "test",
        "started_at": started_at,
        "duration_ms": 1.0,
    }
    points = [
        {"run_id": run_id, "ds": ds, "mean": m, "lo80": m - 2, "hi80": m + 2, "lo95": m - 4, "hi95": m + 4}
        for ds, m in means.items()
    ]
    async with services.uow() as uow:
        await uow.conn.execute(insert(planning_forecast_run).values(**run))
        await uow.conn.execute(insert(planning_forecast_point), points)
        await uow.commit()
    return run_id


async def _demand(
    services: Services, tenant: TenantCtx, w: dict[str, Any], site: str, days: dict[date, float]
) -> None:
    rows = [
        {
            "tenant_id": tenant.id,
            "product_id": uuid.UUID(w["product"]["id"]),
            "site_id": uuid.UUID(w[site]["id"]),
            "day": day,
            "source": "import",
            "quantity": q,
            "updated_at": datetime.now(UTC),
        }
        for day, q in days.items()
    ]
    async with services.uow() as uow:
        await uow.conn.execute(insert(planning_demand), rows)
        await uow.commit()


async def _override(
    services: Services, tenant: TenantCtx, w: dict[str, Any], site: str, made: datetime, **kw: Any
) -> None:
    """An override made at ``made`` (the clock injected), through the service."""
    request = planning.OverrideRequest.model_validate(_body(w, site_id=w[site]["id"], **kw))
    async with services.uow() as uow:
        await planning.create_override(uow, tenant.scope, request, now=made)
        await uow.commit()


D1 = date(2025, 3, 2)
DAYS = [D1 + timedelta(days=i) for i in range(4)]
RUN_AT = datetime(2025, 3, 1, tzinfo=UTC)
BEFORE = datetime(2025, 2, 28, tzinfo=UTC)


async def _series(services: Services, tenant: TenantCtx, w: dict[str, Any], site: str) -> uuid.UUID:
    """Statistical 10 a day for 2 to 5 March (run of 1 March); actual 10, 20, 20, 10. A run made
    on 3 March at 10:00 says 20 for 3 March: too late to judge that day by (hindsight)."""
    run_id = await _run(services, tenant, w, site, RUN_AT, dict.fromkeys(DAYS, 10.0))
    await _run(services, tenant, w, site, datetime(2025, 3, 3, 10, tzinfo=UTC), {DAYS[1]: 20.0})
    await _demand(services, tenant, w, site, dict(zip(DAYS, (10.0, 20.0, 20.0, 10.0), strict=True)))
    return run_id


async def test_fva_by_hand_positive_and_negative(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    run_id = await _series(services, tenant, w, "dc")
    await _series(services, tenant, w, "store")
    promo = {
        "kind": "set",
        "value": 20,
        "reason_code": "promotion",
        "starts_on": "2025-03-03",
        "ends_on": "2025-03-04",
    }
    event = {
        "kind": "delta",
        "value": 10,
        "reason_code": "event",
        "starts_on": "2025-03-05",
        "ends_on": "2025-03-05",
    }
    await _override(services, tenant, w, "dc", BEFORE, **promo)  # right: 20, 20 were sold
    await _override(services, tenant, w, "dc", BEFORE, **event)  # wrong: 10 were sold, not 20
    await _override(services, tenant, w, "store", BEFORE, **event)
    # Made after the run: not part of the forecast that judged these days.
    await _override(services, tenant, w, "store", RUN_AT + timedelta(hours=6), **promo)

    params = {
        "product": w["product"]["id"],
        "site": w["dc"]["id"],
        "start": "2025-03-01",
        "end": "2025-03-05",
    }
    r = await client.get(f"{URL}/value-added", params=params, headers=tenant.headers)
    assert r.status_code == 200, r.text
    dc = r.json()
    assert dc["counts"] == {"periods": 5, "with_forecast": 4, "without_forecast": 1, "overridden": 3}
    # Statistical errors 0, 10, 10, 0 over 60 sold; final errors 0, 0, 0, 10.
    assert dc["statistical"] == {"mae": 5.0, "wape": pytest.approx(100 * 20 / 60)}
    assert dc["final"] == {"mae": 2.5, "wape": pytest.approx(100 * 10 / 60)}
    assert dc["fva"] == pytest.approx(100 * 10 / 60)  # positive: the overrides helped overall
    assert dc["by_reason"]["promotion"]["fva"] == pytest.approx(50.0)
    assert dc["by_reason"]["event"]["fva"] == pytest.approx(-100.0)
    assert dc["by_reason"]["event"]["periods"] == 1
    assert {p["run_id"] for p in dc["points"]} == {str(run_id)}
    assert [p["final"] for p in dc["points"]] == [10.0, 20.0, 20.0, 20.0]

    params["site"] = w["store"]["id"]
    store = (await client.get(f"{URL}/value-added", params=params, headers=tenant.headers)).json()
    assert store["counts"]["overridden"] == 1
    assert store["fva"] == pytest.approx(100 * 20 / 60 - 100 * 30 / 60)  # negative: it hurt
    assert list(store["by_reason"]) == ["event"]


async def test_fva_of_a_week_adjusts_its_days(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    """70 for the week of 3 March 2025 (10 a day); 20 sold on Tuesday and Wednesday, 10 on the
    other days (90); a set of 20 on those two days makes the week 90."""
    w = await world(client, tenant.headers)
    monday = date(2025, 3, 3)
    week = [monday + timedelta(days=i) for i in range(7)]
    await _run(services, tenant, w, "dc", RUN_AT, {monday: 70.0}, grain="week")
    await _run(services, tenant, w, "dc", RUN_AT, {monday: 1.0})  # a daily run: not this grain's
    await _demand(services, tenant, w, "dc", {d: 20.0 if d.weekday() in (1, 2) else 10.0 for d in week})
    two_days = {"starts_on": "2025-03-04", "ends_on": "2025-03-05", "kind": "set", "value": 20}
    await _override(services, tenant, w, "dc", BEFORE, **two_days)
    params = {
        "product": w["product"]["id"],
        "site": w["dc"]["id"],
        "start": "2025-03-05",
        "end": "2025-03-09",
    }
    r = await client.get(f"{URL}/value-added", params={**params, "grain": "week"}, headers=tenant.headers)
    got = r.json()
    assert got["start"] == "2025-03-03" and got["counts"]["with_forecast"] == 1, got
    assert [(p["actual"], p["statistical"], p["final"]) for p in got["points"]] == [(90.0, 70.0, 90.0)]
    assert got["fva"] == pytest.approx(100 * 20 / 90)


async def test_overrides_never_write_over_the_statistical_points(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    await _series(services, tenant, w, "dc")
    days = {"starts_on": SOON.isoformat(), "ends_on": SOON.isoformat()}
    await _run(services, tenant, w, "dc", datetime.now(UTC), {SOON: 10.0})

    async def stored() -> list[tuple[Any, ...]]:
        async with services.read_engine.connect() as conn:
            rows = await conn.execute(select(planning_forecast_point).order_by("run_id", "ds"))
            return [tuple(r) for r in rows]

    before = await stored()
    made = await _create(client, tenant.headers, _body(w, kind="set", value=99, **days))
    await _create(client, tenant.headers, _body(w, kind="delta", value=5, reason_code="correction", **days))
    await client.delete(f"{URL}/{made['id']}", headers=tenant.headers)
    assert await stored() == before


async def test_value_added_bad_requests(client: httpx.AsyncClient, tenant: TenantCtx) -> None:
    w = await world(client, tenant.headers)
    ok = {"product": w["product"]["id"], "site": w["dc"]["id"], "start": "2025-03-01", "end": "2025-03-05"}
    for change, field in (
        ({"end": "2025-02-01"}, "end"),
        ({"end": "2029-01-01"}, "end"),
        ({"grain": "month"}, "grain"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ({"product": "nope"}, "product"),
    ):
        r = await client.get(f"{URL}/value-added", params={**ok, **change}, headers=tenant.headers)
        assert_problem(r, 422, field)
    assert_problem(
        await client.get(
            f"{URL}/value-added", params={**ok, "site": str(uuid.uuid4())}, headers=tenant.headers
        ),
        404,
    )
    r = await client.get(f"{URL}/value-added", params=ok, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["counts"]["with_forecast"] == 0 and r.json()["fva"] is None


async def test_a_withdrawal_retried_with_its_key_gets_the_first_answer(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    made = await _create(client, {**tenant.headers, "Idempotency-Key": "make-1"}, _body(w))
    again = await client.post(URL, json=_body(w), headers={**tenant.headers, "Idempotency-Key": "make-1"})
    assert again.status_code == 201 and again.json() == made
    assert len((await client.get(URL, headers=tenant.headers)).json()["items"]) == 1
    h = {**tenant.headers, "Idempotency-Key": "withdraw-1"}
    first = await client.delete(f"{URL}/{made['id']}", headers=h)
    retry = await client.delete(f"{URL}/{made['id']}", headers=h)
    assert first.status_code == retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    withdrawn = [e for e in await events_of(client, tenant.headers) if "override_withdrawn" in e["type"]]
    assert len(withdrawn) == 1


async def test_an_expired_override_is_listed_as_expired_and_no_longer_active(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    w = await world(client, tenant.headers)
    made = await _create(client, tenant.headers, _body(w))
    later = datetime.fromisoformat(made["expires_at"]) + timedelta(seconds=1)
    async with services.read_engine.connect() as conn:
        found = await planning.list_overrides(conn, tenant.scope, now=later)
        assert [(o["id"], o["status"]) for o in found.items] == [(made["id"], "expired")]
        assert (await planning.list_overrides(conn, tenant.scope, active=True, now=later)).items == []
        assert len((await planning.list_overrides(conn, tenant.scope, active=False, now=later)).items) == 1
        assert (await planning.get_override(conn, tenant.scope, uuid.UUID(made["id"]), now=later))[
            "status"
        ] == "expired"
