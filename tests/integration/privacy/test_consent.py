"""Consent before the first upload: the statement on the upload page, the refusal without it (API
and form, nothing written), consent sent with the upload, and GET/PUT /api/me/privacy."""

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.datasets.models import Dataset
from app.privacy.service import STATEMENT_VERSION
from tests import dataset_photos as dp


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    return [dp.jpeg_bytes(im) for im in dp.good_set(2)]


def _files(photos):
    return [("files", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]


def _nothing_stored(db, settings, user) -> bool:
    db.expire_all()
    no_rows = db.scalar(select(func.count(Dataset.id)).where(Dataset.user_id == user.id)) == 0
    return no_rows and not (settings.data_dir / "users" / str(user.id)).exists()


def test_api_upload_without_consent_is_refused_and_nothing_is_written(api_as, db, settings, photos):
    api = api_as("learner", consented=False)

    refused = api.post("/api/datasets", files=_files(photos))
    declined = api.post("/api/datasets", files=_files(photos), data={"consent": "false"})

    assert refused.status_code == declined.status_code == 403
    assert "agree" in refused.json()["detail"] and "consent=true" in refused.json()["detail"]
    assert _nothing_stored(db, settings, api.user)
    assert api.get("/api/me/privacy").json()["consented_at"] is None


def test_api_consent_sent_with_the_upload_is_recorded_with_the_retention(api_as, photos):
    api = api_as("learner", consented=False)

    created = api.post("/api/datasets", files=_files(photos), data={"consent": "true", "keep_photos": "true"})

    assert created.status_code == 201, created.text
    privacy = api.get("/api/me/privacy").json()
    assert privacy["consented_at"] and privacy["statement_version"] == STATEMENT_VERSION
    assert privacy["keep_photos"] is True
    # Later uploads need nothing more.
    assert api.post("/api/datasets", files=_files(photos[:1])).status_code == 201


def test_consent_is_kept_even_when_the_photos_are_refused(api_as, db, settings):
    api = api_as("learner", consented=False)

    bad = api.post(
        "/api/datasets",
        files=[("files", ("x.jpg", b"MZ" + b"\0" * 400, "image/jpeg"))],
        data={"consent": "true"},
    )

    assert bad.status_code == 400
    assert api.get("/api/me/privacy").json()["consented_at"] is not None
    assert _nothing_stored(db, settings, api.user)


def test_privacy_settings_read_and_change(api_as, client):
    api = api_as("learner", consented=False)
    before = api.get("/api/me/privacy")
    assert before.status_code == 200
    assert before.json() == {
        "consented_at": None,
        "statement_version": None,
        "current_statement_version": STATEMENT_VERSION,
        "keep_photos": False,
        "delete_on_approval": False,
        "retention_days": 30,
    }

    agreed = api.put("/api/me/privacy", json={"consent": True})
    kept = api.put("/api/me/privacy", json={"keep_photos": True})
    unchanged = api.put("/api/me/privacy", json={})

    assert agreed.status_code == 200 and agreed.json()["statement_version"] == STATEMENT_VERSION
    assert kept.json()["keep_photos"] is True and kept.json()["consented_at"] == agreed.json()["consented_at"]
    assert unchanged.json() == kept.json()
    assert api.put("/api/me/privacy", json={"consent": False}).status_code == 422
    assert api.put("/api/me/privacy", json={"keep_photos": "sometimes"}).status_code == 422
    assert client.get("/api/me/privacy").status_code == 401
    on_approval = api.put("/api/me/privacy", json={"keep_photos": False, "delete_on_approval": True}).json()
    assert on_approval["keep_photos"] is False and on_approval["delete_on_approval"] is True


def test_a_new_statement_version_asks_again(api_as, db, photos):
    """Whoever agreed to the first statement (photos deleted after the first model) agrees again."""
    api = api_as("learner")
    db.get(User, api.user.id).consent_version = STATEMENT_VERSION - 1
    db.commit()
    assert api.get("/api/me/privacy").json()["consented_at"] is None
    refused = api.post("/api/datasets", files=_files(photos))
    assert refused.status_code == 403
    assert api.put("/api/me/privacy", json={"consent": True}).json()["statement_version"] == STATEMENT_VERSION


def test_upload_page_shows_the_statement_until_consent(client_as, db, settings, photos):
    browser = client_as("learner", consented=False)
    page = browser.get("/lab/datasets")
    assert 'data-testid="privacy-statement"' in page.text and 'name="consent"' in page.text
    assert "What we keep" in page.text and "Who sees it" in page.text and 'name="keep_photos"' in page.text

    refused = browser.post("/lab/datasets", files=_files(photos), data={"csrf_token": browser.csrf})
    assert refused.status_code == 403 and 'data-testid="upload-error"' in refused.text
    assert "agree" in refused.text
    assert _nothing_stored(db, settings, browser.user)

    uploaded = browser.post(
        "/lab/datasets",
        files=_files(photos),
        data={"csrf_token": browser.csrf, "consent": "true", "keep_photos": "false"},
    )
    assert uploaded.status_code == 303, uploaded.text
    after = browser.get("/lab/datasets")
    assert 'data-testid="consent-given"' in after.text and "You agreed on" in after.text
    assert 'href="/account#privacy"' in after.text and 'name="consent"' not in after.text


def test_account_page_changes_the_retention_and_names_the_delete_button(client_as):
    browser = client_as("learner")
    page = browser.get("/account")
    assert 'id="privacy"' in page.text and "You agreed on" in page.text
    assert "Delete my account and all my data" in page.text

    saved = browser.post("/account/privacy", data={"csrf_token": browser.csrf, "keep_photos": "true"})

    assert saved.status_code == 303 and saved.headers["location"] == "/account#privacy"
    assert browser.get("/api/me/privacy").json()["keep_photos"] is True
