"""Sign-in throttling slows a guesser without locking out the owner; sign-up does not tell which
emails are registered; weak passwords are refused; a password change ends tokens and sessions."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.auth.dependencies import SESSION_COOKIE
from app.auth.models import ApiToken, LoginAttempt, SignupRequest, User
from tests import factories
from tests.conftest import csrf_token, login
from tests.outbox import confirm_signup, newest_message


def _browser(app, address: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 40000))


def _rewind(db, seconds: float) -> None:
    """Let time pass for the throttle: every recorded failure moves into the past."""
    for attempt in db.query(LoginAttempt):
        attempt.attempted_at -= timedelta(seconds=seconds)
    db.commit()


def test_someone_elses_failures_never_lock_the_owner_out(app, db):
    owner = factories.make_user(db)
    db.commit()
    with _browser(app, "198.51.100.9") as attacker:
        statuses = [login(attacker, owner.email, f"guess number {i}").status_code for i in range(8)]
    with _browser(app, "203.0.113.5") as own_browser:
        response = login(own_browser, owner.email)

    assert statuses[:5] == [401] * 5 and 429 in statuses
    assert response.status_code == 303  # the right password from the owner's address still works


def test_a_throttled_sign_in_says_when_to_retry_and_the_wait_grows(app, db):
    user = factories.make_user(db)
    db.commit()
    with _browser(app, "198.51.100.20") as c:
        for i in range(5):
            assert login(c, user.email, f"wrong {i}").status_code == 401
        first = login(c, user.email, "wrong again")
        _rewind(db, int(first.headers["retry-after"]) + 1)
        assert login(c, user.email, "wrong once more").status_code == 401  # allowed after the wait
        second = login(c, user.email, "and again")

    assert first.status_code == second.status_code == 429
    assert "Try again in" in first.text
    assert int(second.headers["retry-after"]) > int(first.headers["retry-after"])


def test_failures_on_one_account_do_not_lock_other_accounts_from_the_same_address(app, db):
    target, neighbour = factories.make_user(db), factories.make_user(db)
    db.commit()
    with _browser(app, "192.0.2.44") as c:
        for i in range(13):
            login(c, target.email, f"wrong {i}")
        response = login(c, neighbour.email)
    assert response.status_code == 303


def test_one_address_spraying_many_accounts_hits_the_address_limit(app, db):
    users = [factories.make_user(db) for _ in range(6)]
    db.commit()
    limit = app.state.settings.login_max_failures_per_address
    with _browser(app, "192.0.2.99") as c:
        for i in range(limit):
            login(c, users[i % len(users)].email, f"spray {i}")
        blocked = login(c, users[0].email)
    assert blocked.status_code == 429
    assert "from this address" in blocked.text and int(blocked.headers["retry-after"]) > 0


def test_sign_up_answers_the_same_for_a_registered_email(app, db, client):
    factories.make_user(db, email="known@example.com")
    db.commit()
    token = csrf_token(client, "/signup")

    def sign_up(email):
        return client.post(
            "/signup", data={"email": email, "password": "quiet orange kettle", "csrf_token": token}
        )

    known, fresh = sign_up("known@example.com"), sign_up("fresh@example.com")

    assert known.status_code == fresh.status_code == 200
    assert known.text.replace("known@", "X@") == fresh.text.replace("fresh@", "X@")
    data_dir = app.state.settings.data_dir
    assert "already has one" in newest_message(data_dir, "known@example.com").get_payload()
    assert db.query(SignupRequest).filter_by(email="known@example.com").count() == 0
    assert confirm_signup(client, data_dir, "fresh@example.com").status_code == 303
    assert db.query(User).filter_by(email="fresh@example.com").count() == 1


@pytest.mark.parametrize(
    "password, why",
    [
        ("password1234", "most common"),
        ("P@ssw0rd!!", "most common"),
        ("12345678", "most common"),
        ("qwertyuiop", "run or repetition"),
        ("abcdefgh12", "run or repetition"),
        ("zzzzzzzzzz", "run or repetition"),
        ("mallory@example.com", "email address or name"),
        ("mallory1990", "email address or name"),
        ("Quentin-Blake-77", "email address or name"),
    ],
)
def test_weak_passwords_are_refused_at_sign_up(client, password, why):
    token = csrf_token(client, "/signup")
    data = {"email": "mallory@example.com", "display_name": "Quentin Blake", "password": password}
    response = client.post("/signup", data={**data, "csrf_token": token})
    assert response.status_code == 400 and why in response.text


def test_a_password_change_revokes_api_tokens_and_rotates_the_session(client_as, db):
    c = client_as("learner")
    raw = factories.make_token(db, c.user)
    db.commit()
    before = c.cookies[SESSION_COOKIE]
    response = c.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "velvet harbour lantern",
            "csrf_token": c.csrf,
        },
    )
    with TestClient(c.app) as script:
        by_token = script.get("/api/me", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 303
    assert by_token.status_code == 401
    assert response.cookies[SESSION_COOKIE] != before
    c.cookies.set(SESSION_COOKIE, response.cookies[SESSION_COOKIE], domain="testserver.local")
    assert c.get("/api/me").status_code == 200


def test_a_password_change_can_keep_api_tokens(client_as, db):
    c = client_as("learner")
    raw = factories.make_token(db, c.user)
    db.commit()
    form = {
        "current_password": factories.PASSWORD,
        "new_password": "velvet harbour lantern",
        "keep_tokens": "true",
    }
    response = c.post("/account/password", data={**form, "csrf_token": c.csrf})
    with TestClient(c.app) as script:
        by_token = script.get("/api/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 303 and by_token.status_code == 200
    db.expire_all()
    assert db.query(ApiToken).filter(ApiToken.revoked_at.is_not(None)).count() == 0
