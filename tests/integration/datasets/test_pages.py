"""The lab's dataset pages: upload form, report grid with lesson links, htmx caption and crop edits."""

import re

import pytest

from tests import dataset_photos as dp


@pytest.fixture(scope="module")
def photos() -> list[bytes]:
    good = dp.good_set(3)
    return [dp.jpeg_bytes(im) for im in good] + [dp.jpeg_bytes(dp.with_sunglasses(good[0]))]


def post_form(client, photos, **fields):
    files = [("files", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    return client.post(
        "/lab/datasets", files=files, data={"csrf_token": client.csrf, **fields}, headers={"X-CSRF-Token": ""}
    )


def test_pages_need_sign_in_and_the_learner_role(client, client_as):
    assert client.get("/lab/datasets").status_code in (302, 303)
    assert client_as("reviewer").get("/lab/datasets").status_code == 403
    page = client_as("learner").get("/lab/datasets")
    assert page.status_code == 200 and 'data-testid="drop-zone"' in page.text
    assert "/static/js/datasets-upload.js" in page.text and "<script>" not in page.text


def test_form_upload_then_report_page(client_as, photos):
    browser = client_as("learner")
    response = post_form(browser, photos, name="Spring", trigger="sks", class_word="woman")
    assert response.status_code == 303, response.text
    page = browser.get(response.headers["location"])
    assert page.status_code == 200
    assert "3 usable photos: 3 front, 0 three-quarter, 0 profile" in page.text
    assert page.text.count('data-accepted="true"') == 3 and page.text.count('data-accepted="false"') == 1
    assert 'data-code="eyes_hidden"' in page.text and 'href="/lessons/1"' in page.text
    assert 'data-code="too_few"' in page.text


def test_form_upload_of_hostile_file_shows_the_message(client_as, settings):
    browser = client_as("learner")
    response = post_form(browser, [b"MZ" + b"\x00" * 500])
    assert response.status_code == 400
    assert 'data-testid="upload-error"' in response.text and "not a photo" in response.text
    assert not (settings.data_dir / "users" / str(browser.user.id)).exists()


def test_caption_edit_and_nudge_with_htmx_return_the_card(client_as, photos):
    browser = client_as("learner")
    location = post_form(browser, photos[:1], trigger="sks", class_word="woman").headers["location"]
    page = browser.get(location).text
    action = re.search(r'hx-post="(/lab/datasets/\d+/images/\d+/caption)"', page).group(1)
    htmx = {"HX-Request": "true"}
    card = browser.post(action, data={"caption": "sks woman, woman in studio light"}, headers=htmx)
    assert card.status_code == 200 and card.text.lstrip().startswith("<article")
    assert 'value="sks woman, woman in studio light"' in card.text
    assert 'data-code="caption_class_without_trigger"' in card.text and "Saved." in card.text
    thumb = re.search(r'src="([^"]+/thumb\?v=[^"]+)"', card.text).group(1)
    nudged = browser.post(action.replace("/caption", "/nudge"), data={"direction": "in"}, headers=htmx)
    assert nudged.status_code == 200
    new_thumb = re.search(r'src="([^"]+/thumb\?v=[^"]+)"', nudged.text).group(1)
    assert new_thumb != thumb and browser.get(new_thumb).status_code == 200
    empty = browser.post(action, data={"caption": " "}, headers=htmx)
    assert empty.status_code == 400 and "cannot be empty" in empty.text


def test_other_learner_gets_404_on_pages(client_as, photos):
    owner, other = client_as("learner"), client_as("learner")
    location = post_form(owner, photos[:1]).headers["location"]
    assert other.get(location).status_code == 404
    assert other.post(location + "/delete", data={"csrf_token": other.csrf}).status_code == 404
    assert owner.post(location + "/delete", data={"csrf_token": owner.csrf}).status_code == 303
    assert owner.get(location).status_code == 404
