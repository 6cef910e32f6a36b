"""Accounts through the HTTP API and the pages, as a browser and as a script."""

from sqlalchemy import func, select

from app.auth.models import ApiToken, User, UserSession
from tests import factories
from tests.conftest import csrf_token, login
from tests.outbox import confirm_signup


def test_signup_mails_a_link_that_creates_the_account_and_signs_in(client, app):
    token = csrf_token(client, "/signup")
    response = client.post(
        "/signup",
        data={
            "email": "Ada@Example.com",
            "password": "a long password",
            "display_name": "Ada",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200 and "Check your inbox" in response.text
    assert client.get("/api/me").status_code == 401  # no account until the link is opened
    confirmed = confirm_signup(client, app.state.settings.data_dir, "ada@example.com")
    assert confirmed.status_code == 303
    assert "loraface_session" in confirmed.cookies
    home = client.get("/")
    assert "Welcome back" in home.text and "Ada" in home.text
    me = client.get("/api/me").json()
    assert me["email"] == "ada@example.com" and me["role"] == "learner"


def test_signup_rejects_short_password_and_hides_taken_emails(client, db):
    factories.make_user(db, email="taken@example.com")
    db.commit()
    token = csrf_token(client, "/signup")
    dup = client.post(
        "/signup", data={"email": "taken@example.com", "password": "a long password", "csrf_token": token}
    )
    assert dup.status_code == 200 and "Check your inbox" in dup.text and "already" not in dup.text
    short = client.post(
        "/signup", data={"email": "new@example.com", "password": "short", "csrf_token": token}
    )
    assert short.status_code == 400 and "at least 8" in short.text


def test_login_logout(client, db):
    user = factories.make_user(db)
    db.commit()
    response = login(client, user.email)
    assert response.status_code == 303
    assert client.get("/api/me").json()["id"] == user.id
    token = csrf_token(client, "/account")
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_session_rotates_at_login(client, db):
    user = factories.make_user(db)
    db.commit()
    client.cookies.set("loraface_session", "attacker-chosen-value", domain="testserver.local")
    response = login(client, user.email)
    assert response.cookies["loraface_session"] != "attacker-chosen-value"
    assert db.scalar(select(func.count()).select_from(UserSession)) == 1


def test_wrong_password_is_refused(client, db):
    user = factories.make_user(db)
    db.commit()
    response = login(client, user.email, "not the password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert client.get("/api/me").status_code == 401


def test_login_throttled_after_repeated_failures(client, db):
    user = factories.make_user(db)
    db.commit()
    statuses = [login(client, user.email, "wrong password!").status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = login(client, user.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.text


def test_login_throttled_per_address(client, db, app):
    users = [factories.make_user(db) for _ in range(5)]
    db.commit()
    limit = app.state.settings.login_max_failures_per_address
    for i in range(limit):
        assert login(client, users[i % 5].email, f"wrong {i}").status_code in (401, 429)
    assert login(client, "someone.new@example.com", "whatever pw").status_code == 429


def test_change_password(client_as):
    c = client_as("learner")
    response = c.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "another long password",
            "csrf_token": c.csrf,
        },
    )
    assert response.status_code == 303
    c.post("/logout", data={"csrf_token": c.csrf})
    del c.headers["X-CSRF-Token"]  # signing out rotated the CSRF seed
    assert login(c, c.user.email).status_code == 401
    assert login(c, c.user.email, "another long password").status_code == 303


def test_unsafe_forms_need_csrf(client_as, client):
    c = client_as("learner")
    del c.headers["X-CSRF-Token"]
    forms = {
        "/logout": {},
        "/account/password": {"current_password": factories.PASSWORD, "new_password": "x" * 12},
        "/account/tokens": {"name": "t"},
        "/account/tokens/1/revoke": {},
        "/account/delete": {"confirm": c.user.email},
    }
    for path, data in forms.items():
        response = c.post(path, data=data)
        assert response.status_code == 403, path
        assert "CSRF" in response.text
        bad = c.post(path, data={**data, "csrf_token": "forged"})
        assert bad.status_code == 403, path
    # Sign-in and sign-up forms are protected too (login CSRF).
    for path in ("/login", "/signup"):
        assert client.post(path, data={"email": "a@b.co", "password": "x" * 10}).status_code == 403
    # The account still exists and the session still works.
    assert c.get("/api/me").status_code == 200


def test_json_with_session_cookie_needs_csrf_header(client_as):
    c = client_as("learner")
    del c.headers["X-CSRF-Token"]
    assert c.post("/api/tokens", json={"name": "x"}).status_code == 403
    assert c.delete("/api/me").status_code == 403
    ok = c.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": c.csrf})
    assert ok.status_code == 201


def test_learner_cannot_reach_admin_routes(client_as, api_as):
    learner = client_as("learner")
    assert learner.get("/api/users").status_code == 403
    instructor = api_as("instructor")
    response = instructor.patch(f"/api/users/{instructor.user.id}", json={"role": "admin"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only a admin can do this."
    admin = api_as("admin")
    assert admin.get("/api/users").status_code == 200
    promoted = admin.patch(f"/api/users/{learner.user.id}", json={"role": "instructor"})
    assert promoted.json()["role"] == "instructor"


def test_bearer_token_access_and_revocation(api_as, client):
    c = api_as("reviewer")
    me = c.get("/api/me")
    assert me.status_code == 200 and me.json()["role"] == "reviewer"
    # A script needs no CSRF token.
    created = c.post("/api/tokens", json={"name": "second"})
    assert created.status_code == 201
    second = created.json()
    assert second["token"].startswith("lf_")
    listed = c.get("/api/tokens").json()
    assert {t["name"] for t in listed} == {"test", "second"}
    assert c.delete(f"/api/tokens/{second['id']}").status_code == 204
    refused = client.get("/api/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert client.get("/api/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_tokens_are_stored_hashed(api_as, db):
    c = api_as("learner")
    stored = db.scalars(select(ApiToken.token_hash)).all()
    assert c.token not in stored and len(stored[0]) == 64


def test_cannot_revoke_another_users_token(api_as):
    alice, bob = api_as("learner"), api_as("learner")
    bob_tokens = bob.get("/api/tokens").json()
    assert alice.delete(f"/api/tokens/{bob_tokens[0]['id']}").status_code == 404


def test_security_headers_on_pages_api_and_errors(client):
    for path in ("/", "/api/me", "/healthz", "/no/such/page", "/static/css/app.css"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_session_cookie_flags(client, db):
    user = factories.make_user(db)
    db.commit()
    response = login(client, user.email)
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "loraface_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_delete_me_removes_user_rows_and_files(api_as, db, settings):
    c = api_as("learner")
    user_id = c.user.id
    folder = settings.data_dir / "users" / str(user_id)
    folder.mkdir(parents=True)
    (folder / "photo.jpg").write_bytes(b"x")
    assert c.delete("/api/me").status_code == 204
    db.expire_all()
    assert db.get(User, user_id) is None
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0
    assert not folder.exists()
    assert c.get("/api/me").status_code == 401


def test_errors_are_json_under_api_and_pages_elsewhere(client, api_as):
    assert client.get("/api/me").json() == {"detail": "Sign in first."}
    page = client.get("/nowhere")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Traceback" not in page.text
    c = api_as("admin")
    bad = c.patch("/api/users/abc", json={"role": "wizard"})
    assert bad.status_code == 422 and "detail" in bad.json()


def test_pages_redirect_to_login(client):
    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_huge_body_is_refused_with_413(client, app):
    limit = app.state.settings.max_upload_bytes
    response = client.post(
        "/api/tokens",
        content=b"x",
        headers={"content-length": str(limit + 1), "content-type": "application/json"},
    )
    assert response.status_code == 413
