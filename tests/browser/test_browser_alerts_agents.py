"""Alert rules for admins and the agents/teams coaching view, in a real browser."""

from __future__ import annotations

import re
import secrets
from typing import Any

from playwright.sync_api import expect


def test_an_admin_sees_the_alert_rules_and_creates_one(as_person: Any) -> None:
    page = as_person("admin", "/alerts")
    expect(page.get_by_role("heading", name="Rules")).to_be_visible()
    expect(page.get_by_role("heading", name="Recent deliveries")).to_be_visible()
    name = f"Angry chats {secrets.token_hex(3)}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("chat", exact=True).check()
    page.get_by_label("negative", exact=True).check()
    page.get_by_label("Min severity").select_option("4")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_role("status")).to_have_text("Rule created.")
    row = page.locator("table.rules tbody tr", has_text=name)
    expect(row).to_contain_text("channel chat; sentiment negative; severity ≥ 4")


def test_a_rule_with_an_unsigned_webhook_is_refused_with_what_to_change(as_person: Any) -> None:
    page = as_person("admin", "/alerts")
    page.get_by_label("Name").fill("Unsigned hook")
    page.get_by_label("URL").fill("https://hooks.example.com/vocmine")
    page.get_by_role("button", name="Create rule").click()
    expect(page.get_by_role("alert")).to_contain_text("a webhook needs a webhook_secret")
    expect(page.get_by_label("Name")).to_have_value("Unsigned hook")  # kept, to correct
    expect(page.locator("table.rules tbody tr", has_text="Unsigned hook")).to_have_count(0)


def test_an_analyst_cannot_manage_alerts(as_person: Any) -> None:
    page = as_person("analyst", "/alerts")
    expect(page.get_by_role("alert")).to_contain_text("lacks the 'admin' scope")


def test_a_team_lead_reads_the_agents_view(as_person: Any) -> None:
    page = as_person("analyst", "/agents")
    expect(page.get_by_role("heading", name="Agents and teams")).to_be_visible()
    rows = page.locator("table.agents tbody tr")
    assert rows.count() > 1
    expect(rows.first.locator("svg.sparkline")).to_have_count(1)
    page.get_by_label("Per", exact=True).select_option("agent")
    page.wait_for_url(re.compile(r"by=agent"))
    page.get_by_role("link", name=re.compile("^Flagged")).click()
    page.wait_for_url(re.compile(r"sort=-flag_rate"))
    shares = [float(t.rstrip("%")) for t in page.locator("table.agents tbody tr td:nth-child(6)").all_inner_texts()]
    assert shares == sorted(shares, reverse=True)
    agent = page.locator("table.agents tbody th a").first
    name = agent.inner_text()
    agent.click()
    page.wait_for_url(re.compile(rf"/search\?.*agent={re.escape(name)}"))
