"""The access log never records a query string (it may hold what a user searched for)."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient

from vocmine_api import create_app
from vocmine_api.access_log import ACCESS_LOGGER


def test_the_access_log_names_the_route_not_the_query(api_store, settings, caplog):
    with TestClient(create_app(settings, store=api_store)):
        pass  # creating the app installs the filter
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        logging.getLogger(ACCESS_LOGGER).info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/search?q=jane.doe.piitest", "1.1", 200
        )
    [line] = [r.getMessage() for r in caplog.records if r.name == ACCESS_LOGGER]
    assert line == '127.0.0.1:5000 - "GET /v1/search HTTP/1.1" 200'
    assert "jane" not in line
