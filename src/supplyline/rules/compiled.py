"""A tenant's live rules compiled for evaluation: each rule's condition, the winner per code
for a place (``ScopeIndex``), and per-rule arrays that let comparisons be screened for every
row of a batch at once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from supplyline.rules.conditions import Area, compile_condition
from supplyline.rules.engine import ComparisonNode, Compiled
from supplyline.rules.scoping import ScopeIndex
from supplyline.telemetry import CANONICAL_METRICS

log = logging.getLogger(__name__)

# How a comparison rule is pre-screened over all rows: 0 stepped per device, else its kind.
OTHER, THRESHOLD, HYSTERESIS, DURATION, CUMULATIVE = range(5)


@dataclass
class RuleSet:
    """A tenant's live rules compiled, with per-rule arrays for the vectorised screen.

    The arrays have one entry more than there are rules: a sentinel at index -1 that never
    screens in (no metric, kind OTHER), so that -1 ("no rule of this code applies") can index
    them directly.
    """

    rules: list[dict[str, Any]]
    compiled: list[Compiled | None]
    codes: list[str]
    screen: npt.NDArray[np.int8]  # per rule: OTHER..CUMULATIVE
    limit: npt.NDArray[np.float64]
    clear_at: npt.NDArray[np.float64]
    rising: npt.NDArray[np.bool_]
    strict: npt.NDArray[np.bool_]  # > or < rather than >= or <=
    metric_of: npt.NDArray[np.int32]  # index in ``metrics`` of the compared metric, or -1
    metrics: list[str]
    index: ScopeIndex
    position: dict[uuid.UUID, int]  # rule id -> index
    code_of: list[int]  # rule index -> code index

    @classmethod
    def build(cls, rules: list[dict[str, Any]], areas: Mapping[str, Area]) -> RuleSet:
        n = len(rules)
        out = cls(
            rules,
            [],
            sorted({r["code"] for r in rules}),
            np.zeros(n + 1, np.int8),
            np.full(n + 1, np.nan),
            np.full(n + 1, np.nan),
            np.zeros(n + 1, bool),
            np.zeros(n + 1, bool),
            np.full(n + 1, -1, np.int32),
            [],
            ScopeIndex(rules, sorted({r["code"] for r in rules})),
            {r["id"]: i for i, r in enumerate(rules)},
            [],
        )
        code_at = {code: c for c, code in enumerate(out.codes)}
        out.code_of = [code_at[r["code"]] for r in rules]
        for i, rule in enumerate(rules):
            try:
                compiled = compile_condition(rule["condition"], CANONICAL_METRICS, areas)
            except (ValueError, KeyError) as exc:  # e.g. a profile-declared metric
                log.info("rule %s (%s) is not evaluated: %s", rule["id"], rule["code"], exc)
                compiled = None
            out.compiled.append(compiled)
            node = compiled.root if compiled is not None else None
            if isinstance(node, ComparisonNode):
                if node.metric not in out.metrics:
                    out.metrics.append(node.metric)
                out.metric_of[i] = out.metrics.index(node.metric)
                out.limit[i] = node.limit
                out.rising[i] = node.rising
                out.strict[i] = node.op.__name__ in ("gt", "lt")
                if node.kind == "cumulative":
                    out.screen[i] = CUMULATIVE
                elif node.for_ms:
                    out.screen[i] = DURATION
                elif node.clear_at is not None:
                    out.screen[i], out.clear_at[i] = HYSTERESIS, node.clear_at
                else:
                    out.screen[i] = THRESHOLD
        return out
