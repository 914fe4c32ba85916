"""The app ``supplyline serve`` runs: the API with the console mounted beside /v1."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supplyline.api import create_app
from supplyline.bootstrap import Services, build_services
from supplyline.console import pages
from supplyline.settings import Settings

STATIC_PATH = "/console/static"


class _WithPageHeaders:
    """The console's files with the pages' headers (a page opened by its file URL runs under
    the same CSP); revalidated rather than cached blindly, so a new release shows at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [
            (k.lower().encode(), v.encode()) for k, v in pages.PAGE_HEADERS.items() if k != "Cache-Control"
        ] + [(b"cache-control", b"no-cache")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_console_app(svc: Services, *, run_consumers: bool | None = None) -> FastAPI:
    """The API app (``supplyline.api.create_app``) and the console's pages and files."""
    app = create_app(svc, run_consumers=run_consumers)
    app.include_router(pages.router)
    # Files from the package (shipped in the wheel), found through the import system.
    files = StaticFiles(packages=[("supplyline.console", "static")])
    app.mount(STATIC_PATH, _WithPageHeaders(files), name="console-static")
    return app


def serve_app() -> FastAPI:
    """Entry point for ``uvicorn --factory supplyline.console:serve_app``."""
    return create_console_app(build_services(Settings()))
