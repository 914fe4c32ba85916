"""Data ownership and retention: how long each class of a tenant's data is kept, legal holds
that suspend purging, and the purge job that leaves an audit entry for what it deleted.

Data classes: ``telemetry`` (readings), ``events`` (the event log, audit entries aside),
``audit`` (the audit trail) and ``traceability`` (the ledger's checkpoints). Retention is set
per tenant (``/v1/governance/retention``); telemetry's per-profile policies
(``/v1/retention-policies``) still come first for telemetry. A legal hold on a class, or on all
of them, suspends purging in its tenant until it is released.

What other code calls:

``retention(conn, scope, telemetry_default)`` / ``set_retention(uow, scope, days, telemetry_default)``
    Read or replace the caller's tenant's retention (``governance:read`` / ``governance:write``).
``place_hold(uow, scope, data_class, reason)`` / ``release_hold(uow, scope, hold_id, reason)`` /
``list_holds(conn, scope, active=None)``
    Legal holds of the caller's tenant.
``telemetry_rules(conn, tenant_id)``
    Telemetry's ``RulesSource``: the tenant's telemetry default and whether it is held.
``Purger(uow, read_engine, ledger_key, consumer_names).run(tenant_id=None, now=None)``
    Purge the log's classes (traceability, audit, events); see ``governance.purge``.
"""

from supplyline.governance.model import (
    DATA_CLASSES,
    MAX_DAYS,
    MIN_DAYS,
    ClassRetention,
    DataClass,
    LegalHold,
    RetentionView,
)
from supplyline.governance.purge import LOG_CLASSES, Purged, Purger
from supplyline.governance.service import (
    list_holds,
    place_hold,
    release_hold,
    retention,
    set_retention,
    telemetry_rules,
)

__all__ = [
    "DATA_CLASSES",
    "LOG_CLASSES",
    "MAX_DAYS",
    "MIN_DAYS",
    "ClassRetention",
    "DataClass",
    "LegalHold",
    "Purged",
    "Purger",
    "RetentionView",
    "list_holds",
    "place_hold",
    "release_hold",
    "retention",
    "set_retention",
    "telemetry_rules",
]
