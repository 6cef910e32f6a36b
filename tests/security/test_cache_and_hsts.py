"""Signed-in pages and JSON are never cached; user files keep their private caching; https
answers carry Strict-Transport-Security (a setting), plain http ones do not."""

from fastapi.testclient import TestClient

from app.main import create_app


def test_signed_in_pages_and_json_are_not_stored(client_as, api_as):
    browser, script = client_as("learner"), api_as("learner")
    for response in (
        browser.get("/"),
        browser.get("/account"),
        browser.get("/api/me"),
        script.get("/api/feed"),
    ):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store", response.url


def test_user_files_keep_private_caching(api_as):
    from tests import dataset_photos as dp

    learner = api_as("learner")
    photo = dp.jpeg_bytes(dp.good_set(1)[0])
    created = learner.post("/api/datasets", files=[("files", ("me.jpg", photo, "image/jpeg"))]).json()
    image = created["images"][0]
    served = learner.get(f"/api/datasets/{created['id']}/images/{image['id']}/thumb")
    assert served.status_code == 200 and served.headers["cache-control"] == "private, max-age=3600"


def test_https_answers_carry_hsts_and_http_ones_do_not(app):
    with TestClient(app, base_url="https://testserver") as secure, TestClient(app) as plain:
        over_https, over_http = secure.get("/healthz"), plain.get("/healthz")
    assert over_https.headers["strict-transport-security"] == f"max-age={app.state.settings.hsts_seconds}"
    assert "strict-transport-security" not in over_http.headers


def test_hsts_can_be_turned_off(settings):
    quiet = create_app(settings.model_copy(update={"hsts_seconds": 0}), start_worker=False)
    with TestClient(quiet, base_url="https://testserver") as secure:
        assert "strict-transport-security" not in secure.get("/healthz").headers
