"""The language of a text, for ingestion (each conversation's language is recorded) and analysis (the
models read only the languages they were trained on). Shared by both layers, so it sits beside the
records rather than in either."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

UNDETERMINED = "und"  # ISO 639-2 for undetermined

# Language identification is unreliable on very short text; below these we say "und" (ISO 639-2
# for undetermined) instead of guessing.
MIN_CHARS_FOR_LANGUAGE = 12
MIN_LANGUAGE_CONFIDENCE = 0.6


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when it is too short or unclear."""
    sample = re.sub(r"https?://\S+|@\w+|#|\[[A-Z_]+\]", " ", text)
    if len(sample.strip()) < MIN_CHARS_FOR_LANGUAGE:
        return UNDETERMINED
    code, confidence = _identifier().classify(sample[:2000])
    return code if confidence >= MIN_LANGUAGE_CONFIDENCE else UNDETERMINED
