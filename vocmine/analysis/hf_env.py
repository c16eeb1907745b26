"""Settings for the Hugging Face libraries before a model loads.

No model is downloaded at run time unless the user asks for it: ``HF_HUB_OFFLINE`` defaults to 1
(set it to 0 to allow hub downloads). Weight-loading progress bars are switched off: they would
interleave with vocmine's own progress output and say nothing a user needs.
"""

from __future__ import annotations

import os


def prepare_model_loading() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging

    logging.disable_progress_bar()  # type: ignore[no-untyped-call]
