"""``open_store``: the store a URL names. The only module that knows both backends, so that neither
backend, nor anything above the store, imports a concrete store to get one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vocmine.errors import ConfigError
from vocmine.store.protocol import Store

if TYPE_CHECKING:
    from vocmine.store.elastic.store import ElasticStore


def sqlite_path(url: str) -> str | None:
    """The file a sqlite:///path URL (or a bare path) names; None for other store URLs."""
    if url.startswith("sqlite:////"):
        return url.removeprefix("sqlite://").removeprefix("/")
    if url.startswith("sqlite://"):
        return url.removeprefix("sqlite:///")
    return None if "://" in url else url


def open_store(url: str) -> Store:
    """The store a URL names: sqlite:///path (or a bare file path) for the embedded store,
    http(s)://[user:password@]host:port for Elasticsearch (options: VOCMINE_ES_* variables)."""
    path = sqlite_path(url)
    if path is not None:
        from vocmine.store.sqlite.store import SQLiteStore

        return SQLiteStore(path)
    if url.startswith(("http://", "https://")):
        return open_elastic_store(url)
    raise ConfigError(f"unknown store URL {url!r}", hint="use sqlite:///path or an http(s):// Elasticsearch URL")


def open_elastic_store(url: str, **options: Any) -> ElasticStore:
    """The Elasticsearch store at an http(s):// URL, for what only that backend does (index setup
    and mapping migrations, the demo's own indices); ``options`` (``prefix="vocmine-demo"``) take
    the place of those VOCMINE_ES_* variables."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError("this command manages Elasticsearch indices", hint="pass --store https://host:9200")
    try:
        from vocmine.store.elastic.store import ElasticOptions, ElasticStore
    except ImportError as exc:
        raise ConfigError(
            "the Elasticsearch store needs the elasticsearch client", hint="pip install 'vocmine[elastic]'"
        ) from exc
    return ElasticStore(url, ElasticOptions(**options))
