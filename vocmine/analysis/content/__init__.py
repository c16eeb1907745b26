"""Content segments: which customer segments talk about something (the only ones themes are about)
and which are filler – greetings, thanks, acknowledgements, sign-offs, topic-less follow-ups and
boilerplate."""

from vocmine.analysis.content.data import SOURCES, real_segments

__all__ = ["SOURCES", "real_segments"]
