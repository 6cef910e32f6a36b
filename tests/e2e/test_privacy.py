"""In a real browser: a learner who has not agreed yet sees the photo statement on the upload page,
cannot upload without ticking the box, and agreeing (with a retention choice) uploads in one go."""

import pytest

from tests import dataset_photos as dp
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def test_the_first_upload_asks_for_consent(page, db, tmp_path):
    user = make_user(db, role="learner", consented=False)
    db.commit()
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")

    page.goto("/lab/datasets")
    assert page.get_by_test_id("privacy-statement").is_visible()
    page.get_by_test_id("file-input").set_input_files([str(p) for p in dp.write(tmp_path, dp.good_set(2))])
    page.get_by_test_id("upload-submit").click()
    # The required box stops the form before any byte is sent.
    assert page.get_by_test_id("consent-box").evaluate("box => !box.checkValidity()")
    assert page.url.endswith("/lab/datasets") and page.get_by_test_id("upload-status").inner_text() == ""

    page.get_by_label("Keep them until I delete them").check()
    page.get_by_test_id("consent-box").check()
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url("**/lab/datasets/*", timeout=60000)

    privacy = page.request.get("/api/me/privacy").json()
    assert privacy["consented_at"] and privacy["keep_photos"] is True
    page.goto("/lab/datasets")
    assert "You agreed on" in page.get_by_test_id("consent-given").inner_text()
    assert page.get_by_test_id("privacy-statement").count() == 0
