from __future__ import annotations

import json

import pytest

from tests.cli.conftest import Invoke, json_lines


@pytest.fixture
def two_tenants(migrated: None, invoke: Invoke) -> None:
    invoke("admin", "create-tenant", "acme", "--name", "Acme")
    invoke("admin", "create-tenant", "globex", "--name", "Globex")


@pytest.mark.usefixtures("two_tenants")
def test_tail_json_prints_cloudevents_in_log_order(invoke: Invoke) -> None:
    events = json_lines(invoke("events", "tail", "--json").output)
    assert [e["type"] for e in events] == [
        "supplyline.tenant.created.v1",
        "supplyline.api_key.created.v2",
    ] * 2
    assert all(e["specversion"] == "1.0" for e in events)
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    assert events[0]["data"]["slug"] == "acme"


@pytest.mark.usefixtures("two_tenants")
def test_tail_filters_by_tenant_type_and_position(invoke: Invoke) -> None:
    globex = json_lines(invoke("events", "tail", "--json", "--tenant", "globex").output)
    assert {e["tenantid"] for e in globex} == {globex[0]["data"]["id"]}
    created = json_lines(invoke("events", "tail", "--json", "--type", "tenant.created").output)
    assert [e["data"]["slug"] for e in created] == ["acme", "globex"]
    later = json_lines(invoke("events", "tail", "--json", "--after", "2", "--limit", "1").output)
    assert [e["position"] for e in later] == [3]


@pytest.mark.usefixtures("two_tenants")
def test_tail_table_and_mistakes(invoke: Invoke) -> None:
    table = invoke("events", "tail").output
    assert "tenant.created.v1" in table
    assert "acme" in table
    unknown = invoke("events", "tail", "--type", "tenant.exploded", ok=False)
    assert unknown.exit_code == 1
    assert "unknown event type 'tenant.exploded'" in unknown.stderr
    nobody = invoke("events", "tail", "--tenant", "nobody", ok=False)
    assert "no tenant 'nobody'" in nobody.stderr


@pytest.mark.usefixtures("two_tenants")
def test_replay_reprocesses_the_log_and_status_shows_it(invoke: Invoke) -> None:
    before = json.loads(invoke("events", "consumers", "--json").output)["items"]
    assert [(c["name"], c["position"], c["lag"]) for c in before] == [
        ("entity-index", 0, 4),
        ("epcis.platform_events", 0, 4),
        ("integrations.connections", 0, 4),
        ("planning.demand", 0, 4),
        ("planning.reforecast", 0, 4),
        ("rules.actions", 0, 4),
        ("sharing.webhooks", 0, 4),
        ("trace.checkpoints", 0, 4),
    ]
    replayed = json.loads(
        invoke("events", "replay", "--consumer", "entity-index", "--from", "1", "--json").output
    )
    assert replayed["processed"] == 4
    after = json.loads(invoke("events", "consumers", "--json").output)["items"]
    index = next(c for c in after if c["name"] == "entity-index")
    assert (index["position"], index["lag"]) == (4, 0)
    partial = invoke("events", "replay", "--consumer", "entity-index", "--from", "3")
    assert "2 events processed" in partial.output
    assert "entity-index" in invoke("events", "consumers").output


@pytest.mark.usefixtures("migrated")
def test_replay_of_an_unknown_consumer_names_the_known_ones(invoke: Invoke) -> None:
    result = invoke("events", "replay", "--consumer", "nope", ok=False)
    assert result.exit_code == 1
    known = (
        "entity-index, epcis.platform_events, integrations.connections, planning.demand, "
        "planning.reforecast, rules.actions, sharing.webhooks, trace.checkpoints"
    )
    assert f"known: {known}" in result.stderr
