"""The store contract (``vocmine.testing.contract``) run against each backend with the same data and
the same assertions: the embedded SQLite store always (twice: aggregating in SQL, and from the
in-memory columns the API serves from), Elasticsearch when VOCMINE_TEST_ES_URL
names a cluster (for example http://elastic:PASSWORD@localhost:9200 from the docker compose setup;
README "Running against Elasticsearch"). Each Elasticsearch test gets its
own index prefix, waits for refreshes so searches see its writes, and deletes its indices after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vocmine.store.protocol import Store
from vocmine.store.sqlite.store import SQLiteStore
from vocmine.testing.contract import StoreContract

ES_URL = os.environ.get("VOCMINE_TEST_ES_URL")
SKIP_REASON = (
    "the Elasticsearch contract run needs a cluster: `ELASTIC_PASSWORD=pw docker compose up -d elasticsearch`, then "
    "VOCMINE_TEST_ES_URL=http://elastic:pw@localhost:9200 (README 'Running against Elasticsearch'; for an https "
    "cluster with a self-signed certificate also set VOCMINE_ES_CA_CERTS)"
)


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        backend = SQLiteStore(str(tmp_path / "store.sqlite"))
        yield backend
        backend.close()


class TestSQLiteStoreServingFromColumns(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        backend = SQLiteStore(str(tmp_path / "store.sqlite"))
        # Aggregations answered from the in-memory columns, kept current by the change log.
        backend.prepare_serving()
        yield backend
        backend.close()


class TestElasticStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        if not ES_URL:
            pytest.skip(SKIP_REASON)
        from vocmine.store.elastic.store import ElasticOptions, ElasticStore

        options = ElasticOptions(prefix=f"vmtest-{uuid.uuid4().hex[:10]}", dimensions=8, replicas=0, refresh="wait_for")
        backend = ElasticStore(ES_URL, options)
        try:
            yield backend
        finally:
            backend.drop_indices()
            backend.close()
