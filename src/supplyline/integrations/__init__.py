"""Integrations: installed plug-ins and the tenants' connections to them, the outbox of messages
to other systems (signed webhooks, the ERP, connections), the ERP integration."""

from supplyline.integrations.connections import (
    ConnectionDispatcher,
    Enable,
    Sealer,
    archive,
    enable,
    get,
    headers_for,
    list_connections,
    set_status,
    target,
    test,
)
from supplyline.integrations.delivery import Breakers, DeliveryPolicy
from supplyline.integrations.erp import ErpAdapter, ErpConfig, ErpIntegration, erp_message
from supplyline.integrations.events import EVENT_TYPES, NOTIFICATION_QUEUED
from supplyline.integrations.outbox import (
    Deliverer,
    SecretsFor,
    deliveries_of,
    enqueue,
    list_deliveries,
    queue_webhook,
    redeliver,
    replayed,
)
from supplyline.integrations.plugins import EndpointDown, Integration, Manifest, Message, Registry, installed
from supplyline.integrations.signing import new_secret, secret_key
from supplyline.integrations.ssrf import TargetPolicy, check_url

__all__ = [
    "EVENT_TYPES",
    "NOTIFICATION_QUEUED",
    "Breakers",
    "ConnectionDispatcher",
    "Deliverer",
    "DeliveryPolicy",
    "Enable",
    "EndpointDown",
    "ErpAdapter",
    "ErpConfig",
    "ErpIntegration",
    "Integration",
    "Manifest",
    "Message",
    "Registry",
    "Sealer",
    "SecretsFor",
    "TargetPolicy",
    "archive",
    "check_url",
    "deliveries_of",
    "enable",
    "enqueue",
    "erp_message",
    "get",
    "headers_for",
    "installed",
    "list_connections",
    "list_deliveries",
    "new_secret",
    "queue_webhook",
    "redeliver",
    "replayed",
    "secret_key",
    "set_status",
    "target",
    "test",
]
