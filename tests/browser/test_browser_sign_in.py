"""Signing in and out of the console in a real browser."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in


def test_a_page_asks_for_sign_in_then_returns_to_it(new_page: Any, tokens: dict[str, str]) -> None:
    page = new_page()
    page.goto("/preferences")
    assert "/sign-in" in page.url
    page.get_by_label("API key").fill("vm_000000000000_not-a-real-key-at-all")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That key is not valid")
    page.get_by_label("API key").fill(tokens["analyst"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/preferences")
    # The browser's zone (the context's Europe/Madrid) was taken at sign-in.
    assert page.get_by_label("Show times in").input_value() == "Europe/Madrid"
    assert page.locator("header .person").inner_text() == "Ana Analyst"


def test_the_session_cookie_is_http_only_and_same_site(new_page: Any, tokens: dict[str, str]) -> None:
    page = sign_in(new_page(), tokens["analyst"], "/preferences")
    cookie = next(c for c in page.context.cookies() if c["name"] == "vocmine_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("vocmine_session") == -1  # scripts cannot read it


def test_sign_out_ends_the_session(new_page: Any, tokens: dict[str, str]) -> None:
    page = sign_in(new_page(), tokens["analyst"], "/preferences")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    page.goto("/preferences")
    assert "/sign-in" in page.url


def test_choosing_a_time_zone(new_page: Any, tokens: dict[str, str]) -> None:
    page = sign_in(new_page(), tokens["analyst"], "/preferences")
    page.get_by_label("Show times in").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save").click()
    assert page.locator("header .tz").inner_text() == "Asia/Tokyo"
