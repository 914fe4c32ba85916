"""Tenants, API keys and the authentication that turns a credential into a Scope."""

from supplyline.access.events import EVENT_TYPES
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

__all__ = [
    "EVENT_TYPES",
    "ApiKeyView",
    "CreatedKey",
    "TenantView",
    "authenticate",
    "create_api_key",
    "create_platform_key",
    "create_tenant",
    "get_tenant",
    "get_tenant_by_slug",
    "list_api_keys",
    "list_tenants",
    "revoke_api_key",
]
