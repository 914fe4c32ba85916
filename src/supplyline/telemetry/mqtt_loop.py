"""paho's network I/O on the asyncio event loop, without paho's own thread.

With ``loop_start`` paho reads in a thread of its own, and every handover to the event loop,
and back for each acknowledgement, crosses the GIL: under load the reading thread waits for the
interpreter while a batch is being checked, and the broker's messages queue up in the socket.
Here the loop itself reads the socket (``add_reader``), writes acknowledgements when the socket
can take them (``add_writer``), and runs paho's housekeeping (keep-alive, reconnection) once a
second; one thread does everything, with no lock handed back and forth.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

log = logging.getLogger(__name__)
Socket = socket.socket | Any  # paho hands over a socket, an SSL socket or a websocket wrapper


class PahoOnLoop:
    """Drives ``client`` from the running loop; ``received`` counts messages (the owner bumps it)."""

    def __init__(self, client: paho.Client, *, reads_per_wakeup: int = 512) -> None:
        self.client = client
        self.loop = asyncio.get_running_loop()
        self.reads_per_wakeup = reads_per_wakeup
        self.received = 0
        self.stopping = False
        self._misc: asyncio.Task[None] | None = None
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._written

    def start(self) -> None:
        if self._misc is None:
            self._misc = self.loop.create_task(self._housekeeping(), name="mqtt-housekeeping")

    async def stop(self) -> None:
        """Send DISCONNECT and close the socket; no reconnection after this."""
        self.stopping = True
        if self._misc is not None:
            self._misc.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._misc
            self._misc = None
        self.client.disconnect()
        self.client.loop_write()  # sends DISCONNECT now; paho then closes the socket

    # ---- paho's socket callbacks -----------------------------------------------------------

    def _opened(self, _c: paho.Client, _u: object, sock: Socket) -> None:
        self.loop.add_reader(sock, self._readable)

    def _closed(self, _c: paho.Client, _u: object, sock: Socket) -> None:
        self.loop.remove_reader(sock)
        self.loop.remove_writer(sock)

    def _want_write(self, _c: paho.Client, _u: object, sock: Socket) -> None:
        self.loop.add_writer(sock, self.client.loop_write)

    def _written(self, _c: paho.Client, _u: object, sock: Socket) -> None:
        self.loop.remove_writer(sock)

    def _readable(self) -> None:
        """Read what the socket holds: paho's loop_read takes one packet a call."""
        for _ in range(self.reads_per_wakeup):
            before = self.received
            if self.client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or self.received == before:
                # Nothing more to read (or a packet that is not a message, such as a PINGRESP:
                # the loop calls again if more is waiting).
                return

    async def _housekeeping(self) -> None:
        """Keep-alive pings and reconnection with back-off, once a second."""
        delay = 0.5
        while not self.stopping:
            if self.client.socket() is None:
                try:
                    # Blocking connect (connect_timeout at most); the loop has nothing else to
                    # do for MQTT while the broker is away.
                    self.client.reconnect()
                    delay = 0.5
                except OSError as exc:
                    log.warning("MQTT broker unreachable (%s); retrying in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    continue
            self.client.loop_misc()
            await asyncio.sleep(1.0)
