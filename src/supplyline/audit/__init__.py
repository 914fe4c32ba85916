"""The audit trail: every write and every security-relevant read or refusal, append-only.

An entry is an ``audit.recorded`` event in the event log, so it commits in the transaction of
the write it describes, and the traceability recorder chains it like any checkpointed event:
``supplyline ledger verify`` reports an entry edited or deleted afterwards.

What other code calls:

``record(uow, scope, action, object_, *, outcome="ok", before=None, after=None, reason=None) -> None``
    Stage an entry in an open unit of work (it commits with it). API writes need not call it:
    ``api.idempotency.write`` records each write once. For writes outside the API.

``await record_security(uows, scope, action, object_, *, outcome, reason=None, after=None,
tenant_id=None, key_prefix=None) -> None``
    Record in a transaction of its own, committed at once: logins (``auth.login``, ok or
    denied), grant changes made outside a write, exports, refusals. ``uows`` is the unit of
    work factory (``Services.uow``); ``scope`` is None for an unknown caller, then
    ``tenant_id`` names the tenant if known; ``key_prefix`` is the public part of a key tried.

``action`` is a stable dotted name (``shipments.create``, ``api_keys.create``, ``auth.denied``,
``audit.export``); ``object_`` the subject (``shipments/<id>``). ``before``/``after`` are JSON
documents; keys named token, secret, secret_hash or password are dropped at any depth. The
request id, method, path and correlation id come from ``current_origin``, which the API's
middleware sets for every request.
"""

from supplyline.audit.events import AUDIT_RECORDED, EVENT_TYPES, AuditRecorded, Outcome
from supplyline.audit.export import COLUMNS, csv_text
from supplyline.audit.queries import AuditFilter, entry_view, list_entries, stream_entries
from supplyline.audit.record import Origin, current_origin, entry, record, record_security, without_secrets

__all__ = [
    "AUDIT_RECORDED",
    "COLUMNS",
    "EVENT_TYPES",
    "AuditFilter",
    "AuditRecorded",
    "Origin",
    "Outcome",
    "csv_text",
    "current_origin",
    "entry",
    "entry_view",
    "list_entries",
    "record",
    "record_security",
    "stream_entries",
    "without_secrets",
]
