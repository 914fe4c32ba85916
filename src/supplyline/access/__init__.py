"""Identity and access: tenants, users and sessions, API keys, roles as data, grants, quotas.

``authenticate`` turns a credential into a Scope carrying the caller's live grants; what those
grants reach is applied to queries in one place (``supplyline.resources.scoped``) with the
rules of ``supplyline.access.visibility``.
"""

from supplyline.access.auth import authenticate, scope_of
from supplyline.access.events import EVENT_TYPES
from supplyline.access.grants import (
    AssignRole,
    assign_role,
    define_role,
    list_assignments,
    list_roles,
    load_grants,
    revoke_assignment,
)
from supplyline.access.idempotency import IdempotentAnswer, claim_key, recorded_answer, settle_key
from supplyline.access.people import (
    EMAIL_RE,
    MIN_PASSWORD,
    Session,
    create_user,
    get_user,
    list_users,
    login,
    logout,
    revoke_sessions,
    update_user,
)
from supplyline.access.quota_service import (
    QuotaView,
    clear_tenant_quota,
    key_quota,
    set_key_quota,
    set_tenant_quota,
    tenant_quota,
)
from supplyline.access.quotas import MAX_BURST, MAX_DEVICES, MAX_RATE, MIN_RATE, UNLIMITED, Quota
from supplyline.access.roles import BUILT_IN, RoleDef
from supplyline.access.service import (
    ApiKeyView,
    CreatedKey,
    TenantView,
    create_api_key,
    create_platform_key,
    create_tenant,
    get_tenant,
    get_tenant_by_slug,
    list_api_keys,
    list_tenants,
    refused_key_scope,
    revoke_api_key,
    tenant_id_of_slug,
)
from supplyline.access.throttle import Throttle
from supplyline.access.visibility import VISIBILITY, events_condition, telemetry_windows

__all__ = [
    "BUILT_IN",
    "EMAIL_RE",
    "EVENT_TYPES",
    "MAX_BURST",
    "MAX_DEVICES",
    "MAX_RATE",
    "MIN_PASSWORD",
    "MIN_RATE",
    "UNLIMITED",
    "VISIBILITY",
    "ApiKeyView",
    "AssignRole",
    "CreatedKey",
    "IdempotentAnswer",
    "Quota",
    "QuotaView",
    "RoleDef",
    "Session",
    "TenantView",
    "Throttle",
    "assign_role",
    "authenticate",
    "claim_key",
    "clear_tenant_quota",
    "create_api_key",
    "create_platform_key",
    "create_tenant",
    "create_user",
    "define_role",
    "events_condition",
    "get_tenant",
    "get_tenant_by_slug",
    "get_user",
    "key_quota",
    "list_api_keys",
    "list_assignments",
    "list_roles",
    "list_tenants",
    "list_users",
    "load_grants",
    "login",
    "logout",
    "recorded_answer",
    "refused_key_scope",
    "revoke_api_key",
    "revoke_assignment",
    "revoke_sessions",
    "scope_of",
    "set_key_quota",
    "set_tenant_quota",
    "settle_key",
    "telemetry_windows",
    "tenant_id_of_slug",
    "tenant_quota",
    "update_user",
]
