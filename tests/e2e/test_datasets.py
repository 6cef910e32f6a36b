"""A learner drops photos on the upload page, watches the per-file progress, reads the report,
edits a caption with htmx and nudges a crop (CSP on: only the served script runs)."""

import os

import pytest

from tests import dataset_photos as dp
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def sign_in(page, db) -> None:
    user = make_user(db, role="learner")
    db.commit()
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_upload_report_caption_and_nudge(page, db, tmp_path):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, db)
    good = dp.good_set(3)
    paths = dp.write(tmp_path, good + [dp.blurred(good[0])])
    page.goto("/lab/datasets")
    page.get_by_label("Trigger").fill("ohwx")
    page.get_by_label("Class word").fill("woman")
    page.get_by_test_id("file-input").set_input_files([str(p) for p in paths])
    assert page.get_by_test_id("upload-progress").locator("li").count() == 4
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url("**/lab/datasets/*", timeout=60000)

    assert "3 usable photos: 3 front" in page.get_by_test_id("summary-sentence").inner_text()
    cards = page.get_by_test_id("image-card")
    assert cards.count() == 4
    rejected = page.locator('[data-accepted="false"]')
    assert rejected.count() == 1 and "blurry" in rejected.inner_text()
    assert rejected.get_by_role("link", name="Lesson 1").first.get_attribute("href") == "/lessons/1"

    first = page.locator('[data-accepted="true"]').first
    card_id = first.get_attribute("id")
    first.get_by_test_id("caption-input").fill("ohwx woman with green eyes")
    first.get_by_role("button", name="Save caption").click()
    card = page.locator(f"#{card_id}")
    card.get_by_test_id("saved").wait_for()
    assert "describes the face itself" in card.inner_text()
    old_src = card.locator("img").get_attribute("src")
    card.get_by_role("button", name="Closer").click()
    page.wait_for_function(
        "([id, src]) => document.querySelector('#' + id + ' img').getAttribute('src') !== src",
        arg=[card_id, old_src],
    )
    page.wait_for_function(
        "id => { const i = document.querySelector('#' + id + ' img'); return i.complete && i.naturalWidth === 256; }",
        arg=card_id,
    )

    # The learner judges the soft photo good enough: it joins the set, and the choice can be undone.
    rejected.get_by_test_id("keep-anyway").click()
    page.get_by_test_id("kept-anyway").wait_for()
    assert "4 usable photos" in page.get_by_test_id("summary-sentence").inner_text()
    assert page.locator('[data-accepted="false"]').count() == 0
    if shots := os.environ.get("LORAFACE_SCREENSHOTS"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{shots}/dataset-kept-{width}.png", full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e]


def test_hostile_upload_shows_the_message(page, db, tmp_path):
    sign_in(page, db)
    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 1000)
    page.goto("/lab/datasets")
    page.get_by_test_id("file-input").set_input_files(str(fake))
    page.get_by_test_id("upload-submit").click()
    message = page.get_by_test_id("upload-js-error")
    message.wait_for()
    assert "not a photo" in message.inner_text()
    assert page.url.endswith("/lab/datasets")
