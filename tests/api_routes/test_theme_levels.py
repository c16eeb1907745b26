"""Two levels of themes through the API: top-level themes by default, sub-themes on request, and
a filter on a top-level theme that reaches its sub-themes' conversations."""

from __future__ import annotations

from tests.api_routes.conftest import auth
from vocmine.schema import Theme
from vocmine.testing.factories import catalog


def _two_levels(store) -> None:
    subs = [t.model_copy(update={"parent": "g1"}) for t in catalog("t1", "t2")] + catalog("t3")
    top = Theme(id="g1", label="Billing and app", keywords=["bill", "app"], level="theme", size=4)
    store.replace_themes([*subs, top], "themes-two-levels")


def test_top_level_themes_count_a_conversation_once_and_list_their_subthemes(client, api_store, tokens):
    _two_levels(api_store)
    read = auth(tokens["read"])
    top = client.get("/v1/themes", headers=read).json()["themes"]
    assert [(t["theme"]["id"], t["conversations"], t["segments"], t["subthemes"]) for t in top] == [
        ("g1", 3, 4, ["t1", "t2"])  # conversation a mentions t1 and t2: once at the top level
    ]
    subs = client.get("/v1/themes", params={"level": "subtheme"}, headers=read).json()["themes"]
    assert {t["theme"]["id"]: t["conversations"] for t in subs} == {"t1": 2, "t2": 2, "t3": 0}
    two = client.get("/v1/themes", params={"level": "subtheme", "limit": 2}, headers=read).json()
    assert [t["theme"]["id"] for t in two["themes"]] == ["t1", "t2"] and two["total"] == 3
    one = client.get("/v1/themes/g1", headers=read).json()
    assert one["conversations"] == 3 and len(one["verbatims"]) == 4


def test_insights_and_search_work_at_both_levels(client, api_store, tokens):
    _two_levels(api_store)
    read = auth(tokens["read"])
    trends = client.get("/v1/themes/trends", params={"interval": "month"}, headers=read).json()["points"]
    assert {p["theme_id"] for p in trends} == {"g1"}
    fine = client.get("/v1/themes/trends", params={"interval": "month", "level": "subtheme"}, headers=read).json()
    assert {p["theme_id"] for p in fine["points"]} == {"t1", "t2"}
    emerging = client.get("/v1/themes/emerging", params={"level": "subtheme"}, headers=read).json()["themes"]
    assert {e["theme_id"] for e in emerging} <= {"t1", "t2"}
    drivers = client.get("/v1/drivers/nps", params={"min_present": 5}, headers=read).json()["drivers"]
    assert {d["theme_id"] for d in drivers} <= {"g1"}
    found = client.get("/v1/search", params={"theme": "g1"}, headers=read).json()
    assert sorted(h["conversation"]["id"] for h in found["hits"]) == ["a", "b", "c"]
    bad = client.get("/v1/themes", params={"level": "topic"}, headers=read)
    assert bad.status_code == 422 or bad.status_code == 400
