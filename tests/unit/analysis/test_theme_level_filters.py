"""Which sub-themes a top-level theme covers, before and after curation."""

from __future__ import annotations

from vocmine.analysis.themes.levels import level_map, subthemes_of
from vocmine.schema import Theme
from vocmine.services.insights import LevelView
from vocmine.store.query import ConversationFilter


def _catalog() -> list[Theme]:
    return [
        Theme(id="g1", label="Billing", level="theme"),
        Theme(id="g2", label="Refunds", level="theme", status="merged", merged_into="g1"),
        Theme(id="g3", label="App", level="theme"),
        Theme(id="t1", label="wrong bill", parent="g1"),
        Theme(id="t2", label="refund late", parent="g2"),
        Theme(id="t3", label="refund denied", parent="g2"),
        Theme(id="t4", label="app crash", parent="g3"),
        Theme(id="t5", label="old crash", parent="g3", status="retired"),
    ]


def test_a_merged_top_level_themes_sub_themes_belong_to_the_theme_it_was_merged_into() -> None:
    themes = _catalog()
    assert subthemes_of(themes) == {"g1": ["t1", "t2", "t3"], "g3": ["t4"]}
    # What a filter reaches is what the counts include: every active sub-theme that level_map puts there.
    counted = {sub for sub, top in level_map(themes).items() if top == "g1"}
    assert set(subthemes_of(themes)["g1"]) == counted


def test_a_filter_on_the_merged_into_theme_reaches_the_merged_themes_segments() -> None:
    themes = _catalog()
    scoped = LevelView(None, subthemes_of(themes)).scope(ConversationFilter(themes=["g1"]))
    assert scoped.themes == ["g1", "t1", "t2", "t3"]
