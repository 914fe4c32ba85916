"""What a rule must satisfy beyond its shape: metrics that exist, units that convert, areas
that are areas, a scope that is not already taken by another rule of the same code."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from supplyline import registry
from supplyline.kernel.errors import FieldError, Invalid
from supplyline.kernel.scope import Scope
from supplyline.resources import another_live
from supplyline.rules.model import SCOPE_FIELDS, RuleIn
from supplyline.rules.tables import rules_rule
from supplyline.telemetry import CANONICAL_METRICS, Metric, converter, metric_set


async def known_metrics(conn: AsyncConnection, scope: Scope) -> dict[str, Metric]:
    """The canonical metrics and those the tenant's device profiles declare."""
    out = dict(CANONICAL_METRICS)
    for declared in await registry.profile_metric_specs(conn, scope):
        try:
            for name, metric in metric_set(declared).items():
                out.setdefault(name, metric)
        except Invalid:
            continue  # a profile saved before its metrics were checked: its own problem
    return out


def _nodes(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, node
    for i, child in enumerate(node.get("conditions") or ()):
        yield from _nodes(child, f"{path}.conditions.{i}")


def condition_errors(condition: Mapping[str, Any], metrics: Mapping[str, Metric]) -> list[FieldError]:
    """Errors named by their path in the rule (``condition.conditions.1.unit``)."""
    errors: list[FieldError] = []
    for path, node in _nodes(condition, "condition"):
        if "metric" in node:
            name = node["metric"]
            if name not in metrics:
                errors.append(
                    FieldError(
                        f"{path}.metric", f"unknown metric '{name}': not canonical, no profile declares it"
                    )
                )
            elif metrics[name].kind == "boolean" and node["kind"] not in (
                "threshold",
                "duration",
                "cumulative",
            ):
                errors.append(
                    FieldError(f"{path}.metric", f"'{name}' is a boolean; compare it, do not rate it")
                )
            else:
                try:
                    convert = converter(node.get("unit"), name, metrics)
                except Invalid as exc:
                    errors.append(
                        FieldError(f"{path}.unit", exc.errors[0].reason if exc.errors else exc.detail)
                    )
                else:
                    # A limit the metric cannot take (0.5 for a boolean) would leave the rule
                    # saved but never evaluated.
                    for key in ("value", "clear_at"):
                        if node.get(key) is not None:
                            try:
                                convert(node[key])
                            except ValueError as exc:
                                errors.append(FieldError(f"{path}.{key}", f"not a {name} limit: {exc}"))
        if node.get("polygon") is not None:
            reason = polygon_error([tuple(p) for p in node["polygon"]])
            if reason:
                errors.append(FieldError(f"{path}.polygon", reason))
    return errors


def polygon_error(points: Sequence[tuple[float, float]]) -> str | None:
    """Why [lat, lon] vertices do not make a simple polygon, or None."""
    ring = list(points[:-1]) if len(points) > 1 and points[0] == points[-1] else list(points)
    for i, (lat, lon) in enumerate(ring):
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"vertex {i} ({lat}, {lon}) is not a latitude and longitude"
    if len(set(ring)) < 3:
        return "a polygon needs at least 3 distinct vertices"
    edges = list(pairwise([*ring, ring[0]]))
    for i, a in enumerate(edges):
        for j in range(i + 1, len(edges)):
            if j in (i + 1, i - 1) or (i == 0 and j == len(edges) - 1):
                continue  # neighbours share a vertex
            if _cross(a, edges[j]):
                return f"edges {i} and {j} cross: the polygon is not simple"
    return None


def _cross(
    a: tuple[tuple[float, float], tuple[float, float]], b: tuple[tuple[float, float], tuple[float, float]]
) -> bool:
    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    (p1, p2), (q1, q2) = a, b
    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def _sites(condition: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"{path}.site_id", node["site_id"])
        for path, node in _nodes(condition, "condition")
        if node.get("site_id")
    ]


async def check_rules(
    conn: AsyncConnection,
    scope: Scope,
    values: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any] | None],
) -> list[tuple[int, FieldError]]:
    """The resource validator: one query for metrics, two per rule (its sites, its code and scope)."""
    metrics = await known_metrics(conn, scope)
    errors: list[tuple[int, FieldError]] = []
    r = rules_rule
    for i, (v, row) in enumerate(zip(values, rows, strict=True)):
        condition = RuleIn.model_validate(v).condition.model_dump(mode="json")
        errors += [(i, e) for e in condition_errors(condition, metrics)]
        fenced = _sites(condition)
        live = await registry.live_site_ids(conn, scope, [uuid.UUID(site) for _, site in fenced])
        for field, site in fenced:
            if uuid.UUID(site) not in live:
                errors.append((i, FieldError(field, f"no site {site} in this tenant")))
        same = [r.c.code == v["code"]]
        same += [r.c[f].is_(None) if v.get(f) is None else r.c[f] == v[f] for f in SCOPE_FIELDS]
        other = await another_live(conn, scope, r, same, row)
        if other is not None:
            errors.append(
                (i, FieldError("code", f"rule {other} already has this code at this scope; change it"))
            )
    return errors
