"""Replenishment recommendations that see held stock: loop step 5.

Sellable stock is on hand less held and allocated, so a quality hold on a lot changes the very
next recommendation, and the reasons say so. Demand and lead time come from the request when
the planner knows them, else from the site's history; every figure used is in the answer.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import logistics, registry
from supplyline.kernel.clock import utcnow
from supplyline.kernel.errors import NotFound
from supplyline.kernel.events import NewEvent
from supplyline.kernel.scope import Scope
from supplyline.kernel.uow import UnitOfWork
from supplyline.planning import safety_stock as ss
from supplyline.planning.demand_series import imported_days
from supplyline.planning.events import REPLENISHMENT_RECOMMENDED
from supplyline.planning.forecasts import forecast_view
from supplyline.planning.model import RecommendationRequest
from supplyline.planning.sizing import Constraints, eoq, size_order

DEFAULT_LEAD_TIME_DAYS = 7.0
Recommendation = dict[str, Any]


@dataclass(frozen=True)
class Demand:
    mean: float
    sd: float
    trend: float
    days: tuple[float, ...]
    source: str
    forecast_run_id: str | None = None


@dataclass(frozen=True)
class LeadTime:
    mean: float
    sd: float
    source: str


async def recommend(conn: AsyncConnection, scope: Scope, request: RecommendationRequest) -> Recommendation:
    """The order to place (if any) for one product at one site, with every figure behind it."""
    scope.require("planning")
    unit = await logistics.product_unit(conn, scope, request.product_id)
    if unit is None:
        raise NotFound(f"no product {request.product_id}")
    if not await registry.live_site_ids(conn, scope, [request.site_id]):
        raise NotFound(f"no site {request.site_id}")
    today = request.as_of or utcnow().date()
    stock = await _stock(conn, scope, request, unit)
    demand = await _demand(conn, scope, request, today)
    lead = await _lead_time(conn, scope, request, today)
    return _plan(request, today, unit, stock, demand, lead)


async def recommend_and_publish(
    uow: UnitOfWork, scope: Scope, request: RecommendationRequest
) -> Recommendation:
    """``recommend``, and its event on the log in the same unit of work."""
    out = await recommend(uow.conn, scope, request)
    fields = REPLENISHMENT_RECOMMENDED.data_model.model_fields
    data = {k: out[k] for k in fields if k in out}
    data["orders"] = [
        {k: o[k] for k in ("quantity", "order_date", "expected_arrival")} for o in out["orders"]
    ]
    uow.publish(
        NewEvent(
            type=REPLENISHMENT_RECOMMENDED.type,
            tenant_id=scope.require_tenant(),
            subject=f"products/{request.product_id}/sites/{request.site_id}",
            source="/supplyline/planning",
            data=REPLENISHMENT_RECOMMENDED.data_model.model_validate(data).model_dump(mode="json"),
            actor=scope.actor,
        )
    )
    return out


async def _stock(
    conn: AsyncConnection, scope: Scope, request: RecommendationRequest, unit: str
) -> dict[str, Any]:
    positions = await logistics.stock_positions(conn, scope, request.product_id, request.site_id)
    open_orders = await logistics.open_purchase_orders(conn, scope, request.product_id, request.site_id)
    reasons = [
        f"held stock: {_q(p.held)} {unit} of lot {p.lot_code or '(no lot)'} are on hold"
        for p in positions
        if p.held > 0
    ]
    on_hand = sum(p.on_hand for p in positions)
    held = sum(p.held for p in positions)
    allocated = sum(p.allocated for p in positions)
    if allocated > 0:
        reasons.append(f"allocated stock: {_q(allocated)} {unit} are promised to orders")
    sellable = sum(max(0.0, p.on_hand - p.held - p.allocated) for p in positions)
    on_order = sum(o.quantity for o in open_orders)
    if open_orders:
        numbers = ", ".join(o.order_number for o in open_orders)
        reasons.append(f"on order: {_q(on_order)} {unit} on open purchase orders {numbers}")
    return {
        "on_hand": on_hand,
        "held": held,
        "allocated": allocated,
        "sellable": sellable,
        "on_order": on_order,
        "open_orders": [{"number": o.order_number, "quantity": o.quantity} for o in open_orders],
        "reasons": reasons,
    }


async def _demand(conn: AsyncConnection, scope: Scope, request: RecommendationRequest, today: date) -> Demand:
    """Daily demand over the window, zero-filled: what left the site, with imported history
    winning on the days it covers; the mean from the latest forecast when there is one; the
    request's figures win where given."""
    since = today - timedelta(days=request.history_days)
    by_day = await logistics.daily_outbound(conn, scope, request.product_id, request.site_id, since)
    tenant = scope.require_tenant()
    imported = await imported_days(
        conn, tenant, request.product_id, request.site_id, since, today - timedelta(days=1)
    )
    by_day = {**by_day, **imported}
    days = tuple(by_day.get(since + timedelta(days=i), 0.0) for i in range(request.history_days))
    mean = statistics.fmean(days)
    sd = statistics.stdev(days) if len(days) > 1 else 0.0
    trend = _slope(days)
    if request.demand_mean_per_day is not None:
        sd = request.demand_sd_per_day if request.demand_sd_per_day is not None else 0.0
        return Demand(request.demand_mean_per_day, sd, trend, (), "given")
    if request.demand_sd_per_day is not None:
        sd = request.demand_sd_per_day
    source = f"outbound history of the last {request.history_days} days"
    if imported:
        source += f" ({len(imported)} of them from imported history)"
    # recommend() checked the caller's reach over the product and the site already.
    forecast = await forecast_view(conn, tenant, request.product_id, request.site_id, "day")
    ahead = [p for p in (forecast or {}).get("points", []) if p["ds"] >= today.isoformat()]
    if forecast and ahead:
        run = forecast["run"]
        # The final forecast: the planner's overrides count, as they are meant to.
        mean = statistics.fmean(p["final"]["mean"] for p in ahead)
        source = f"forecast run {run['id']} ({run['model']}, {run['trigger']}); spread from {source}"
        return Demand(mean, sd, trend, days, source, run["id"])
    return Demand(mean, sd, trend, days, source)


def _slope(days: tuple[float, ...]) -> float:
    if len(days) < 2 or len(set(days)) == 1:
        return 0.0
    return statistics.linear_regression(range(len(days)), days).slope


async def _lead_time(
    conn: AsyncConnection, scope: Scope, request: RecommendationRequest, today: date
) -> LeadTime:
    """Given, else what received purchase orders took (a year back), else a default."""
    if request.lead_time_days is not None:
        return LeadTime(request.lead_time_days, request.lead_time_sd_days or 0.0, "given")
    seen = await logistics.purchase_lead_times(
        conn, scope, request.product_id, request.site_id, today - timedelta(days=365)
    )
    sd_given = request.lead_time_sd_days
    if seen:
        sd = sd_given if sd_given is not None else (statistics.stdev(seen) if len(seen) > 1 else 0.0)
        return LeadTime(statistics.fmean(seen), sd, f"{len(seen)} received purchase orders")
    return LeadTime(
        DEFAULT_LEAD_TIME_DAYS,
        sd_given or 0.0,
        f"default {DEFAULT_LEAD_TIME_DAYS:g} days: no received purchase order of this product at the site",
    )


def _plan(
    request: RecommendationRequest,
    today: date,
    unit: str,
    stock: dict[str, Any],
    demand: Demand,
    lead: LeadTime,
) -> Recommendation:
    target, level = request.target
    reasons = list(stock["reasons"])
    if demand.days and ss.intermittent(demand.days) and any(demand.days):
        ltd = ss.bootstrap_ltd(demand.days, lead.mean, lead.sd)
        reasons.append("intermittent demand: safety stock from the bootstrapped lead-time demand")
    else:
        ltd = ss.normal_ltd(demand.mean, demand.sd, lead.mean, lead.sd)
    cycle = _cycle(request, demand.mean)
    pol = ss.policy(ltd, target, level, max(cycle, 1.0))
    position = stock["sellable"] + stock["on_order"]
    constraints = Constraints(request.moq, request.pack_size, request.max_on_hand, request.max_order)
    sized = size_order(position, pol.reorder_point, cycle, constraints)
    reasons += sized.reasons
    if demand.mean == 0:
        reasons.append(f"no demand in the last {request.history_days} days")
    arrival = today + timedelta(days=math.ceil(lead.mean))
    orders = []
    if sized.quantity > 0:
        orders.append(
            {
                "quantity": sized.quantity,
                "order_date": today.isoformat(),
                "expected_arrival": arrival.isoformat(),
            }
        )
    q = sized.quantity or cycle
    return {
        "product_id": str(request.product_id),
        "site_id": str(request.site_id),
        "unit": unit,
        "orders": orders,
        "service_target": target,
        "service_level": level,
        "safety_stock": pol.safety_stock,
        "reorder_point": pol.reorder_point,
        "target_level": pol.reorder_point + cycle,
        "cycle_stock": cycle,
        "method": pol.method,
        "expected_cycle_service_level": ss.expected_csl(pol.reorder_point, ltd),
        "expected_fill_rate": ss.expected_fill_rate(pol.reorder_point, q, ltd) if q > 0 else 1.0,
        "inventory_position": position,
        **{k: stock[k] for k in ("on_hand", "held", "allocated", "sellable", "on_order", "open_orders")},
        "demand": _demand_view(demand),
        "lead_time": _lead_view(lead, demand, ltd),
        "reasons": reasons,
    }


def _cycle(request: RecommendationRequest, mean: float) -> float:
    """Cycle stock: EOQ when both costs are given, else the horizon's demand."""
    if request.ordering_cost is not None and request.holding_cost_per_unit_day is not None and mean > 0:
        return eoq(mean, request.ordering_cost, request.holding_cost_per_unit_day)
    return mean * request.horizon_days


def _demand_view(demand: Demand) -> dict[str, Any]:
    sign = "rising" if demand.trend > 1e-9 else "falling" if demand.trend < -1e-9 else "flat"
    out: dict[str, Any] = {
        "mean_per_day": demand.mean,
        "sd_per_day": demand.sd,
        "trend_per_day": demand.trend,
        "trend": sign,
        "source": demand.source,
        "forecast_run_id": demand.forecast_run_id,
    }
    if demand.days:
        out["adi"] = ss.adi(demand.days) if any(demand.days) else None
        out["cv2"] = ss.cv2(demand.days)
    return out


def _lead_view(lead: LeadTime, demand: Demand, ltd: ss.LeadTimeDemand) -> dict[str, Any]:
    """Lead-time risk: sd_L/L, and the share of lead-time demand variance it causes."""
    demand_var = lead.mean * demand.sd**2
    lead_var = demand.mean**2 * lead.sd**2
    total = demand_var + lead_var
    return {
        "mean_days": lead.mean,
        "sd_days": lead.sd,
        "source": lead.source,
        "variability": lead.sd / lead.mean if lead.mean > 0 else 0.0,
        "share_of_safety_stock": lead_var / total if total > 0 else 0.0,
        "demand_mean": ltd.mean,
        "demand_sd": ltd.sd,
    }


def _q(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 0.05 else f"{x:,.1f}"
