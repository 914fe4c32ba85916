"""``apply_overrides`` and the FVA scores by hand: pure functions, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from supplyline.planning import Override, Point, apply_overrides
from supplyline.planning.value_added import scores

T = datetime(2026, 3, 1, tzinfo=UTC)
D = date(2026, 3, 2)  # a Monday


def _o(kind: str, value: float, *, start: date = D, end: date = D, made: int = 0, **kw: object) -> Override:
    return Override(
        id=uuid.uuid4(),
        starts_on=start,
        ends_on=end,
        kind=kind,
        value=value,
        reason_code=str(kw.pop("reason", "promotion")),
        created_at=T + timedelta(hours=made),
        **kw,  # type: ignore[arg-type]
    )


def _p(mean: float = 10.0, ds: date = D) -> Point:
    return Point(ds, mean, mean - 2, mean + 2, mean - 4, mean + 4)


@pytest.mark.parametrize(
    ("kind", "value", "final"),
    [("set", 25.0, 25.0), ("delta", 5.0, 15.0), ("delta", -30.0, 0.0), ("percent", 50.0, 15.0)],
)
def test_each_kind_on_a_day(kind: str, value: float, final: float) -> None:
    [out] = apply_overrides([_p()], [_o(kind, value)], as_of=T + timedelta(days=1))
    assert (out.statistical, out.final) == (10.0, final)
    assert out.override_ids and out.reason_codes == ("promotion",)


def test_bands_shift_by_the_delta_or_scale_for_percent() -> None:
    as_of = T + timedelta(days=1)
    [shifted] = apply_overrides([_p()], [_o("set", 30.0)], as_of=as_of)
    assert (shifted.lo80, shifted.hi80, shifted.lo95, shifted.hi95) == (28.0, 32.0, 26.0, 34.0)
    [scaled] = apply_overrides([_p()], [_o("percent", 100.0)], as_of=as_of)
    assert (scaled.lo80, scaled.hi80, scaled.lo95, scaled.hi95) == (16.0, 24.0, 12.0, 28.0)
    [floored] = apply_overrides([_p()], [_o("delta", -9.0)], as_of=as_of)
    assert floored.final == 1.0 and floored.lo80 == 0.0 and floored.lo95 == 0.0 and floored.hi95 == 5.0


def test_the_newest_covering_override_wins() -> None:
    old, new = _o("set", 50.0, made=0), _o("delta", 1.0, made=1)
    [out] = apply_overrides([_p()], [new, old], as_of=T + timedelta(days=1))
    assert out.final == 11.0 and out.override_ids == (new.id,)


def test_only_active_overrides_apply_as_of() -> None:
    expiring = _o("set", 50.0, expires_at=T + timedelta(days=2))
    withdrawn = _o("set", 70.0, made=1, withdrawn_at=T + timedelta(days=1))
    later = _o("set", 90.0, made=48)
    both = [expiring, withdrawn, later]
    assert apply_overrides([_p()], both, as_of=T + timedelta(hours=12))[0].final == 70.0
    assert apply_overrides([_p()], both, as_of=T + timedelta(hours=30))[0].final == 50.0
    # Expired and withdrawn: the statistical value again, untouched.
    out = apply_overrides([_p()], both[:2], as_of=T + timedelta(days=3))[0]
    assert out.final == out.statistical == 10.0 and out.override_ids == ()
    assert apply_overrides([_p()], both, as_of=T + timedelta(days=3))[0].final == 90.0


def test_a_week_is_adjusted_per_day_and_summed() -> None:
    # 70 a week = 10 a day; a set of 20 on Tuesday and Wednesday, +50% on Sunday.
    tue_wed = _o("set", 20.0, start=D + timedelta(days=1), end=D + timedelta(days=2))
    sunday = _o("percent", 50.0, start=D + timedelta(days=6), end=D + timedelta(days=9), made=1)
    outside = _o("set", 0.0, start=D - timedelta(days=7), end=D - timedelta(days=1))
    [out] = apply_overrides([_p(70.0)], [tue_wed, sunday, outside], as_of=T + timedelta(days=1), grain="week")
    assert out.final == pytest.approx(10 * 4 + 20 * 2 + 15)
    assert out.override_ids == (tue_wed.id, sunday.id)
    assert out.lo80 == pytest.approx(68.0 + 25.0)  # mixed kinds: shifted by final - statistical


def test_scores_by_hand() -> None:
    # actual, statistical, final
    rows = [(10.0, 10.0, 10.0), (20.0, 10.0, 20.0), (20.0, 10.0, 20.0), (10.0, 10.0, 20.0)]
    got = scores(rows)
    assert got["statistical"] == {"mae": 5.0, "wape": pytest.approx(100 * 20 / 60)}
    assert got["final"] == {"mae": 2.5, "wape": pytest.approx(100 * 10 / 60)}
    assert got["fva"] == pytest.approx(100 * 10 / 60)
    assert scores([(0.0, 1.0, 2.0)])["fva"] is None  # nothing sold: WAPE undefined
    assert scores([])["statistical"] == {"mae": None, "wape": None}
