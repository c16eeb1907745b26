"""What the Elasticsearch mixins need from the store they are mixed into, as typed protocols.

``ElasticStore`` provides the request helpers (the themes mixin also uses ``ElasticStateMixin``'s).
Each mixin names its host here as its base class for the type checker only (at run time the base is
``object``, so nothing declared here can shadow the store's real methods in the method order), and
the checker then holds every call a mixin makes to the helpers' real signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from vocmine.store.elastic.bulk import BulkReport
from vocmine.store.elastic.docs import BulkItem
from vocmine.store.query import ConversationFilter

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


class ElasticHost(Protocol):
    es: Elasticsearch

    def index(self, kind: str) -> str: ...

    def _search(self, kind: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any: ...

    def _write(
        self, kind: str, items: Sequence[BulkItem], *, refresh: bool | str | None = None, missing_ok: bool = False
    ) -> BulkReport: ...

    def _count(self, kind: str, query: dict[str, Any]) -> int: ...

    def _mget(
        self, kind: str, ids: Sequence[str], *, includes: Sequence[str] = (), excludes: Sequence[str] = ()
    ) -> dict[str, dict[str, Any]]: ...

    def _scan(
        self, kind: str, query: dict[str, Any], *, source: Any = True, size: int = ..., order: str | None = None
    ) -> Iterator[dict[str, Any]]: ...

    def _conversation_query(self, f: ConversationFilter | None, *extra: dict[str, Any]) -> dict[str, Any]: ...
