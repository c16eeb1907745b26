"""Themes in the Elasticsearch store, mixed into ``ElasticStore``: the catalog and analysts' edits
(state documents), segment assignment (each segment document's ``theme_id``, and each
conversation's ``themes`` list for the theme filter), and the aggregations behind trends, emerging
themes, priorities, drivers and the coaching view (``aggs.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vocmine.errors import ConfigError, NotFoundError
from vocmine.schema import Theme
from vocmine.store.elastic.aggs import (
    ANALYSED,
    MISSING,
    agents_body,
    scores_body,
    theme_aggregation_body,
    totals_body,
)
from vocmine.store.elastic.docs import BulkAction, BulkItem
from vocmine.store.elastic.state import state_document
from vocmine.store.query import (
    AgentAggregate,
    AgentGrouping,
    Breakdown,
    ConversationFilter,
    ConversationTotal,
    Interval,
    ScoreTotal,
    SurveyTable,
    SurveyThemes,
    ThemeAggregate,
    mapped_themes,
)

_CHUNK = 1_000


if TYPE_CHECKING:
    # The state mixin's helpers (``_put_state``, ``_event``…) as well as the store's.
    from vocmine.store.elastic.state import ElasticStateMixin as _Host
else:
    _Host = object


class ElasticThemesMixin(_Host):
    """Uses the request helpers of ``ElasticStore`` and the state helpers of ``ElasticStateMixin``."""

    # ------------------------------------------------------------ assignment

    def assign_themes(self, assignments: Iterable[tuple[str, str | None]]) -> int:
        found = 0
        batch: list[tuple[str, str | None]] = []
        for assignment in assignments:
            batch.append(assignment)
            if len(batch) >= _CHUNK:
                found += self._assign(batch)
                batch = []
        if batch:
            found += self._assign(batch)
        return found

    def _assign(self, batch: list[tuple[str, str | None]]) -> int:
        items: list[BulkItem] = [(sid, BulkAction("update", {"theme_id": tid})) for sid, tid in batch]
        report = self._write("segments", items, missing_ok=True)
        unknown = {f.id for f in report.failed}  # no such segment: not counted
        updated = [sid for sid, _ in batch if sid not in unknown]
        owners = {
            d["_source"]["conversation_id"]
            for d in self._mget("segments", updated, includes=["conversation_id"]).values()
        }
        self._refresh_conversation_themes(sorted(owners))
        return len(updated)

    def _refresh_conversation_themes(self, conversation_ids: Sequence[str]) -> None:
        """Recompute each conversation's ``themes`` from its segments (by id, so it needs no refresh)."""
        if not conversation_ids:
            return
        conversations = self._mget("conversations", conversation_ids, includes=["segment_ids"])
        segment_ids = [sid for doc in conversations.values() for sid in doc["_source"].get("segment_ids") or []]
        themes: dict[str, set[str]] = {cid: set() for cid in conversations}
        for doc in self._mget("segments", segment_ids, includes=["conversation_id", "theme_id"]).values():
            source = doc["_source"]
            if source.get("theme_id") and source["conversation_id"] in themes:
                themes[source["conversation_id"]].add(source["theme_id"])
        self._write(
            "conversations", [(cid, BulkAction("update", {"themes": sorted(found)})) for cid, found in themes.items()]
        )

    # ------------------------------------------------------------ catalog and curation

    def replace_themes(self, themes: Sequence[Theme], version: str) -> None:
        # One bulk request for the catalog (a fit has hundreds of themes), then the version, so a
        # reader never sees the new version before its themes.
        self._write("state", [_theme_document(theme) for theme in themes], refresh="wait_for")
        self._put_state("themes_version", "themes_version", {"version": version})

    def _put_theme(self, theme: Theme) -> None:
        self._write("state", [_theme_document(theme)], refresh="wait_for")

    def list_themes(self) -> list[Theme]:
        return sorted((Theme.model_validate(source["doc"]) for source in self._state_docs("theme")), key=lambda t: t.id)

    def themes_version(self) -> str | None:
        state = self._get_state("themes_version")
        return state["_source"]["doc"]["version"] if state else None

    def _theme(self, theme_id: str) -> Theme:
        state = self._get_state(f"theme:{theme_id}")
        if state is None:
            raise NotFoundError(f"no theme {theme_id!r}", hint="list the ids with `vocmine themes list`")
        return Theme.model_validate(state["_source"]["doc"])

    def _save_theme(self, theme: Theme, actor: str, action: str, detail: dict[str, Any]) -> None:
        self._put_theme(theme)
        self._event("theme_event", actor, action, detail, theme_id=theme.id)

    def rename_theme(self, theme_id: str, name: str, actor: str) -> Theme:
        name = name.strip()
        if not name:
            raise ConfigError("a theme's name cannot be empty", hint="give the new name")
        theme = self._theme(theme_id)
        renamed = theme.model_copy(update={"name": name})
        self._save_theme(renamed, actor, "rename", {"from": theme.name, "to": name})
        return renamed

    def merge_themes(self, sources: Sequence[str], target: str, actor: str) -> Theme:
        if not sources:
            raise ConfigError("nothing to merge", hint="name at least one theme to merge into the target")
        if target in sources:
            raise ConfigError(f"cannot merge {target} into itself", hint="leave the target out of the sources")
        into = self._theme(target)
        if into.status != "active":
            raise ConfigError(f"theme {target} is {into.status}", hint="merge into an active theme")
        merging = [self._theme(source) for source in sources]  # all exist before anything changes
        size = into.size
        for theme in merging:
            size += theme.size
            self._save_theme(
                theme.model_copy(update={"status": "merged", "merged_into": target}), actor, "merge", {"into": target}
            )
            # Themes merged earlier into the source now point at the target directly.
            for source in self._state_docs("theme", merged_into=theme.id):
                earlier = Theme.model_validate(source["doc"])
                if earlier.merged_into == theme.id:
                    self._save_theme(
                        earlier.model_copy(update={"merged_into": target}),
                        actor,
                        "merge",
                        {"into": target, "via": theme.id},
                    )
        self._move_segments(list(sources), target)
        grown = into.model_copy(update={"size": size})
        self._save_theme(grown, actor, "absorb", {"sources": list(sources)})
        return grown

    def _move_segments(self, sources: list[str], target: str) -> None:
        """Point the sources' segments and conversations at the target (update by query: the
        indices are refreshed first so the query sees every segment written so far)."""
        self._call(self.es.indices.refresh, index=[self.index("segments"), self.index("conversations")])
        # One object parameter: the request schema types script parameter values as objects.
        params = {"merge": {"sources": sources, "target": target}}
        self._call(
            self.es.update_by_query,
            index=self.index("segments"),
            body={
                "conflicts": "abort",  # in the body: the client deprecates it beside a body as a parameter
                "query": {"terms": {"theme_id": sources}},
                "script": {
                    "lang": "painless",
                    "source": "ctx._source.theme_id = params.merge.target",
                    "params": params,
                },
            },
            refresh=True,
        )
        self._call(
            self.es.update_by_query,
            index=self.index("conversations"),
            body={
                "conflicts": "abort",
                "query": {"terms": {"themes": sources}},
                "script": {
                    "lang": "painless",
                    "source": "def t = new TreeSet(ctx._source.themes); t.removeAll(params.merge.sources); "
                    "t.add(params.merge.target); ctx._source.themes = new ArrayList(t);",
                    "params": params,
                },
            },
            refresh=True,
        )

    def theme_events(self, theme_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {"at": e["at"], "actor": e["doc"]["actor"], "action": e["doc"]["action"], "theme_id": e["theme_id"],
             "detail": e["doc"]["detail"]}
            for e in self._state_docs("theme_event", theme_id=theme_id)
        ]  # fmt: skip

    # ------------------------------------------------------------ aggregations

    def theme_aggregates(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
        theme_map: Mapping[str, str] | None = None,
        tz: str | None = None,
    ) -> list[ThemeAggregate]:
        body = theme_aggregation_body(filter or ConversationFilter(), interval, breakdown, theme_map, tz)
        result = self._search("segments", body)["aggregations"]["result"]
        rows = []
        for bucket, group, theme in _walk(result, interval, breakdown):
            if theme["doc_count"] == 0:
                continue  # a filter bucket with no segment is no theme (terms never return one)
            levels = {int(b["key"]): int(b["conversations"]["value"]) for b in theme["severity"]["buckets"]}
            rows.append(
                ThemeAggregate(
                    theme_id=str(theme["key"]),
                    bucket=bucket,
                    group=group,
                    conversations=int(theme["conversations"]["value"]),
                    segments=int(theme["doc_count"]),
                    sentiment_sum=float(theme["sentiment_sum"]["value"] or 0.0),
                    negative_segments=int(theme["negative"]["doc_count"]),
                    flagged_conversations=sum(n for level, n in levels.items() if level > 0),
                    severity_sum=sum(level * n for level, n in levels.items()),
                )
            )
        return sorted(rows, key=lambda r: (r.bucket or "", r.theme_id, r.group or ""))

    def conversation_totals(
        self,
        filter: ConversationFilter | None = None,
        interval: Interval | None = None,
        breakdown: Breakdown | None = None,
        tz: str | None = None,
    ) -> list[ConversationTotal]:
        response = self._search("conversations", totals_body(filter or ConversationFilter(), interval, breakdown, tz))
        if not interval and not breakdown:
            total = int(response["hits"]["total"]["value"])
            return [ConversationTotal(conversations=total)] if total else []
        result = response["aggregations"]["result"]
        rows = []
        cells = [(b["key_as_string"], b) for b in result["buckets"]] if interval else [(None, result)]
        for bucket, level in cells:
            if breakdown:
                groups = (level["inner"] if interval else level)["buckets"]
                counts = [(_group(g["key"]), int(g["doc_count"])) for g in groups]
            else:
                counts = [(None, int(level["doc_count"]))]
            rows += [ConversationTotal(bucket=bucket, group=group, conversations=n) for group, n in counts]
        return sorted(rows, key=lambda r: (r.bucket or "", r.group or ""))

    def score_totals(
        self, filter: ConversationFilter | None = None, interval: Interval | None = None, tz: str | None = None
    ) -> list[ScoreTotal]:
        result = self._search("conversations", scores_body(filter or ConversationFilter(), interval, tz))
        top = result["aggregations"]["result"]
        cells = [(b["key_as_string"], b["inner"]) for b in top["buckets"]] if interval else [(None, top)]
        rows = []
        for bucket, m in cells:
            if m["doc_count"] == 0:
                continue  # no conversation: no row, as in the embedded store
            labels = {str(b["key"]): int(b["doc_count"]) for b in m["analysed"]["sentiment"]["buckets"]}
            rows.append(
                ScoreTotal(
                    bucket=bucket,
                    conversations=int(m["doc_count"]),
                    analysed=int(m["analysed"]["doc_count"]),
                    negative=labels.get("negative", 0),
                    neutral=labels.get("neutral", 0),
                    positive=labels.get("positive", 0),
                    nps_responses=int(m["nps_responses"]["value"]),
                    promoters=int(m["promoters"]["doc_count"]),
                    detractors=int(m["detractors"]["doc_count"]),
                    csat_responses=int(m["csat_responses"]["value"]),
                    csat_sum=float(m["csat_sum"]["value"] or 0.0),
                )
            )
        return sorted(rows, key=lambda r: r.bucket or "")

    def agent_aggregates(
        self, by: AgentGrouping, filter: ConversationFilter | None = None, interval: Interval | None = None
    ) -> list[AgentAggregate]:
        result = self._search("conversations", agents_body(by, filter or ConversationFilter(), interval))
        rows = []
        for who in result["aggregations"]["result"]["buckets"]:
            cells = (
                [(b["key_as_string"], b["inner"]) for b in who["inner"]["buckets"]]
                if interval
                else [(None, who["inner"])]
            )
            for bucket, m in cells:
                rows.append(
                    AgentAggregate(
                        key=str(who["key"]),
                        bucket=bucket,
                        conversations=int(m["doc_count"]),
                        sentiment_sum=float(m["sentiment_sum"]["value"] or 0.0),
                        with_sentiment=int(m["with_sentiment"]["value"]),
                        with_trajectory=int(m["with_trajectory"]["value"]),
                        improved=int(m["improved"]["doc_count"]),
                        worsened=int(m["worsened"]["doc_count"]),
                        flagged=int(m["flagged"]["doc_count"]),
                    )
                )
        return sorted(rows, key=lambda r: (r.key, r.bucket or ""))

    def survey_table(
        self, filter: ConversationFilter | None = None, theme_map: Mapping[str, str] | None = None
    ) -> SurveyTable:
        return SurveyTable.from_rows(self.iter_survey_themes(filter, theme_map))

    def iter_survey_themes(
        self, filter: ConversationFilter | None = None, theme_map: Mapping[str, str] | None = None
    ) -> Iterator[SurveyThemes]:
        with_score = {
            "bool": {"should": [{"exists": {"field": "nps"}}, {"exists": {"field": "csat"}}], "minimum_should_match": 1}
        }
        query = self._conversation_query(filter, ANALYSED.to_dict(), with_score)
        for hit in self._scan("conversations", query, source={"includes": ["nps", "csat", "themes"]}):
            source = hit["_source"]
            yield SurveyThemes(
                conversation_id=hit["_id"],
                nps=source.get("nps"),
                csat=source.get("csat"),
                themes=mapped_themes(source.get("themes") or [], theme_map),
            )


def _walk(
    result: dict[str, Any], interval: Interval | None, breakdown: Breakdown | None
) -> Iterator[tuple[str | None, str | None, dict[str, Any]]]:
    """(bucket, group, theme bucket) for every leaf of the nested theme aggregation. A ``filters``
    level (themes reported through a map) answers with buckets by name: the name is the key."""
    buckets = [(b["key_as_string"], b["inner"]) for b in result["buckets"]] if interval else [(None, result)]
    for bucket, level in buckets:
        groups = [(_group(g["key"]), g["inner"]) for g in level["buckets"]] if breakdown else [(None, level)]
        for group, themes in groups:
            found = themes["buckets"]
            for theme in [{**b, "key": k} for k, b in found.items()] if isinstance(found, dict) else found:
                yield bucket, group, theme


def _theme_document(theme: Theme) -> tuple[str, dict[str, Any]]:
    doc_id = f"theme:{theme.id}"
    fields = {"theme_id": theme.id, "status": theme.status, "merged_into": theme.merged_into}
    return doc_id, state_document(doc_id, "theme", theme.model_dump(mode="json"), **fields)


def _group(key: Any) -> str | None:
    return None if key == MISSING else str(key)
