"""The console's alerts page (admins) and agents/teams coaching view (team leads)."""

from __future__ import annotations

import re

import pytest

from tests.api_routes.conftest import auth, sign_in_console
from vocmine.testing.factories import analysis, dated_conversation, vectors

# ------------------------------------------------------------------ alerts


def _rule_rows(html: str) -> list[str]:
    table = html.split('class="rules"', 1)[1].split("</table>", 1)[0] if 'class="rules"' in html else ""
    return [re.sub(r"\s+", " ", name).strip() for name in re.findall(r'<th scope="row">(.*?)<br>', table, re.S)]


def test_an_admin_creates_and_deletes_a_rule(client, tokens):
    csrf = sign_in_console(client, tokens["admin"])
    empty = client.get("/alerts")
    assert empty.status_code == 200 and "No alert rules yet" in empty.text
    created = client.post(
        "/alerts/rules",
        data={
            "csrf": csrf,
            "name": "Escalations on chat",
            "kind": "conversation",
            "channels": ["chat", "call"],
            "signals": ["escalation"],
            "min_severity": "4",
            "brands": "Acme, Globex",
        },
    )
    assert created.status_code == 200 and "Rule created." in created.text
    assert _rule_rows(created.text) == ["Escalations on chat"]
    assert "channel chat or call; brand Acme or Globex; flag escalation; severity ≥ 4" in created.text
    # The API lists the same rule.
    rules = client.get("/v1/alerts/rules", headers=auth(tokens["admin"])).json()
    assert len(rules) == 1
    rule = rules[0]["rule"]
    assert rule["channels"] == ["chat", "call"] and rule["brands"] == ["Acme", "Globex"] and rule["min_severity"] == 4
    deleted = client.post(f"/alerts/rules/{rule['id']}/delete", data={"csrf": csrf})
    assert deleted.status_code == 200 and "Rule deleted." in deleted.text and "No alert rules yet" in deleted.text
    assert client.get("/v1/alerts/rules", headers=auth(tokens["admin"])).json() == []
    gone = client.post(f"/alerts/rules/{rule['id']}/delete", data={"csrf": csrf})
    assert gone.status_code == 404 and "no alert rule" in gone.text


def test_a_rule_the_api_would_refuse_is_refused_with_what_to_change(client, tokens):
    csrf = sign_in_console(client, tokens["admin"])
    unnamed = client.post("/alerts/rules", data={"csrf": csrf, "name": "", "min_rate_ratio": "0.5"})
    assert unnamed.status_code == 400
    assert "The rule was not created" in unnamed.text and "name" in unnamed.text and "min_rate_ratio" in unnamed.text
    unsigned = client.post(
        "/alerts/rules", data={"csrf": csrf, "name": "Hook", "webhook_url": "https://hooks.example.com/x"}
    )
    assert unsigned.status_code == 400 and "a webhook needs a webhook_secret" in unsigned.text
    # What was typed is kept, so the admin corrects rather than retypes.
    assert 'value="https://hooks.example.com/x"' in unsigned.text and 'value="Hook"' in unsigned.text
    assert client.get("/v1/alerts/rules", headers=auth(tokens["admin"])).json() == []


def test_alerts_need_the_admin_scope(client, tokens):
    csrf = sign_in_console(client, tokens["read"])
    page = client.get("/alerts")
    assert page.status_code == 403 and "lacks the &#39;admin&#39; scope" in page.text
    forged = client.post("/alerts/rules", data={"csrf": csrf, "name": "Sneaky"})
    assert forged.status_code == 403
    assert client.get("/v1/alerts/rules", headers=auth(tokens["admin"])).json() == []


def test_recent_deliveries_are_listed_newest_first(client, tokens, api_store):
    from vocmine.schema import AlertRule

    api_store.save_alert_rule(AlertRule(id="rule-x", name="Hooked", webhook_url="https://hooks.example.com/v"))
    api_store.record_delivery("rule-x", "a", "delivered", 1, None)
    api_store.record_delivery("rule-x", "c", "failed", 4, "ConnectTimeout")
    sign_in_console(client, tokens["admin"])
    page = client.get("/alerts").text
    table = page.split('class="deliveries"', 1)[1]
    assert table.index('href="/review/c"') < table.index('href="/review/a"')
    assert "ConnectTimeout" in table and "https://hooks.example.com/v" in table and "Hooked" in table


# ------------------------------------------------------------------ agents


@pytest.fixture
def with_agents(api_store):
    """Six more conversations handled by two agents of two teams, over two weeks."""
    people = [
        ("ann", "billing"),
        ("ann", "billing"),
        ("ann", "billing"),
        ("bob", "tech"),
        ("bob", "tech"),
        (None, None),
    ]
    conversations, analyses = [], []
    for i, (agent, team) in enumerate(people):
        c = dated_conversation(f"ag{i}", "my bill is wrong", day=730 + 7 * (i % 2), agent_id=agent, team_id=team)
        conversations.append(c)
        label = "positive" if i == 1 else "negative"
        analyses.append(analysis(c, label=label, flags=("escalation",) if i in (0, 3) else ()))
    api_store.upsert_conversations(conversations)
    api_store.write_analyses(analyses, [vectors(2, seed=100 + i) for i in range(len(people))])
    return api_store


def _agent_rows(html: str) -> dict[str, list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = re.search(r'<th scope="row"><a [^>]*>(.*?)</a>', row, re.S)
        assert name
        rows[name.group(1)] = re.findall(r'<td class="num"[^>]*>(.*?)</td>', row, re.S)
    return rows


@pytest.mark.parametrize("by", ["agent", "team"])
def test_the_agents_view_shows_the_apis_numbers(client, tokens, with_agents, by):
    sign_in_console(client, tokens["read"])
    page = client.get("/agents", params={"by": by})
    assert page.status_code == 200
    api = client.get("/v1/agents", params={"by": by}, headers=auth(tokens["read"])).json()["points"]
    assert api, "the seeded agents are there"
    rows = _agent_rows(page.text)
    assert set(rows) == {p["key"] for p in api}
    for p in api:
        share = lambda v: "–" if v is None else f"{100 * v:.0f}%"  # noqa: E731
        expected = [
            str(p["conversations"]),
            "–" if p["mean_sentiment"] is None else f"{p['mean_sentiment']:+.2f}",
            share(p["improved_share"]),
            share(p["worsened_share"]),
            share(p["flag_rate"]),
        ]
        assert rows[p["key"]] == expected, p["key"]


def test_the_agents_view_filters_sorts_and_links_to_search(client, tokens, with_agents):
    sign_in_console(client, tokens["read"])
    by_count = _agent_rows(client.get("/agents", params={"by": "agent"}).text)
    assert list(by_count) == ["ann", "bob"]  # most conversations first
    by_name = _agent_rows(client.get("/agents", params={"by": "agent", "sort": "-key"}).text)
    assert list(by_name) == ["bob", "ann"]
    flagged_first = _agent_rows(client.get("/agents", params={"by": "agent", "sort": "-flag_rate"}).text)
    assert list(flagged_first) == ["bob", "ann"]  # bob: 1 of 2 flagged, ann: 1 of 3
    filtered = client.get("/agents", params={"by": "team", "team": "tech"}).text
    assert list(_agent_rows(filtered)) == ["tech"]
    assert 'href="/search?team=tech&amp;team=tech"' not in filtered  # the row's own team replaces the filter's
    assert 'href="/search?team=tech"' in filtered
    page = client.get("/agents", params={"by": "agent", "channel": "chat"}).text
    assert 'href="/search?channel=chat&amp;agent=ann"' in page
    # Two weeks of data: a sparkline of the weekly sentiment per row.
    assert page.count('class="chart sparkline"') == 2
    assert client.get("/agents", params={"sort": "mood"}).status_code == 400


def test_the_agents_view_is_for_every_reader(client, tokens, with_agents):
    sign_in_console(client, tokens["read"])
    assert client.get("/agents").status_code == 200
    client.cookies.clear()
    assert client.get("/agents", follow_redirects=False).status_code == 303  # sign in first
