"""Rule actions are a registry of handlers keyed by kind: every kind a rule may name has one, a
kind without one is refused when the rule is saved, and rules publish no other capability's
events (they ask the owner)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import get_args

import httpx
import pytest

import supplyline.rules
from supplyline.kernel.events import EventType
from supplyline.rules.handlers import ACTIONS, check_actions
from supplyline.rules.model import ActionType
from tests.conftest import TenantCtx

RULES_SRC = Path(supplyline.rules.__file__).parent


def test_every_action_kind_a_rule_may_name_has_a_handler() -> None:
    assert set(ACTIONS) == set(get_args(ActionType))
    check_actions(ACTIONS)
    with pytest.raises(RuntimeError, match="without a handler: hold_lots"):
        check_actions([k for k in ACTIONS if k != "hold_lots"])
    with pytest.raises(RuntimeError, match="page_on_call"):
        check_actions([*ACTIONS, "page_on_call"])


async def test_an_unknown_action_kind_is_refused_when_the_rule_is_saved(
    client: httpx.AsyncClient, tenant: TenantCtx
) -> None:
    body = {
        "code": "cold-chain-max",
        "name": "Too warm",
        "condition": {"kind": "threshold", "metric": "temperature_c", "op": ">", "value": 8},
        "actions": [{"type": "raise_alarm"}, {"type": "page_on_call"}],
    }
    r = await client.post("/v1/rules", json=body, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].startswith("actions.1.type") for e in r.json()["errors"]), r.json()
    assert (await client.get("/v1/rules", headers=tenant.headers)).json()["items"] == []


def test_rules_name_no_event_type_of_another_capability() -> None:
    """An event type of logistics or integrations (``logistics.SHIPMENT_...``) named in a rules
    module means rules would construct that capability's event instead of asking it."""
    found = []
    for path in sorted(RULES_SRC.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
                continue
            try:
                owner = importlib.import_module(f"supplyline.{node.value.id}")
            except ImportError:
                continue
            if isinstance(getattr(owner, node.attr, None), EventType):
                found.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    assert found == []
