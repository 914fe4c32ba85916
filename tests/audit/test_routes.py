"""Every write route is known to the audit trail, with the action name its entries carry.

A new write route fails here until it is listed: it must go through ``idempotency.write``
(which records it), or be named below as not a write of the model.
"""

from __future__ import annotations

from supplyline.api import create_app
from supplyline.api.trail import action_name, object_name
from supplyline.bootstrap import Services

WRITES = {"POST", "PATCH", "PUT", "DELETE"}
# Not changes to the model: readings are data (recorded by telemetry, not audited), and a dry
# run of a rule writes nothing.
NOT_AUDITED = {("POST", "/v1/telemetry"), ("POST", "/v1/rules/dry-run")}
# Recorded by the route itself (auth.login, ok or denied, with the tenant; auth.logout).
RECORDED_BY_ROUTE = {("POST", "/v1/auth/login"), ("POST", "/v1/auth/logout")}
OTHER_WRITES = {
    ("POST", "/v1/tenants"): "tenants.create",
    ("POST", "/v1/api-keys"): "api_keys.create",
    ("POST", "/v1/api-keys/{key_id}/revoke"): "api_keys.revoke",
    ("POST", "/v1/imports"): "imports.create",
    ("POST", "/v1/devices/{id}/credentials"): "devices.credentials",  # named .issue by the route
    ("POST", "/v1/devices/{id}/credentials/revoke"): "devices.credentials.revoke",
    ("POST", "/v1/dead-letters/{letter_id}/replay"): "dead_letters.replay",
    ("POST", "/v1/alarms/{alarm_id}/acknowledge"): "alarms.acknowledge",
    ("POST", "/v1/alarms/{alarm_id}/assign"): "alarms.assign",
    ("POST", "/v1/alarms/{alarm_id}/comments"): "alarms.comments",  # named .comment by the route
    ("POST", "/v1/alarms/{alarm_id}/clear"): "alarms.clear",
    ("POST", "/v1/holds"): "holds.create",
    ("POST", "/v1/holds/{hold_id}/release"): "holds.release",
    ("PUT", "/v1/roles/{code}"): "roles.replace",
    ("POST", "/v1/role-assignments"): "role_assignments.create",
    ("POST", "/v1/role-assignments/{assignment_id}/revoke"): "role_assignments.revoke",
    ("POST", "/v1/users"): "users.create",
    ("PATCH", "/v1/users/{user_id}"): "users.update",
    ("POST", "/v1/users/{user_id}/revoke-sessions"): "users.revoke_sessions",
    ("POST", "/v1/webhooks"): "webhooks.create",
    ("POST", "/v1/webhooks/{subscription_id}/archive"): "webhooks.archive",
    ("POST", "/v1/webhooks/{subscription_id}/rotate-secret"): "webhooks.rotate_secret",
    ("POST", "/v1/webhooks/{subscription_id}/replay"): "webhooks.replay",
    ("POST", "/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/retry"): "webhooks.deliveries.retry",
    ("PUT", "/v1/tenants/{tenant_id}/quotas"): "tenants.quotas",  # named .set by the route
    ("DELETE", "/v1/tenants/{tenant_id}/quotas"): "tenants.quotas",  # named .clear by the route
    ("PUT", "/v1/api-keys/{key_id}/quotas"): "api_keys.quotas",  # named .set by the route
    ("PUT", "/v1/governance/retention"): "governance.retention.replace",
    ("POST", "/v1/governance/legal-holds"): "governance.legal_holds.create",
    ("POST", "/v1/governance/legal-holds/{hold_id}/release"): "governance.legal_holds.release",
    ("POST", "/v1/traceability/recalls"): "traceability.recalls.create",
    ("POST", "/v1/epcis/capture"): "epcis.capture.create",
    ("POST", "/v1/replenishment/recommendations"): "replenishment.recommendations.create",
    ("POST", "/v1/forecasts/runs"): "forecasts.runs.create",
    ("POST", "/v1/forecast-overrides"): "forecast_overrides.create",
    ("DELETE", "/v1/forecast-overrides/{id}"): "forecast_overrides.delete",  # named .withdraw by the route
    ("POST", "/v1/demand-history"): "demand_history.create",
    ("POST", "/v1/connections"): "connections.create",
    ("POST", "/v1/connections/{connection_id}/pause"): "connections.pause",
    ("POST", "/v1/connections/{connection_id}/resume"): "connections.resume",
    ("POST", "/v1/connections/{connection_id}/test"): "connections.test",
    ("POST", "/v1/connections/{connection_id}/archive"): "connections.archive",
    ("POST", "/v1/exports"): "exports.create",
}


def test_every_write_route_is_known(services: Services) -> None:
    paths = create_app(services, run_consumers=False).openapi()["paths"]
    found = {
        (method.upper(), path) for path, ops in paths.items() for method in ops if method.upper() in WRITES
    }
    expected = dict(OTHER_WRITES)
    for spec in services.catalog:
        entity = spec.name.replace("-", "_")
        expected[("POST", f"/v1/{spec.name}")] = f"{entity}.create"
        expected[("PATCH", f"/v1/{spec.name}/{{id}}")] = f"{entity}.update"
        expected[("POST", f"/v1/{spec.name}/{{id}}/archive")] = f"{entity}.archive"
    assert found - NOT_AUDITED - RECORDED_BY_ROUTE == set(expected)
    assert {key: action_name(key[1], key[0]) for key in expected} == expected


def test_objects_are_named_by_the_path() -> None:
    params = {"id": "0190F0E1-0000-7000-8000-000000000001"}
    assert object_name("/v1/sites/{id}", params, None) == "sites/0190f0e1-0000-7000-8000-000000000001"
    assert object_name("/v1/sites/{id}/archive", params, None) == "sites/0190f0e1-0000-7000-8000-000000000001"
    assert object_name("/v1/dead-letters/{letter_id}/replay", {"letter_id": 7}, None) == "dead-letters/7"
    assert object_name("/v1/sites", {}, {"id": "abc"}) == "sites/abc"
    assert object_name("/v1/imports", {}, {"created": {}}) == "imports"
