"""The operations console, served by the API's process: pages at ``/``, files at
``/console/static/``, the login form at ``/console/login``.

Above the API in the layers: the console app is the API app with the pages added, so the
pages reach data only through /v1 (or the API's own session helpers) with the caller's Scope.
"""

from supplyline.console.app import create_console_app, serve_app
from supplyline.console.pages import built_views

__all__ = ["built_views", "create_console_app", "serve_app"]
