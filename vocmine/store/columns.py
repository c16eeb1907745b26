"""An in-memory column snapshot of analysed conversations, and the aggregations the insights need
(theme aggregates, totals, agent views, survey rows) computed over it with numpy.

Why: the embedded store answers "every theme per week over every analysed conversation" by
grouping all segments in SQL, which takes seconds at 100k conversations and grows with the corpus;
a dashboard calls it on every page load. Held as columns – one entry per conversation, indexed by
a dense position, and one row per (conversation, theme) pair with that theme's segment counts – a
query is a boolean mask and a few ``bincount`` calls.

Every method here returns exactly what the SQL in ``sqlite/themes.py`` returns for the same filter
(the tests hold the two side by side); the backend-specific part – loading the columns and keeping
them current – lives in ``sqlite/columns.py``. Customer ids are not held (one entry per customer
would cost more memory than every other column together), so a filter on them is not servable here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np

from vocmine.store.query import (
    BREAKDOWN_FIELDS,
    CONVERSATION_FIELD_FILTERS,
    AgentAggregate,
    AgentGrouping,
    Breakdown,
    ConversationFilter,
    ConversationTotal,
    Interval,
    ScoreTotal,
    SurveyTable,
    ThemeAggregate,
    frozen_map,
)
from vocmine.store.zones import local_seconds, zone

# Conversation columns held as vocabulary codes (0 = missing). Breakdown groups read the same columns.
CODED = ("channel", "source", "agent_id", "team_id", "brand", "product", "language", "sentiment", "trajectory", "stage")
ANALYSIS_FILTERS = {"sentiments": "sentiment", "stages": "stage", "trajectories": "trajectory"}
DAY = 86400.0
_BINCOUNT_LIMIT = 8_000_000  # above this many (theme, bucket, group) keys, group by sorting instead


class Vocabulary:
    """Strings ↔ small integer codes; code 0 is "missing". Only ever grows, so a code handed out
    stays valid for every snapshot that shares the vocabulary."""

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self._codes: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        if value is None:
            return 0
        found = self._codes.get(value)
        if found is None:
            found = len(self.values)
            self._codes[value] = found
            self.values.append(value)
        return found

    def lookup(self, values: Sequence[str]) -> np.ndarray:
        """Codes of known values (unknown ones match nothing, so they are left out)."""
        return np.array([self._codes[v] for v in values if v in self._codes], dtype=np.int32)

    def decode(self, code: int) -> str | None:
        return self.values[int(code)]


@dataclass(frozen=True)
class ConversationColumns:
    """One entry per conversation position. ``present`` is False for positions with no
    conversation; ``analysed`` also for conversations with no analysis, where the analysis columns
    are meaningless."""

    present: np.ndarray  # bool
    analysed: np.ndarray  # bool
    started: np.ndarray  # float64 epoch seconds, NaN when unknown
    codes: dict[str, np.ndarray]  # column → int32 codes (see CODED)
    score: np.ndarray  # float64 conversation sentiment score, NaN when none
    severity: np.ndarray  # int16 most severe flag, 0 when none
    nps: np.ndarray  # float64, NaN when none
    csat: np.ndarray  # float64, NaN when none

    def __len__(self) -> int:
        return len(self.analysed)


@dataclass(frozen=True)
class Pairs:
    """One row per (conversation, theme) with the conversation's segments in that theme."""

    position: np.ndarray  # int64 conversation position
    theme: np.ndarray  # int32 theme code
    # Counts held as float64: they are only ever ``bincount`` weights, which are float64.
    segments: np.ndarray  # float64
    score: np.ndarray  # float64 sum of the segments' sentiment scores
    negative: np.ndarray  # float64 segments labelled negative


@dataclass(frozen=True)
class Flags:
    """One row per (conversation, raised signal)."""

    position: np.ndarray  # int64
    signal: np.ndarray  # int32 signal code


@dataclass(frozen=True)
class FactSnapshot:
    """Immutable: a refresh builds a new snapshot, so a query never sees one half-updated."""

    seq: int  # the change-log position this snapshot reflects
    columns: ConversationColumns
    pairs: Pairs
    flags: Flags
    vocab: dict[str, Vocabulary]  # CODED columns plus "theme" and "signal"
    # Answers already computed from this snapshot: dashboards repeat the same questions, and the
    # data cannot change under a snapshot (a write makes a new one, with an empty cache that may
    # lend the replaced snapshot's answers while its own are computed: ``_Answers``).
    answers: _Answers = field(default_factory=lambda: _Answers(), compare=False, repr=False)

    @staticmethod
    def servable(f: ConversationFilter) -> bool:
        return not f.customer_ids

    # ------------------------------------------------------------ filters and buckets

    def mask(self, f: ConversationFilter, analysed_only: bool = True, at: np.ndarray | None = None) -> np.ndarray:
        """Conversations matching the filter (the same conditions as the SQL ``_where``): only
        analysed ones for the aggregations, every one for search. With ``at`` (positions), the
        answer for those positions only: search tests a few thousand candidates, not every row."""
        c = self.columns
        take: Callable[[np.ndarray], np.ndarray] = (lambda a: a) if at is None else (lambda a: a[at])
        keep = take(c.analysed if analysed_only else c.present).copy()
        for name, column in CONVERSATION_FIELD_FILTERS.items():
            values = getattr(f, name)
            if values and column in c.codes:
                keep &= self._is_any(column, take(c.codes[column]), values)
        if f.since is not None:
            keep &= take(c.started) >= epoch_seconds(f.since)  # NaN compares False: unknown start is outside
        if f.until is not None:
            keep &= take(c.started) < epoch_seconds(f.until)
        for name, column in ANALYSIS_FILTERS.items():
            values = getattr(f, name)
            if values:
                keep &= self._is_any(column, take(c.codes[column]), values)
        if f.signals:
            keep &= take(self._touched(self.flags.position, self.flags.signal, self.vocab["signal"].lookup(f.signals)))
        if f.min_severity is not None:
            keep &= take(c.severity) >= f.min_severity
        if f.themes:
            keep &= take(self._touched(self.pairs.position, self.pairs.theme, self.vocab["theme"].lookup(f.themes)))
        return keep

    def _is_any(self, column: str, codes: np.ndarray, values: Sequence[str]) -> np.ndarray:
        """codes ∈ the values' codes, as one table lookup (``np.isin`` sorts: ~10 ms per million)."""
        wanted = np.zeros(len(self.vocab[column].values), dtype=bool)
        wanted[self.vocab[column].lookup(values)] = True
        return wanted[codes]

    def _touched(self, positions: np.ndarray, codes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(self.columns), dtype=bool)
        hit[positions[np.isin(codes, wanted)]] = True
        return hit

    def _pair_severity(self) -> np.ndarray:
        """Each pair's conversation's most severe flag, as the float weights ``bincount`` wants."""
        return self.answers.get(
            ("pair_severity",), lambda: self.columns.severity[self.pairs.position].astype(np.float64)
        )

    def buckets(self, interval: Interval, tz: str | None = None) -> np.ndarray:
        """Per conversation, the first day of its bucket at midnight in ``tz`` (days since 1970-01-01;
        garbage where the start is unknown – callers mask those out)."""
        return self.answers.get(("buckets", interval, tz), lambda: self._buckets(interval, tz))

    def _buckets(self, interval: Interval, tz: str | None) -> np.ndarray:
        started = local_seconds(np.nan_to_num(self.columns.started, nan=0.0), zone(tz))
        day = np.floor(started / DAY).astype(np.int64)
        if interval == "day":
            return day
        if interval == "week":
            return day - (day + 3) % 7  # 1970-01-01 was a Thursday: (day + 3) % 7 is days since Monday
        months = day.astype("datetime64[D]").astype("datetime64[M]")
        return months.astype("datetime64[D]").astype(np.int64)

    # ------------------------------------------------------------ aggregations

    def theme_aggregates(
        self,
        f: ConversationFilter,
        interval: Interval | None,
        breakdown: Breakdown | None,
        theme_map: Mapping[str, str] | None = None,
        tz: str | None = None,
    ) -> list[ThemeAggregate]:
        mapping = frozen_map(theme_map)
        return self.answers.get(
            ("themes", f, interval, breakdown, mapping, tz),
            lambda: self._theme_aggregates(f, interval, breakdown, theme_map, tz),
            previous_while_computing=True,
        )

    def _theme_view(self, theme_map: Mapping[str, str] | None) -> tuple[Pairs, list[str | None], np.ndarray]:
        """The (conversation, theme) pairs as ``theme_map`` reports them – pairs whose themes map to
        one id merged into one, unmapped themes left out – with each theme code's name and each
        pair's conversation's most severe flag."""
        if theme_map is None:
            return self.pairs, self.vocab["theme"].values, self._pair_severity()
        p = self.pairs
        names = sorted(set(theme_map.values()))
        code_of = {name: n for n, name in enumerate(names)}
        reported = [theme_map.get(v) if v is not None else None for v in self.vocab["theme"].values]
        target = np.array([code_of[r] if r is not None else -1 for r in reported], dtype=np.int64)
        mapped = target[p.theme] if len(p.theme) else np.zeros(0, dtype=np.int64)
        kept = np.flatnonzero(mapped >= 0)
        width = max(1, len(names))  # a pair's key: position × width + reported theme code
        keys, inverse = np.unique(p.position[kept] * width + mapped[kept], return_inverse=True)

        def total(column: np.ndarray) -> np.ndarray:
            return np.bincount(inverse, weights=column[kept], minlength=len(keys))

        pairs = Pairs(
            position=keys // width,
            theme=(keys % width).astype(np.int32),
            segments=total(p.segments),
            score=total(p.score),
            negative=total(p.negative),
        )
        return pairs, list(names), self.columns.severity[pairs.position].astype(np.float64)

    def _theme_aggregates(
        self,
        f: ConversationFilter,
        interval: Interval | None,
        breakdown: Breakdown | None,
        theme_map: Mapping[str, str] | None = None,
        tz: str | None = None,
    ) -> list[ThemeAggregate]:
        keep = self.mask(f)
        if interval:
            keep &= ~np.isnan(self.columns.started)
        p, theme_names, pair_severity = self._theme_view(theme_map)
        chosen = keep[p.position]
        # Unfiltered (the usual dashboard call): every pair counts, so skip copying every pair column.
        if chosen.all():
            take: Callable[[np.ndarray], np.ndarray] = lambda column: column  # noqa: E731
        else:
            at = np.flatnonzero(chosen)  # once; then ``take``: ~6x faster than a boolean mask per column
            take = lambda column: column.take(at)  # noqa: E731
        position = take(p.position)
        keys = _Keys(
            len(position),
            [
                take(p.theme),
                self.buckets(interval, tz)[position] if interval else None,
                self.columns.codes[BREAKDOWN_FIELDS[breakdown]][position] if breakdown else None,
            ],
        )
        severity = take(pair_severity)
        sums = keys.sum([None, take(p.segments), take(p.score), take(p.negative), severity > 0, severity])
        out = [
            ThemeAggregate(
                theme_id=str(theme_names[int(theme)]),  # type: ignore[arg-type]
                bucket=_bucket_label(bucket) if interval else None,
                group=self._group_label(breakdown, group),
                conversations=int(s[0]),
                segments=int(s[1]),
                sentiment_sum=float(s[2]),
                negative_segments=int(s[3]),
                flagged_conversations=int(s[4]),
                severity_sum=int(s[5]),
            )
            for (theme, bucket, group), s in keys.rows(sums)
        ]
        out.sort(key=lambda a: (_nulls_first(a.bucket), a.theme_id, _nulls_first(a.group)))
        return out

    def conversation_totals(
        self, f: ConversationFilter, interval: Interval | None, breakdown: Breakdown | None, tz: str | None = None
    ) -> list[ConversationTotal]:
        return self.answers.get(
            ("totals", f, interval, breakdown, tz),
            lambda: self._totals(f, interval, breakdown, tz),
            previous_while_computing=True,
        )

    def _totals(
        self, f: ConversationFilter, interval: Interval | None, breakdown: Breakdown | None, tz: str | None = None
    ) -> list[ConversationTotal]:
        keep = self.mask(f)
        if interval:
            keep &= ~np.isnan(self.columns.started)
        at = np.flatnonzero(keep)
        keys = _Keys(
            len(at),
            [
                self.buckets(interval, tz).take(at) if interval else None,
                self.columns.codes[BREAKDOWN_FIELDS[breakdown]].take(at) if breakdown else None,
            ],
        )
        out = [
            ConversationTotal(
                bucket=_bucket_label(bucket) if interval else None,
                group=self._group_label(breakdown, group),
                conversations=int(s[0]),
            )
            for (bucket, group), s in keys.rows(keys.sum([None]))
        ]
        out.sort(key=lambda t: (_nulls_first(t.bucket), _nulls_first(t.group)))
        return out

    def score_totals(self, f: ConversationFilter, interval: Interval | None, tz: str | None = None) -> list[ScoreTotal]:
        return self.answers.get(
            ("scores", f, interval, tz), lambda: self._scores(f, interval, tz), previous_while_computing=True
        )

    def _scores(self, f: ConversationFilter, interval: Interval | None, tz: str | None) -> list[ScoreTotal]:
        c = self.columns
        keep = self.mask(f, analysed_only=False)  # the volume and the surveys count unanalysed ones too
        if interval:
            keep &= ~np.isnan(c.started)
        at = np.flatnonzero(keep)
        keys = _Keys(len(at), [self.buckets(interval, tz).take(at) if interval else None])
        analysed = c.analysed.take(at)
        sentiment = np.where(analysed, c.codes["sentiment"].take(at), 0)
        nps, csat = c.nps.take(at), c.csat.take(at)
        with np.errstate(invalid="ignore"):  # NaN (no answer) compares False: neither promoter nor detractor
            promoters, detractors = nps >= 9, nps <= 6
        labels = [
            np.isin(sentiment, self.vocab["sentiment"].lookup([name])) for name in ("negative", "neutral", "positive")
        ]
        sums = keys.sum(
            [
                None,
                analysed.astype(np.float64),
                *(label.astype(np.float64) for label in labels),
                (~np.isnan(nps)).astype(np.float64),
                promoters.astype(np.float64),
                detractors.astype(np.float64),
                (~np.isnan(csat)).astype(np.float64),
                np.nan_to_num(csat, nan=0.0),
            ]
        )
        return [
            ScoreTotal(
                bucket=_bucket_label(bucket) if interval else None,
                conversations=int(s[0]),
                analysed=int(s[1]),
                negative=int(s[2]),
                neutral=int(s[3]),
                positive=int(s[4]),
                nps_responses=int(s[5]),
                promoters=int(s[6]),
                detractors=int(s[7]),
                csat_responses=int(s[8]),
                csat_sum=float(s[9]),
            )
            for (bucket,), s in keys.rows(sums)
        ]

    def agent_aggregates(
        self, by: AgentGrouping, f: ConversationFilter, interval: Interval | None
    ) -> list[AgentAggregate]:
        return self.answers.get(
            ("agents", by, f, interval), lambda: self._agent_aggregates(by, f, interval), previous_while_computing=True
        )

    def _agent_aggregates(
        self, by: AgentGrouping, f: ConversationFilter, interval: Interval | None
    ) -> list[AgentAggregate]:
        column = BREAKDOWN_FIELDS[by]
        c = self.columns
        keep = self.mask(f) & (c.codes[column] != 0)
        if interval:
            keep &= ~np.isnan(c.started)
        at = np.flatnonzero(keep)
        score = c.score.take(at)
        trajectory = c.codes["trajectory"].take(at)
        vocab = self.vocab["trajectory"]
        improved, worsened = (vocab.lookup([name]) for name in ("improved", "worsened"))
        keys = _Keys(len(score), [c.codes[column].take(at), self.buckets(interval).take(at) if interval else None])
        sums = keys.sum(
            [
                None,
                np.nan_to_num(score, nan=0.0),
                (~np.isnan(score)).astype(np.float64),
                (trajectory != 0).astype(np.float64),
                np.isin(trajectory, improved).astype(np.float64),
                np.isin(trajectory, worsened).astype(np.float64),
                (c.severity.take(at) > 0).astype(np.float64),
            ]
        )
        out = [
            AgentAggregate(
                key=str(self.vocab[column].decode(int(who))),  # type: ignore[arg-type]
                bucket=_bucket_label(bucket) if interval else None,
                conversations=int(s[0]),
                sentiment_sum=float(s[1]),
                with_sentiment=int(s[2]),
                with_trajectory=int(s[3]),
                improved=int(s[4]),
                worsened=int(s[5]),
                flagged=int(s[6]),
            )
            for (who, bucket), s in keys.rows(sums)
        ]
        out.sort(key=lambda a: (a.key, _nulls_first(a.bucket)))
        return out

    def survey_table(self, f: ConversationFilter, theme_map: Mapping[str, str] | None = None) -> SurveyTable:
        return self.answers.get(
            ("survey", f, frozen_map(theme_map)),
            lambda: self._survey_table(f, theme_map),
            previous_while_computing=True,
        )

    def _survey_table(self, f: ConversationFilter, theme_map: Mapping[str, str] | None = None) -> SurveyTable:
        c = self.columns
        keep = self.mask(f) & (~np.isnan(c.nps) | ~np.isnan(c.csat))
        positions = np.flatnonzero(keep)  # in rowid order, as the SQL reads them
        p, theme_names, _ = self._theme_view(theme_map)
        chosen = np.flatnonzero(keep[p.position])
        codes = np.unique(p.theme.take(chosen))
        names = [str(theme_names[int(code)]) for code in codes]
        order = np.argsort(names, kind="stable")
        column_of = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
        column_of[codes[order]] = np.arange(len(codes))
        member = np.zeros((len(positions), len(codes)), dtype=bool)
        member[np.searchsorted(positions, p.position.take(chosen)), column_of[p.theme.take(chosen)]] = True
        return SurveyTable(
            nps=c.nps[positions], csat=c.csat[positions], themes=[names[i] for i in order], member=member
        )

    def facet_counts(self, keep: np.ndarray) -> dict[str, dict[str, int]]:
        """Counts by channel, sentiment, journey stage and signal over the conversations in ``keep``
        (missing values left out), as the store's SQL facets count them."""
        codes = self.columns.codes
        out = {
            name: self._counts(column, codes[column][keep])
            for name, column in (("channel", "channel"), ("sentiment", "sentiment"), ("stage", "stage"))
        }
        out["signal"] = self._counts("signal", self.flags.signal[keep[self.flags.position]])
        return out

    def _counts(self, vocabulary: str, codes: np.ndarray) -> dict[str, int]:
        counts = np.bincount(codes, minlength=1)
        return {
            str(self.vocab[vocabulary].decode(int(code))): int(counts[code]) for code in np.flatnonzero(counts[1:]) + 1
        }

    def _group_label(self, breakdown: Breakdown | None, code: int | None) -> str | None:
        if breakdown is None or code is None:
            return None
        return self.vocab[BREAKDOWN_FIELDS[breakdown]].decode(code)


T = TypeVar("T")


class _Answers:
    """A small LRU of computed answers, keyed by the question (filters by their JSON). Callers get
    a copy of a cached list, so editing it cannot change what the next caller sees.

    One thread computes a missing answer while the others asking the same question wait for it:
    after each write every dashboard asks again at once, and eight threads computing the same
    priorities side by side took eight times the CPU on a machine that has two cores.

    While it computes, the others may instead take the answer of the snapshot this one replaced
    (``previous``), when the question allows it: an answer one write old rather than a wait. With an
    ingest writing every second, the wait was most of the slow answers. Only the public answers
    allow it; arrays sized to this snapshot (buckets, severities) never do."""

    def __init__(self, size: int = 256, previous: _Answers | None = None) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._computing: dict[tuple[Any, ...], threading.Event] = {}
        self._lock = threading.Lock()
        self._previous = previous
        if previous is not None:
            previous._previous = None  # one generation back at most: older answers are let go

    def successor(self) -> _Answers:
        """An empty cache for the snapshot that replaces this one's."""
        return _Answers(self._size, previous=self)

    def get(self, question: tuple[Any, ...], compute: Callable[[], T], previous_while_computing: bool = False) -> T:
        key = tuple(q.model_dump_json() if isinstance(q, ConversationFilter) else q for q in question)
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return _copy(self._items[key])
                running = self._computing.get(key)
                if running is None:
                    self._computing[key] = threading.Event()
                    break
            previous = self._previous
            if previous_while_computing and previous is not None:
                with previous._lock:
                    if key in previous._items:
                        return _copy(previous._items[key])
            running.wait()  # then look again: the answer is cached, or that thread failed and this one tries
        try:
            answer = compute()
            with self._lock:
                self._items[key] = answer
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        finally:
            with self._lock:
                self._computing.pop(key).set()
        return _copy(answer)


def _copy(answer: T) -> T:
    return list(answer) if isinstance(answer, list) else answer  # type: ignore[return-value]


class _Keys:
    """Group rows by up to three integer key columns (None = not grouped on), then sum value
    columns per group: a dense ``bincount`` when the key space is small, a sort otherwise."""

    def __init__(self, size: int, parts: list[np.ndarray | None]) -> None:
        self.parts = parts
        self.offsets = [int(part.min()) if part is not None and len(part) else 0 for part in parts]
        self.spans = [
            int(part.max()) - offset + 1 if part is not None and len(part) else 1
            for part, offset in zip(parts, self.offsets, strict=True)
        ]
        key = np.zeros(size, dtype=np.int64)
        for part, offset, span in zip(parts, self.offsets, self.spans, strict=True):
            key *= span
            if part is not None:
                key += part.astype(np.int64) - offset
        space = int(np.prod(self.spans, dtype=np.int64))
        if space <= _BINCOUNT_LIMIT:
            self.dense, self.index, self.groups = True, key, space
        else:
            unique, inverse = np.unique(key, return_inverse=True)
            self.dense, self.index, self.groups, self.unique = False, inverse, len(unique), unique

    def sum(self, values: list[np.ndarray | None]) -> np.ndarray:
        """A (groups × values) array; None in ``values`` counts rows."""
        out = np.zeros((self.groups, len(values)))
        for i, v in enumerate(values):
            out[:, i] = np.bincount(self.index, weights=v, minlength=self.groups)
        return out

    def rows(self, sums: np.ndarray) -> Iterator[tuple[tuple[int | None, ...], np.ndarray]]:
        """(decoded key parts, sums) for every group with at least one row. The keys are decoded
        as arrays, not one group at a time (thousands of groups for themes × days)."""
        present = np.flatnonzero(sums[:, 0] > 0)
        key = np.asarray(present if self.dense else self.unique[present], dtype=np.int64).copy()
        decoded: list[list[int | None]] = []
        for part, offset, span in zip(reversed(self.parts), reversed(self.offsets), reversed(self.spans), strict=True):
            decoded.append([None] * len(key) if part is None else (key % span + offset).tolist())
            key //= span
        decoded.reverse()
        for group, *parts in zip(present.tolist(), *decoded, strict=True):
            yield tuple(parts), sums[group]


def epoch_seconds(value: datetime) -> float:
    """How every embedded-store filter reads a time: one without a zone is UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def _bucket_label(day: int | None) -> str | None:
    return None if day is None else str(np.datetime64(int(day), "D"))


def _nulls_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")
