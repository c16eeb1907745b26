"""IBM Watson Speech to Text results (``POST /v1/recognize`` and asynchronous jobs).

Shape (https://cloud.ibm.com/apidocs/speech-to-text#recognize,
https://cloud.ibm.com/docs/speech-to-text?topic=speech-to-text-speaker-labels)::

    {"result_index": 0,
     "results": [{"final": true,
                  "alternatives": [{"transcript", "confidence",
                                    "timestamps": [["word", start, end], ...],
                                    "word_confidence": [["word", 0.9], ...]}]}],
     "speaker_labels": [{"from", "to", "speaker", "confidence", "final"}]}

and the asynchronous job (``GET /v1/recognitions/{id}``) that holds a list of them:
``{"id", "status": "completed", "created", "results": [{"result_index", "results", "speaker_labels"}]}``.

Each word takes the speaker whose label starts when it starts (``from`` equals the word's start
time, as the service documents), else the label span it falls in. Times are seconds. Interim
results (``"final": false``) are skipped when final ones exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vocmine.ingest.readers.speech.common import CallFacts, Piece, build_call, label, seconds, text_of, unwrap
from vocmine.ingest.records import Item, Location, ReadContext, Rejection


def convert(value: dict[str, Any], location: Location, ctx: ReadContext) -> Item:
    value = unwrap(value, "results")  # the Node SDK's {"result": ..., "status": 200}
    results = value.get("results")
    if not isinstance(results, list):
        return Rejection(location, "no 'results' list: not a Watson Speech to Text result")
    job_id = None
    if results and all(isinstance(r, dict) and "alternatives" not in r and "results" in r for r in results):
        status = value.get("status")
        if status not in (None, "completed"):
            return Rejection(location, f"Watson recognition job is {status!r}, not 'completed'")
        job_id = value.get("id")
        documents = results
    else:
        documents = [value]
    pieces = [p for document in documents for p in _pieces(document)]
    facts = CallFacts(source="watson-stt", source_id=str(job_id) if job_id else None)
    return build_call(pieces, location, ctx, facts)


def _pieces(document: dict[str, Any]) -> list[Piece]:
    results = [r for r in document.get("results") or [] if isinstance(r, dict) and r.get("alternatives")]
    if any(r.get("final") for r in results):
        results = [r for r in results if r.get("final", True)]
    speaker_at = _speakers(document.get("speaker_labels") or [])
    pieces = []
    for result in results:
        best = result["alternatives"][0]
        stamps = [s for s in best.get("timestamps") or [] if isinstance(s, list) and len(s) >= 3]
        if not stamps:
            pieces.append(Piece(text_of(best.get("transcript"))))
            continue
        for word, start, end in (s[:3] for s in stamps):
            start_s = seconds(start)
            pieces.append(Piece(text_of(word), start_s, seconds(end), speaker_at(start_s)))
    return pieces


def _speakers(labels: list[Any]) -> Callable[[float | None], str | None]:
    spans = [
        (seconds(item.get("from")), seconds(item.get("to")), label(item.get("speaker")))
        for item in labels
        if isinstance(item, dict)
    ]
    exact = {round(start, 2): speaker for start, _, speaker in spans if start is not None}

    def speaker_at(moment: float | None) -> str | None:
        if moment is None:
            return None
        if round(moment, 2) in exact:
            return exact[round(moment, 2)]
        inside = (s for start, end, s in spans if start is not None and end is not None and start <= moment <= end)
        return next(inside, None)

    return speaker_at
