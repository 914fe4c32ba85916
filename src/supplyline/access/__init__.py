"""Tenants, API keys, the authentication that turns a credential into a Scope, and quotas."""

from supplyline.access.events import EVENT_TYPES
from supplyline.access.quota_service import (
    QuotaView,
    clear_tenant_quota,
    key_quota,
    set_key_quota,
    set_tenant_quota,
    tenant_quota,
)
from supplyline.access.quotas import UNLIMITED, Quota
from supplyline.access.service import (
    ApiKeyView,
    CreatedKey,
    TenantView,
    authenticate,
    create_api_key,
    create_platform_key,
    create_tenant,
    get_tenant,
    get_tenant_by_slug,
    list_api_keys,
    list_tenants,
    revoke_api_key,
)
from supplyline.access.throttle import Throttle

__all__ = [
    "EVENT_TYPES",
    "UNLIMITED",
    "ApiKeyView",
    "CreatedKey",
    "Quota",
    "QuotaView",
    "TenantView",
    "Throttle",
    "authenticate",
    "clear_tenant_quota",
    "create_api_key",
    "create_platform_key",
    "create_tenant",
    "get_tenant",
    "get_tenant_by_slug",
    "key_quota",
    "list_api_keys",
    "list_tenants",
    "revoke_api_key",
    "set_key_quota",
    "set_tenant_quota",
    "tenant_quota",
]
