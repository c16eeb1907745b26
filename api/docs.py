"""``/docs``: Swagger UI for dashboard developers, served from this process with no CDN.

FastAPI's own ``/docs`` page loads Swagger UI's script and style from a CDN, which a server without
internet (and a browser that trusts only this host) cannot reach. The files come from the PyPI
package ``swagger-ui-bundle`` (pinned in the lock), served under ``/docs/assets``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def mount_docs(app: FastAPI, schema_url: str) -> None:
    from swagger_ui_bundle import swagger_ui_path

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=schema_url,
            title="vocmine API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )
