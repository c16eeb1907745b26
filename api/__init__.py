"""vocmine's HTTP API (FastAPI): ``create_app()`` in ``api/app.py``."""

from vocmine_api.app import create_app

__all__ = ["create_app"]
