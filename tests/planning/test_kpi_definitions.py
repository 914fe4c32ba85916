"""KPI definitions as data: the packaged file lists every KPI and is refused for what is wrong
with it, a released definition is never edited in place, and the one aggregation all KPIs share
sums facts and standing levels over the days each period holds."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from importlib.resources import files
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from supplyline import planning
from supplyline.planning.kpis.facts import aggregate
from tests.conftest import TenantCtx


async def test_definitions_are_listed_and_the_file_is_checked(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    r = await client.get("/v1/kpis", headers=tenant.headers)
    assert r.status_code == 200, r.text
    items = {d["name"]: d for d in r.json()["items"]}
    assert set(items) == {
        "fill_rate",
        "otif",
        "days_of_supply",
        "inventory_turns",
        "wape",
        "mase",
        "bias",
        "excursion_rate",
        "time_out_of_range",
        "mtbf",
    }
    otif = items["otif"]
    assert otif["version"] == 1 and otif["current"] and otif["unit"] == "ratio"
    assert otif["direction"] == "higher is better" and otif["parameters"] == {"tolerance_hours": 0}
    assert "month" in otif["grains"] and "customer" in otif["dimensions"]
    assert "per order" in otif["description"] or "order by order" in otif["description"]


def _doc() -> dict[str, Any]:
    text = files("supplyline.planning.kpis").joinpath("definitions.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


BROKEN = [
    (lambda d: d.update(measure="nothing"), "no measure 'nothing'"),
    (lambda d: d.update(dimensions=["product", "asset"]), "no dimension"),
    (lambda d: d.update(params={"tolerance_hours": -1}), "tolerance_hours"),
    (lambda d: d.update(params={"tolerance_hours": 1, "grace": 2}), "grace"),
    (lambda d: d.update(grains=[]), "grains"),
    (lambda d: d.update(grains=["day", "day"]), "repeat"),
    (lambda d: d.update(direction="up"), "direction"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d.update(version=2), "versions must run"),
]


@pytest.mark.parametrize(("change", "reason"), BROKEN)
def test_a_broken_definition_is_refused_at_load(change: Any, reason: str) -> None:
    doc = _doc()
    otif = next(d for d in doc["definitions"] if d["name"] == "otif")
    change(otif)
    with pytest.raises(ValidationError, match=reason):
        planning.load_catalog(json.dumps(doc), planning.MEASURES)


# A definition is never edited in place: a change is a new version. The fingerprints pin every
# (name, version) as released; a changed one fails here until it becomes a new version.
PINNED: dict[str, str] = {
    "fill_rate.v1": "95bc5e3670e775a2",
    "otif.v1": "2ce6a5f8862e5387",
    "days_of_supply.v1": "01c27a620b354503",
    "inventory_turns.v1": "ba359f1cbf2267df",
    "wape.v1": "6576154b731479f8",
    "mase.v1": "fad487b3b0245b50",
    "bias.v1": "4fd4b8e7581668dd",
    "excursion_rate.v1": "4be63d0b3279100a",
    "time_out_of_range.v1": "101ba7cd9647a4c1",
    "mtbf.v1": "3098f08b0b1843bb",
}


def test_released_definitions_are_not_edited_in_place() -> None:
    got = {
        f"{d['name']}.v{d['version']}": hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[
            :16
        ]
        for d in _doc()["definitions"]
    }
    for key, fingerprint in PINNED.items():
        assert got.get(key) == fingerprint, f"{key} changed: add it as a new version instead"
    assert set(got) == set(PINNED), "pin the fingerprints of new definitions here"


def test_the_aggregation_sums_facts_and_levels_over_the_days_each_period_holds() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    window = planning.Window(date(2026, 1, 28), date(2026, 2, 3))  # Wed Jan 28 to Tue Feb 3
    facts = [
        planning.Fact(date(2026, 1, 29), 3, 1, {"site": frozenset({a})}),
        planning.Fact(date(2026, 2, 2), 5, 1, {"site": frozenset({a, b})}),
        # A level of 2 a day over the whole window, and one outside it.
        planning.Fact(date(2026, 1, 1), 0, 2, {"site": frozenset({b})}, last=date(2026, 12, 31)),
        planning.Fact(date(2026, 3, 1), 100, 100, {"site": frozenset({a})}),
    ]
    monthly = aggregate(facts, window, "month", {}, None)
    assert [(p["period_start"], p["period_end"], p["numerator"], p["denominator"]) for p in monthly] == [
        ("2026-01-28", "2026-01-31", 3, 1 + 4 * 2),
        ("2026-02-01", "2026-02-03", 5, 1 + 3 * 2),
    ]
    weekly = aggregate(facts, window, "week", {}, None, denominator="daily_mean")
    assert [(p["period_start"], p["denominator"]) for p in weekly] == [
        ("2026-01-28", pytest.approx((1 + 5 * 2) / 5)),  # Wed-Sun
        ("2026-02-02", pytest.approx((1 + 2 * 2) / 2)),  # Mon-Tue
    ]
    grouped = aggregate(facts, window, "total", {}, "site")
    assert {p["group"]["site"]: (p["numerator"], p["denominator"]) for p in grouped} == {
        str(a): (8, 2),
        str(b): (5, 1 + 7 * 2),
    }
    only_b = aggregate(facts, window, "total", {"site": b}, None)
    assert (only_b[0]["numerator"], only_b[0]["denominator"]) == (5, 15)
