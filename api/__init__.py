"""vocmine's HTTP API (FastAPI): ``create_app()`` in ``api/app.py``."""

from api.app import create_app

__all__ = ["create_app"]
