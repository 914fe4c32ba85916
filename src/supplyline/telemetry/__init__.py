"""Telemetry: device credentials, signed ingestion, normalisation, storage and queries.

The flow, one sub-package a stage: ``devices`` (who may send) -> ``ingest`` (verify, decode,
check) with ``mapping`` (vendor payloads as data) -> ``storage`` (group commit, compaction,
retention) -> ``query`` (series, latest values, device health); ``mqtt`` feeds ``ingest`` from
the broker. ``service`` wires the parts; this module is the only surface other packages use.
"""

from supplyline.telemetry.devices.credentials import (
    issue_credential,
    list_credentials,
    revoke_credentials,
    sign,
)
from supplyline.telemetry.devices.directory import DeviceDirectory
from supplyline.telemetry.events import EVENT_TYPES
from supplyline.telemetry.mapping.compiler import Normalizer, compile_mapping, parse_canonical
from supplyline.telemetry.mapping.formats import with_profile_mapping_check
from supplyline.telemetry.mapping.resources import RESOURCES
from supplyline.telemetry.mapping.vendors import builtin_mappings, builtin_sample
from supplyline.telemetry.metrics import CANONICAL_METRICS, Metric, converter, metric_set
from supplyline.telemetry.mqtt import Bridge, BrokerRefused, Signed, broker_address, build_bridge, publish_all
from supplyline.telemetry.mqtt.messages import (
    TOPIC_PREFIX,
    TelemetryMessages,
    list_dead_letters,
    replay_dead_letter,
    telemetry_topic,
)
from supplyline.telemetry.query.fleet import HealthFilter, health_page
from supplyline.telemetry.query.health import device_status
from supplyline.telemetry.query.series import (
    AGGREGATES,
    SeriesRequest,
    buckets,
    latest,
    raw_points,
    read_series,
)
from supplyline.telemetry.service import TelemetryServices, build_telemetry
from supplyline.telemetry.storage.codec import Columns, Series
from supplyline.telemetry.storage.retention import RulesSource, TenantRules

__all__ = [
    "AGGREGATES",
    "CANONICAL_METRICS",
    "EVENT_TYPES",
    "RESOURCES",
    "TOPIC_PREFIX",
    "Bridge",
    "BrokerRefused",
    "Columns",
    "DeviceDirectory",
    "HealthFilter",
    "Metric",
    "Normalizer",
    "RulesSource",
    "Series",
    "SeriesRequest",
    "Signed",
    "TelemetryMessages",
    "TelemetryServices",
    "TenantRules",
    "broker_address",
    "buckets",
    "build_bridge",
    "build_telemetry",
    "builtin_mappings",
    "builtin_sample",
    "compile_mapping",
    "converter",
    "device_status",
    "health_page",
    "issue_credential",
    "latest",
    "list_credentials",
    "list_dead_letters",
    "metric_set",
    "parse_canonical",
    "publish_all",
    "raw_points",
    "read_series",
    "replay_dead_letter",
    "revoke_credentials",
    "sign",
    "telemetry_topic",
    "with_profile_mapping_check",
]
