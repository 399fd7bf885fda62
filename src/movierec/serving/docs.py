"""The interactive API docs at ``/docs``, served without the network when possible.

FastAPI's default page loads Swagger UI's script and stylesheet from a CDN, so on a machine
without internet access ``/docs`` is blank. The ``serve`` extra installs ``fastapi-offline`` (MIT),
which ships Swagger UI 5's files (Apache-2.0; version 5 because FastAPI writes OpenAPI 3.1, which
Swagger UI 4 cannot render); they are served from ``/docs-assets``. Without that package the page
says it needs the network to load them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS", "install_docs", "local_assets"]

ASSETS = "/docs-assets"
_NEEDS_NETWORK = (
    '<p style="font-family:sans-serif;margin:1em">This page loads Swagger UI from a CDN and needs the network '
    "(install <code>fastapi-offline</code>, part of movierec[serve], to serve it locally). The schema itself is at "
    '<a href="/openapi.json">/openapi.json</a>.</p>'
)


def local_assets() -> Path | None:
    """The folder holding ``swagger-ui-bundle.js`` and ``swagger-ui.css``, or ``None`` without the package."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    path = Path(fastapi_offline.__file__).resolve().parent / "static"
    return path if (path / "swagger-ui-bundle.js").is_file() and (path / "swagger-ui.css").is_file() else None


def install_docs(app: FastAPI) -> None:
    """``GET /docs`` (create the app with ``docs_url=None``), with local assets when they are installed."""
    assets = local_assets()
    if assets is not None:
        app.mount(ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        title = f"{app.title} API"
        if assets is None:
            page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=title)
            return HTMLResponse(bytes(page.body).decode().replace("<body>", "<body>" + _NEEDS_NETWORK, 1))
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )
