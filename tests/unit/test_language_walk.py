"""The windowed language identifier gives py3langid's answers exactly, faster."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from vocmine import language
from vocmine.language import SYNC_BYTES, WindowedIdentifier, detect_language

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

TEXTS = [
    "",
    "a",
    "THE ROUTER IS DOWN AGAIN AND NOBODY CALLS BACK",
    "My parcel never arrived and the tracking page has said 'out for delivery' for six days now.",
    "Bonjour, je voudrais annuler mon abonnement à la fin du mois, merci de me confirmer.",
    "Hola, me cobraron dos veces la factura de marzo. ¿Pueden devolverme el dinero?",
    "Guten Tag, mein Internet fällt jeden Abend aus. Können Sie bitte einen Techniker schicken?",
    "日本語のテキストです。配達が遅れています。",
    "Заказ не пришёл, прошу вернуть деньги.",
    "surrogate \ud800 inside",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def identifiers() -> tuple[LanguageIdentifier, WindowedIdentifier]:
    reference = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    return reference, WindowedIdentifier(LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True))


def test_the_model_reaches_one_state_from_any_state_after_the_window(identifiers) -> None:
    """What makes the window walk exact: after SYNC_BYTES bytes the automaton is in the state the
    start state would have reached, whatever state it was in (checked on every pair of states that
    can still differ, byte by byte)."""
    _, windowed = identifiers
    moves = windowed.nextmove.reshape(-1, 256)
    rows = (windowed.rowbase >> 8).astype(np.int64)
    states = len(rows)
    pairs = np.arange(states, dtype=np.int64) * states  # (any state, start state) as a * states + b
    for _ in range(SYNC_BYTES):
        following = []
        for start in range(0, len(pairs), 4096):
            chunk = pairs[start : start + 4096]
            a = moves[rows[chunk // states]].astype(np.int64).ravel()
            b = moves[rows[chunk % states]].astype(np.int64).ravel()
            apart = a != b
            following.append(np.unique(a[apart] * states + b[apart]))
        pairs = np.unique(np.concatenate(following))
    assert len(pairs) == 0


def test_the_same_language_and_confidence_as_py3langid(identifiers) -> None:
    reference, windowed = identifiers
    texts = list(TEXTS)
    twcs = SHARED_DATA / "twcs_sample" / "twcs_first5000.csv"
    if twcs.exists():
        with twcs.open(encoding="utf-8") as handle:
            texts += [row["text"] or "" for _, row in zip(range(1500), csv.DictReader(handle), strict=False)]
    joined = " ".join(texts)
    texts += [joined[i : i + 2000] for i in range(0, min(len(joined), 60_000), 2000)]
    assert [windowed.classify(t) for t in texts] == [reference.classify(t) for t in texts]


def test_detection_says_undetermined_for_short_text_and_names_clear_languages() -> None:
    assert detect_language("ok thx") == "und"
    assert detect_language("Bonjour, je voudrais annuler mon abonnement à la fin du mois, merci.") == "fr"
    assert detect_language("My parcel never arrived and the tracking page has not changed in days.") == "en"


def test_the_cached_tables_answer_as_the_unpacked_model(identifiers, tmp_path) -> None:
    """What a later process loads (the .npy files) classifies exactly as what it unpacked; the tables
    are mapped from the files, so the ingestion workers that each load them share their memory."""
    _, windowed = identifiers
    folder = tmp_path / "langid"
    windowed.save(folder)
    cached = WindowedIdentifier.load(folder)
    assert all(isinstance(getattr(cached, table).base, np.memmap) for table in language._TABLES)
    assert cached.classes == windowed.classes and cached.aliases == windowed.aliases
    assert [cached.classify(t) for t in TEXTS] == [windowed.classify(t) for t in TEXTS]


@pytest.fixture
def fresh_scorer(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._scorer.cache_clear()
    yield tmp_path / "vocmine" / "langid"
    language._scorer.cache_clear()


def _unpacking_forbidden(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("py3langid's model was unpacked although its tables are cached")

    monkeypatch.setattr(LanguageIdentifier, "from_modelpath", refuse)


def test_the_first_load_caches_the_tables_and_the_next_reads_them(fresh_scorer, monkeypatch) -> None:
    language.load_language_model()
    (folder,) = fresh_scorer.iterdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(f"{t}.npy" for t in language._TABLES), "classes.json"])
    language._scorer.cache_clear()
    _unpacking_forbidden(monkeypatch)
    language.load_language_model()
    assert detect_language("Bonjour, je voudrais annuler mon abonnement à la fin du mois, merci.") == "fr"


def test_a_broken_cache_is_unpacked_again(fresh_scorer, monkeypatch) -> None:
    language.load_language_model()
    (folder,) = fresh_scorer.iterdir()
    (folder / "ptc.npy").write_bytes((folder / "ptc.npy").read_bytes()[:1000])  # a disk that filled up
    language._scorer.cache_clear()
    assert detect_language("My parcel never arrived and the tracking page has not changed in days.") == "en"
    language._scorer.cache_clear()
    _unpacking_forbidden(monkeypatch)  # and cached again whole
    assert detect_language("My parcel never arrived and the tracking page has not changed in days.") == "en"


def test_an_unwritable_cache_folder_only_costs_time(fresh_scorer) -> None:
    fresh_scorer.parent.mkdir(parents=True)
    fresh_scorer.write_text("not a folder")  # the cache cannot be created there
    language.load_language_model()
    assert detect_language("Bonjour, je voudrais annuler mon abonnement à la fin du mois, merci.") == "fr"


def test_tables_of_an_older_layout_are_removed_once_the_new_ones_are_cached(fresh_scorer) -> None:
    language.load_language_model()
    (folder,) = fresh_scorer.iterdir()
    digest = folder.name.rsplit("-", 1)[0]
    older, other_model = fresh_scorer / f"{digest}-0", fresh_scorer / "0123456789abcdef-1"
    for stale in (older, other_model):
        stale.mkdir()
        (stale / "ptc.npy").write_bytes(b"old tables")
    folder.rename(fresh_scorer / ".moved")  # the current layout not cached yet: the next load unpacks it
    language._scorer.cache_clear()
    language.load_language_model()
    assert sorted(p.name for p in fresh_scorer.iterdir()) == sorted([".moved", folder.name, other_model.name])
