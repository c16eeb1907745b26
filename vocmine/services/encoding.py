"""The sentence encoder the settings describe, for every use case that embeds text (analysis, theme
seeds, ad-hoc clustering, training commands), so that all of them run the same model, backend, device and precision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vocmine.settings import Settings

if TYPE_CHECKING:
    from vocmine.analysis.encoder import EmbeddingCache, Encoder


def encoder_for(settings: Settings, cache: EmbeddingCache | None = None) -> Encoder:
    from vocmine.analysis.encoder import Encoder

    return Encoder(
        settings.encoder,
        cache=cache,
        backend=settings.encoder_backend,
        device=settings.device,
        precision=settings.encoder_precision,
    )
