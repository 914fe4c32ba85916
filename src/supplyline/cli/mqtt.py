"""``supplyline mqtt-bridge``: ingest telemetry from an MQTT broker until interrupted."""

from __future__ import annotations

from supplyline.cli.common import (
    CliError,
    console,
    fail,
    load_settings,
    open_services,
    run,
    stop_on_signals,
)
from supplyline.cli.compactor import compactor_process
from supplyline.telemetry import build_bridge


def mqtt_bridge() -> None:
    """Subscribe to supplyline/v1/{tenant}/{device}/telemetry (shared subscription) and ingest.

    Configure with SUPPLYLINE_MQTT_URL, SUPPLYLINE_MQTT_GROUP and SUPPLYLINE_MQTT_CLIENT_ID.
    """
    settings = load_settings()
    if not settings.mqtt_url:
        fail("set SUPPLYLINE_MQTT_URL (e.g. mqtt://127.0.0.1:1883) to run the MQTT bridge.")
    url = settings.mqtt_url

    async def main() -> None:
        stop = stop_on_signals()
        async with open_services(settings) as services:
            await services.telemetry.start(compact=settings.compactor == "inline")
            bridge = build_bridge(
                services.telemetry.messages, url, group=settings.mqtt_group, client_id=settings.mqtt_client_id
            )
            try:
                try:
                    await bridge.start()
                except OSError as exc:
                    raise CliError(f"cannot reach the MQTT broker at {url}: {exc}") from None
                console.print(f"MQTT bridge {bridge.client_id} subscribed to {bridge.topic}", highlight=False)
                await bridge.run(stop)
                await bridge.stop()
            finally:
                await services.telemetry.stop()

    with compactor_process(settings):
        run(main)
