"""Otter.ai text exports ("Export text" as .txt, with speaker names and timestamps on).

Otter publishes no specification of the file; this follows the layout its exports have, as readers
of them document it (e.g. https://transcript-indexer.pages.dev/api/readers/): a turn starts with a
header line "<speaker>  <[H:]MM:SS>" (the name, two spaces, the time from the start of the
recording), its text follows on the next lines, a blank line ends it::

    Dana Ortiz  0:02
    Thanks for calling Acme, this is Dana.

    Speaker 2  0:06
    Hi, my parcel never arrived.

    Transcribed by https://otter.ai

A turn ends where the next one starts. Lines before the first header (a title) are kept as the
call's title in ``metadata``; the "Transcribed by" footer is dropped. One file is one call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from vocmine.ingest.readers.speech.common import CallFacts, Piece, build_call, seconds
from vocmine.ingest.readers.speech.textlines import read_text
from vocmine.ingest.records import Item, Location, ReadContext, Rejection

HEADER = re.compile(r"^(?P<speaker>\S[^\t]{0,60}?)(?:\s{2,}|\t)(?P<time>\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_FOOTER = re.compile(r"^\s*transcribed by https?://otter\.ai\s*$", re.IGNORECASE)


def read_otter(stream: BinaryIO, ctx: ReadContext) -> Iterator[Item]:
    text = read_text(stream, ctx)
    if isinstance(text, Rejection):
        yield text
        return
    title: list[str] = []
    pieces: list[Piece] = []
    for line in text.splitlines():
        if _FOOTER.match(line):
            continue
        header = HEADER.match(line.strip())
        if header:
            start = seconds(header.group("time"))
            if pieces and pieces[-1].end is None:
                pieces[-1].end = start
            pieces.append(Piece("", start, None, header.group("speaker").strip()))
        elif pieces:
            pieces[-1].text += "\n" + line
        elif line.strip():
            title.append(line.strip())
    if not pieces:
        yield Rejection(Location(ctx.name, "file"), "no Otter turn headers ('Speaker name  0:05' lines)")
        return
    pieces[-1].end = pieces[-1].end if pieces[-1].end is not None else pieces[-1].start
    facts = CallFacts(source="otter", metadata={"title": " ".join(title)[:200] or None})
    yield build_call(pieces, Location(ctx.name, "file"), ctx, facts)
