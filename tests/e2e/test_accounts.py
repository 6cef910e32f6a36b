"""A real browser signs up, signs out, signs in and sees the home page."""

import pytest

from tests.outbox import newest_link

pytestmark = pytest.mark.e2e


def _follow_signup_link(page, data_dir, email: str) -> None:
    assert page.get_by_text("Check your inbox").is_visible()
    page.goto(newest_link(data_dir, email))
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/")


def test_sign_up_sign_out_sign_in(page, settings):
    page.goto("/")
    page.get_by_role("link", name="Start learning").first.click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Display name").fill("Grace")
    page.get_by_label("Password").fill("a very long password")
    page.get_by_role("button", name="Create account").click()
    _follow_signup_link(page, settings.data_dir, "grace@example.com")
    assert "Welcome back" in page.content()
    assert page.get_by_text("Welcome, Grace!").is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/")
    assert page.get_by_text("You are signed out.").is_visible()

    page.goto("/login")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("Wrong email or password.").is_visible()

    page.get_by_label("Password").fill("a very long password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    assert page.get_by_text("Welcome back").is_visible()
    assert page.get_by_role("link", name="Grace").is_visible()


def test_api_token_created_with_htmx(page, live_server, settings):
    page.goto("/signup")
    page.get_by_label("Email").fill("tok@example.com")
    page.get_by_label("Password").fill("a very long password")
    page.get_by_role("button", name="Create account").click()
    _follow_signup_link(page, settings.data_dir, "tok@example.com")
    page.goto("/account")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text()
    assert token.startswith("lf_")
    # htmx swapped the fragment in place: still on /account, no full reload.
    assert page.url.endswith("/account")
    response = page.request.get(f"{live_server}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json()["email"] == "tok@example.com"
