"""Safety stock, reorder points and service levels against published worked examples.

Chopra & Meindl, *Supply Chain Management: Strategy, Planning, and Operation*, chapter
"Managing Uncertainty in a Supply Chain: Safety Inventory" (weekly demand 2,500, sd 500, lead
time 2 weeks; daily demand 2,500, sd 500, lead time 7 days with sd 7 days): their figures are
quoted below with the rounding they print.
"""

from __future__ import annotations

import math
import random

import pytest

from supplyline.kernel.errors import Invalid
from supplyline.planning import safety_stock as ss


def test_issue_worked_example_95_percent_csl() -> None:
    # d=100/day, sd_d=20, L=9 days, sd_L=2 days, CSL 95%: sqrt(9·400 + 100²·4) = 208.8, z = 1.645.
    assert ss.safety_stock(100, 20, 9, 2, 0.95) == pytest.approx(343.5, abs=0.5)
    assert ss.reorder_point(100, 20, 9, 2, 0.95) == pytest.approx(1243.5, abs=0.5)


def test_chopra_meindl_safety_inventory_for_a_csl() -> None:
    # Weekly demand 2,500 (sd 500), L = 2 weeks, CSL 90%: safety inventory 906.
    assert ss.safety_stock(2500, 500, 2, 0, 0.90) == pytest.approx(906, abs=0.5)


def test_chopra_meindl_lead_time_uncertainty() -> None:
    # Daily demand 2,500 (sd 500), L = 7 days with sd 7 days, CSL 90%: sd of LTD 17,550 and
    # safety inventory 22,491; lead-time risk dominates it.
    ltd = ss.normal_ltd(2500, 500, 7, 7)
    assert ltd.sd == pytest.approx(17550, abs=1)
    assert ss.safety_stock(2500, 500, 7, 7, 0.90) == pytest.approx(22491, abs=1)


def test_chopra_meindl_csl_and_fill_rate_of_a_policy() -> None:
    # Q = 10,000, ROP = 6,000, weekly demand 2,500 (sd 500), L = 2 weeks: CSL 0.92, expected
    # shortage per cycle 25.13, fill rate 0.9975.
    ltd = ss.normal_ltd(2500, 500, 2, 0)
    assert ss.expected_csl(6000, ltd) == pytest.approx(0.92, abs=0.005)
    assert ltd.sd * ss.loss(1000 / ltd.sd) == pytest.approx(25.13, abs=0.01)
    assert ss.expected_fill_rate(6000, 10000, ltd) == pytest.approx(0.9975, abs=0.0001)


def test_fill_rate_k_inverts_the_loss_function() -> None:
    ltd = ss.normal_ltd(2500, 500, 2, 0)
    k = ss.k_for_fill_rate(0.9975, 10000, ltd.sd)
    assert ltd.sd * ss.loss(k) == pytest.approx(0.0025 * 10000, rel=1e-6)
    # Reading the worked example backwards: about the 1,000 units of safety stock it had.
    assert k * ltd.sd == pytest.approx(1000, abs=5)
    rop = ss.policy(ltd, "fill_rate", 0.9975, 10000).reorder_point
    assert ss.expected_fill_rate(rop, 10000, ltd) == pytest.approx(0.9975, abs=1e-6)


def test_loss_function_known_values() -> None:
    # Tabulated G(k): G(0) = φ(0) = 0.3989, G(1) = 0.0833, G(2) = 0.0085.
    assert ss.loss(0) == pytest.approx(0.3989, abs=1e-4)
    assert ss.loss(1) == pytest.approx(0.0833, abs=1e-4)
    assert ss.loss(2) == pytest.approx(0.0085, abs=1e-4)


@pytest.mark.parametrize("csl", [0.5, 0.0, 1.0, 1.2, math.nan])
def test_targets_outside_the_open_interval_are_refused(csl: float) -> None:
    with pytest.raises(Invalid) as err:
        ss.z_for(csl)
    assert err.value.errors[0].field == "cycle_service_level"


def test_negative_lead_time_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        ss.normal_ltd(10, 2, -1, 0)
    assert err.value.errors[0].field == "lead_time_days"


def test_demand_classification() -> None:
    smooth = [5.0, 6, 4, 5, 7, 5, 6]
    lumpy = [0.0, 0, 9, 0, 0, 0, 12, 0, 0, 3]
    assert ss.adi(smooth) == 1 and not ss.intermittent(smooth)
    assert ss.adi(lumpy) == pytest.approx(10 / 3) and ss.intermittent(lumpy)
    assert ss.cv2(lumpy) > 0


def test_intermittent_demand_uses_the_empirical_quantile() -> None:
    rng = random.Random(7)
    days = [float(rng.choice([20, 40])) if rng.random() < 0.1 else 0.0 for _ in range(365)]
    ltd = ss.bootstrap_ltd(days, 5, 1, seed=1)
    assert ltd.empirical and ss.bootstrap_ltd(days, 5, 1, seed=1) == ltd  # seeded: reproducible
    pol = ss.policy(ltd, "cycle_service_level", 0.95, 50)
    assert pol.method == "empirical"
    assert ss.expected_csl(pol.reorder_point, ltd) >= 0.95
    # The samples are multiples of 20: the quantile is one of them, the normal one is not.
    assert pol.reorder_point % 20 == 0
    fill = ss.policy(ltd, "fill_rate", 0.98, 50)
    assert ss.expected_fill_rate(fill.reorder_point, 50, ltd) >= 0.98


def test_zero_variability_needs_no_safety_stock() -> None:
    ltd = ss.normal_ltd(10, 0, 4, 0)
    pol = ss.policy(ltd, "cycle_service_level", 0.99, 40)
    assert pol.safety_stock == 0 and pol.reorder_point == 40
    assert ss.expected_csl(40, ltd) == 1.0
