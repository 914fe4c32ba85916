"""The HTTP API: thin routers over the capabilities' use cases."""

from supplyline.api.app import create_app

__all__ = ["create_app"]
