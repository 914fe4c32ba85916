"""The app ``supplyline serve`` runs: the API with the console mounted beside /v1."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from supplyline.api import create_app
from supplyline.bootstrap import Services, build_services
from supplyline.console import pages
from supplyline.settings import Settings

STATIC_PATH = "/console/static"


def create_console_app(svc: Services, *, run_consumers: bool | None = None) -> FastAPI:
    """The API app (``supplyline.api.create_app``) and the console's pages and files."""
    app = create_app(svc, run_consumers=run_consumers)
    app.include_router(pages.router)
    # Files from the package (shipped in the wheel), found through the import system.
    app.mount(STATIC_PATH, StaticFiles(packages=[("supplyline.console", "static")]), name="console-static")
    return app


def serve_app() -> FastAPI:
    """Entry point for ``uvicorn --factory supplyline.console:serve_app``."""
    return create_console_app(build_services(Settings()))
