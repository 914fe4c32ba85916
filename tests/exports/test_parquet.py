"""BI export as Parquet: what POST /v1/exports writes is what the API answers, partitioned by
day, read back by pyarrow (Hive partitioning) and by DuckDB, within the caller's scope."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from supplyline import exports
from supplyline.bootstrap import Services
from tests.api.samples import assert_problem
from tests.conftest import TenantCtx
from tests.factories import post
from tests.telemetry.fleet import fleet, send

TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=2)


def at(day: date, hour: int) -> int:
    return int(datetime.combine(day, time(hour), UTC).timestamp() * 1000)


async def export(
    client: httpx.AsyncClient, headers: dict[str, str], datasets: list[str], start: date, end: date
) -> dict[str, Any]:
    body = {"datasets": datasets, "from": start.isoformat(), "to": end.isoformat()}
    r = await client.post("/v1/exports", json=body, headers=headers)
    assert r.status_code == 202, r.text
    job: dict[str, Any] = r.json()
    assert job["status"] == "succeeded", job["error"]
    assert r.headers["location"] == f"/v1/exports/{job['id']}"
    return job


async def download(client: httpx.AsyncClient, headers: dict[str, str], job: dict[str, Any], to: Path) -> Path:
    """Every file of the job through its URL, in its partition directory under ``to``."""
    for f in job["files"]:
        r = await client.get(f["url"], headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/vnd.apache.parquet"
        target = to / f["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(r.content)
    return to


def per_day(root: Path, dataset: str) -> dict[str, int]:
    table = ds.dataset(root / dataset, format="parquet", partitioning="hive").to_table()
    counts: dict[str, int] = {}
    for day in table.column("date").to_pylist():
        counts[str(day)] = counts.get(str(day), 0) + 1
    return counts


def duck(sql: str) -> Any:
    return duckdb.sql(sql).fetchall()


async def seeded(client: httpx.AsyncClient, tenant: TenantCtx) -> dict[str, Any]:
    """Readings on two days (3 of the tracker on the first, 2 metrics x 2 of a sensor on the
    second), two shipments (one carried by the world's carrier) and one position, today."""
    w = await fleet(client, tenant)
    tracker, sensor = w["devices"]["tracker"], w["devices"]["cr-0"]
    body = [
        {"device": "trk-001", "ts": at(FIRST, h), "seq": h, "metrics": {"temperature_c": 4.0 + h}}
        for h in (1, 2, 3)
    ]
    assert (await send(client, tracker, body)).status_code == 200
    body = [
        {
            "device": "cr-0",
            "ts": at(FIRST + timedelta(days=1), h),
            "seq": h,
            "metrics": {"temperature_c": 3.0, "humidity_pct": 50.0},
        }
        for h in (5, 6)
    ]
    assert (await send(client, sensor, body)).status_code == 200
    h = tenant.headers
    for number, carrier in (("SH-1", w["carrier"]["id"]), ("SH-2", None)):
        w[number] = await post(
            client,
            h,
            "shipments",
            {
                "number": number,
                "status": "planned",
                "origin_site_id": w["dc"]["id"],
                "destination_site_id": w["store"]["id"],
                "carrier_organization_id": carrier,
                "freight_cost": 120.5,
                "currency": "EUR",
                "lots": [{"lot_id": w["lot"]["id"], "quantity": 10, "unit": "each"}],
            },
        )
    position = {
        "site_id": w["dc"]["id"],
        "product_id": w["product"]["id"],
        "lot_id": w["lot"]["id"],
        "on_hand": 40,
        "unit": "each",
    }
    w["position"] = await post(client, h, "inventory-positions", position)
    return w


async def test_every_dataset_round_trips_by_day(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, tmp_path: Path
) -> None:
    w = await seeded(client, tenant)
    job = await export(client, tenant.headers, list(exports.ALL_DATASETS), FIRST, TODAY)
    days = [(FIRST + timedelta(days=i)).isoformat() for i in range(3)]
    # Every dataset has a file for every day, empty days included.
    assert sorted((f["dataset"], f["date"]) for f in job["files"]) == sorted(
        (d, day) for d in exports.ALL_DATASETS for day in days
    )
    assert (await client.get(f"/v1/exports/{job['id']}", headers=tenant.headers)).json() == job
    root = await download(client, tenant.headers, job, tmp_path / "out")
    for f in job["files"]:
        assert pq.read_schema(root / f["path"]) == exports.DATASETS[f["dataset"]].schema, f["path"]

    assert per_day(root, "readings") == {days[0]: 3, days[1]: 4}
    assert job["rows"]["readings"] == 7
    readings = ds.dataset(root / "readings", partitioning="hive").to_table().to_pylist()
    assert {r["device"] for r in readings} == {"trk-001", "cr-0"}
    assert min(r["ts"] for r in readings) == datetime.combine(FIRST, time(1), UTC)

    shipments = ds.dataset(root / "shipments", partitioning="hive").to_table().to_pylist()
    listed = (await client.get("/v1/shipments", headers=tenant.headers)).json()["items"]
    assert sorted(s["id"] for s in shipments) == sorted(s["id"] for s in listed)
    assert {s["freight_cost"] for s in shipments} == {120.5}
    assert per_day(root, "shipments") == {TODAY.isoformat(): 2}
    assert per_day(root, "inventory_positions") == {TODAY.isoformat(): 1}

    # The events are GET /v1/events' (audit entries aside), each in the day of its time.
    shown = (await client.get("/v1/events", params={"limit": 1000}, headers=tenant.headers)).json()["items"]
    got = ds.dataset(root / "events", partitioning="hive").to_table().to_pylist()
    assert [e["id"] for e in got] == [e["id"] for e in shown if not e["type"].startswith("supplyline.audit.")]
    kpis = ds.dataset(root / "kpis", partitioning="hive").to_table().to_pylist()
    assert {k["kpi"] for k in kpis} == {
        d["name"] for d in (await client.get("/v1/kpis", headers=tenant.headers)).json()["items"]
    }

    # Each KPI's rows are its values from GET /v1/kpis/{name} at the grain the file names.
    for name in sorted({k["kpi"] for k in kpis}):
        mine = sorted(
            (k["period_start"].isoformat(), k["numerator"], k["denominator"])
            for k in kpis
            if k["kpi"] == name
        )
        grain = next(k["grain"] for k in kpis if k["kpi"] == name)
        params = {"start": FIRST.isoformat(), "end": TODAY.isoformat(), "grain": grain}
        points = (await client.get(f"/v1/kpis/{name}", params=params, headers=tenant.headers)).json()[
            "points"
        ]
        assert mine == sorted((p["period_start"], p["numerator"], p["denominator"]) for p in points), name

    # DuckDB reads the same files, with the partition column, and the API's figures.
    glob = f"{root}/readings/**/*.parquet"
    assert duck(f"SELECT count(*), sum(value) FROM read_parquet('{glob}', hive_partitioning=true)") == [
        (7, 4.0 + 1 + 4.0 + 2 + 4.0 + 3 + 3.0 * 2 + 50.0 * 2)
    ]
    by_day = f"SELECT CAST(date AS VARCHAR), count(*) FROM read_parquet('{glob}', hive_partitioning=true)"
    assert duck(by_day + " GROUP BY 1 ORDER BY 1") == [(days[0], 3), (days[1], 4)]
    glob = f"{root}/shipments/**/*.parquet"
    assert duck(
        f"SELECT count(*), sum(freight_cost) FROM read_parquet('{glob}', hive_partitioning=true)"
    ) == [(2, 241.0)]
    assert w["SH-1"]["id"] in {s["id"] for s in shipments}


async def test_a_partner_exports_its_slice_without_prices(
    client: httpx.AsyncClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    w = await seeded(client, tenant)
    key = await post(
        client,
        tenant.headers,
        "api-keys",
        {"name": "carrier", "role": "partner_viewer", "organization_id": w["carrier"]["id"]},
    )
    carrier = {"Authorization": f"Bearer {key['token']}"}
    job = await export(client, carrier, ["shipments", "events"], FIRST, TODAY)
    root = await download(client, carrier, job, tmp_path / "carrier")
    table = ds.dataset(root / "shipments", partitioning="hive").to_table()
    assert table.column("id").to_pylist() == [w["SH-1"]["id"]]
    assert not {"freight_cost", "currency"} & set(table.column_names)
    events = ds.dataset(root / "events", partitioning="hive").to_table()
    listed = (await client.get("/v1/events", params={"limit": 1000}, headers=carrier)).json()["items"]
    assert events.column("id").to_pylist() == [e["id"] for e in listed]
    assert "freight_cost" not in str(events.column("data").to_pylist())
    assert w["SH-2"]["id"] not in str(events.to_pylist())
    # The job is the carrier's: the tenant's admin (another principal) does not find it.
    assert_problem(await client.get(f"/v1/exports/{job['id']}", headers=tenant.headers), 404)
    assert_problem(await client.get(job["files"][0]["url"], headers=tenant.headers), 404)
    # A dataset the role may not read is refused before anything runs.
    r = await client.post(
        "/v1/exports",
        json={"datasets": ["inventory_positions"], "from": FIRST.isoformat(), "to": TODAY.isoformat()},
        headers=carrier,
    )
    assert_problem(r, 403)


async def test_an_empty_range_gives_files_with_the_schema(
    client: httpx.AsyncClient, tenant: TenantCtx, tmp_path: Path
) -> None:
    await seeded(client, tenant)  # all of it after the range: none of it in the files
    start = date(2020, 2, 28)
    job = await export(
        client, tenant.headers, ["shipments", "readings", "events"], start, start + timedelta(days=1)
    )
    assert [(f["dataset"], f["date"], f["rows"]) for f in job["files"]] == [
        ("shipments", "2020-02-28", 0),
        ("shipments", "2020-02-29", 0),
        ("readings", "2020-02-28", 0),
        ("readings", "2020-02-29", 0),
        ("events", "2020-02-28", 0),
        ("events", "2020-02-29", 0),
    ]
    root = await download(client, tenant.headers, job, tmp_path / "empty")
    table = ds.dataset(root / "shipments", partitioning="hive").to_table()
    assert table.num_rows == 0 and table.schema.names[:-1] == exports.DATASETS["shipments"].schema.names
    glob = f"{root}/readings/**/*.parquet"
    assert duck(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true)") == [(0,)]


async def test_requests_are_checked(client: httpx.AsyncClient, services: Services, tenant: TenantCtx) -> None:
    def body(**given: Any) -> dict[str, Any]:
        return {"datasets": ["events"], "from": "2026-11-02", "to": "2026-11-03", **given}

    assert_problem(
        await client.post("/v1/exports", json=body(to="2026-11-01"), headers=tenant.headers), 422, "to"
    )
    longest = services.settings.export_max_days
    too_long = (date(2026, 1, 1) + timedelta(days=longest)).isoformat()
    r = await client.post(
        "/v1/exports", json=body(**{"from": "2026-01-01", "to": too_long}), headers=tenant.headers
    )
    assert_problem(r, 422, "to")
    assert_problem(
        await client.post("/v1/exports", json=body(datasets=["prices"]), headers=tenant.headers), 422
    )
    assert_problem(await client.post("/v1/exports", json=body(datasets=[]), headers=tenant.headers), 422)
    assert_problem(
        await client.get("/v1/exports/0190f0e1-0000-7000-8000-000000000001", headers=tenant.headers), 404
    )
    job = (await client.post("/v1/exports", json=body(), headers=tenant.headers)).json()
    for bad in ("../../secrets.db", "events/date=2026-11-02/part-00001.parquet"):
        r = await client.get(f"/v1/exports/{job['id']}/files/{bad}", headers=tenant.headers)
        assert r.status_code in (404, 422), (bad, r.text)
    # The CSV exports under the same prefix still answer.
    r = await client.get("/v1/exports/shipments.csv", headers=tenant.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")


async def test_the_schedule_exports_yesterday_once(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, tmp_path: Path
) -> None:
    services.settings.export_dir = tmp_path / "daily"
    await seeded(client, tenant)
    yesterday = TODAY - timedelta(days=1)
    done = await exports.export_daily(services)
    assert done["acme"].rows["readings"] == 4
    root = exports.daily_root(tmp_path / "daily", "acme")
    assert per_day(root, "readings") == {yesterday.isoformat(): 4}
    assert await exports.export_daily(services) == {}  # the day is there: not written again


async def test_the_workers_run_the_schedule_when_it_is_set(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx, tmp_path: Path
) -> None:
    services.settings.export_dir = tmp_path / "scheduled"
    done = exports.daily_root(tmp_path / "scheduled", "acme") / "kpis"
    stop = asyncio.Event()
    workers = asyncio.create_task(services.run_workers(stop))
    await asyncio.sleep(0.5)
    assert not done.exists()  # SUPPLYLINE_EXPORT_SCHEDULE_HOURS=0: no schedule
    stop.set()
    await workers
    services.settings.export_schedule_hours = 24
    stop = asyncio.Event()
    workers = asyncio.create_task(services.run_workers(stop))
    for _ in range(100):
        if done.exists():
            break
        await asyncio.sleep(0.1)
    stop.set()
    await workers
    assert done.exists()


async def test_the_range_is_bounded_by_the_setting(
    client: httpx.AsyncClient, services: Services, tenant: TenantCtx
) -> None:
    body = {"datasets": ["events"], "from": "2026-11-01", "to": "2026-11-03"}
    assert (await client.post("/v1/exports", json=body, headers=tenant.headers)).status_code == 202
    services.settings.export_max_days = 2
    assert_problem(await client.post("/v1/exports", json=body, headers=tenant.headers), 422, "to")
    body = {"datasets": ["events"], "from": "9999-12-30", "to": "9999-12-31"}
    assert_problem(await client.post("/v1/exports", json=body, headers=tenant.headers), 422)
