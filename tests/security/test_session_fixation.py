"""Session fixation: whatever session cookie or CSRF seed a browser holds before it signs in (an
attacker may have planted her own), signing in replaces it and the old session dies on the server;
signing out kills the session itself, so a copied cookie stops working too."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.auth.dependencies import SESSION_COOKIE
from app.auth.models import UserSession
from tests import factories
from tests.conftest import csrf_token, login
from tests.outbox import confirm_signup

COOKIE_DOMAIN = "testserver.local"  # where httpx files the test client's cookies


def _browser(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def _signed_in_as(app, session: str) -> int | None:
    """The user id a bare copy of a session cookie signs in as, from another browser."""
    with _browser(app) as other:
        other.cookies.set(SESSION_COOKIE, session, domain=COOKIE_DOMAIN)
        response = other.get("/api/me")
        return response.json()["id"] if response.status_code == 200 else None


def _sign_in(c: TestClient, how: str, email: str):
    # The page forms redirect a browser that is already signed in, so the token comes from /account.
    token = csrf_token(c, "/account")
    fields = {"email": email, "password": factories.PASSWORD, "csrf_token": token}
    if how == "signup":
        sent = c.post("/signup", data={**fields, "display_name": "Victim"})
        assert sent.status_code == 200, sent.text
        return confirm_signup(c, c.app.state.settings.data_dir, email)
    return c.post("/login", data=fields)


@pytest.mark.parametrize("how", ["login", "signup"])
def test_signing_in_replaces_a_planted_session(app, db, how):
    attacker = factories.make_user(db)
    victim_email = "victim@example.com"
    if how == "login":
        factories.make_user(db, email=victim_email)
    db.commit()
    with _browser(app) as a:
        login(a, attacker.email)
        planted = a.cookies[SESSION_COOKIE]

    with _browser(app) as victim:
        victim.cookies.set(SESSION_COOKIE, planted, domain=COOKIE_DOMAIN)
        assert victim.get("/api/me").json()["id"] == attacker.id  # the plant works until sign-in
        response = _sign_in(victim, how, victim_email)
        assert response.status_code == 303, response.text
        rotated = response.cookies[SESSION_COOKIE]
        cookie = response.headers["set-cookie"].lower()
        me = victim.get("/api/me").json()

    assert rotated != planted
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert me["email"] == victim_email
    assert _signed_in_as(app, rotated) == me["id"]
    # The planted session is ended, so the attacker's copy cannot follow the victim's browser.
    assert _signed_in_as(app, planted) is None


def test_an_attacker_chosen_cookie_value_is_never_adopted(app, db):
    user = factories.make_user(db)
    db.commit()
    with _browser(app) as c:
        c.cookies.set(SESSION_COOKIE, "attacker-chosen-value", domain=COOKIE_DOMAIN)
        response = login(c, user.email)
        assert response.cookies[SESSION_COOKIE] != "attacker-chosen-value"
    assert _signed_in_as(app, "attacker-chosen-value") is None


def test_signing_in_rotates_the_csrf_seed(app, db):
    """A CSRF token learned before sign-in (say, from a planted seed cookie) is useless after it."""
    user = factories.make_user(db)
    db.commit()
    with _browser(app) as c:
        before = csrf_token(c)
        login(c, user.email)
        stale = c.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": before})
        fresh = csrf_token(c, "/account")
        ok = c.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": fresh})
    assert stale.status_code == 403 and fresh != before
    assert ok.status_code == 201


def test_signing_out_ends_the_session_on_the_server(app, db):
    user = factories.make_user(db)
    db.commit()
    with _browser(app) as c:
        login(c, user.email)
        session = c.cookies[SESSION_COOKIE]
        assert _signed_in_as(app, session) == user.id
        out = c.post("/logout", headers={"X-CSRF-Token": csrf_token(c, "/account")})
        assert out.status_code == 303
        assert c.get("/api/me").status_code == 401
    assert _signed_in_as(app, session) is None  # a copy of the cookie is dead too
    assert db.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)) == 0
