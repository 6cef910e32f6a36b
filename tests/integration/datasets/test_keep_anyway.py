""" "Keep anyway": a learner overrules a rejection they judge wrong, the set checks run again over
the stored measurements, and the photo trains; rejections with nothing to train on stay final."""

import pytest

from app.datasets import service as datasets_service
from tests import dataset_photos as dp


@pytest.fixture(scope="module")
def nine_and_a_blurry() -> list[tuple[str, bytes, str]]:
    faces = dp.good_set(10)
    files = [(f"me_{i}.jpg", dp.jpeg_bytes(im), "image/jpeg") for i, im in enumerate(faces[:9])]
    files.append(("soft.jpg", dp.jpeg_bytes(dp.blurred(faces[9])), "image/jpeg"))
    files.append(("small.jpg", dp.jpeg_bytes(dp.tiny(faces[0])), "image/jpeg"))
    return files


def _upload(api, files) -> dict:
    response = api.post("/api/datasets", files=[("files", f) for f in files], data={"trigger": "ohwx"})
    assert response.status_code == 201, response.text
    return response.json()


def _image(body: dict, filename: str) -> dict:
    return next(i for i in body["images"] if i["filename"] == filename)


def _keep(api, body: dict, filename: str, keep: bool):
    url = f"/api/datasets/{body['id']}/images/{_image(body, filename)['id']}"
    return api.patch(url, json={"keep_anyway": keep})


def test_keeping_a_soft_photo_makes_the_set_usable_and_undo_takes_it_back(api_as, db, nine_and_a_blurry):
    api = api_as("learner")
    body = _upload(api, nine_and_a_blurry)
    assert body["usable"] is False and "too_few" in {p["code"] for p in body["problems"]}
    assert _image(body, "soft.jpg")["accepted"] is False

    kept = _keep(api, body, "soft.jpg", True)
    assert kept.status_code == 200, kept.text
    after = kept.json()
    soft = _image(after, "soft.jpg")
    assert soft["accepted"] is True and soft["kept_anyway"] is True
    assert "blurry" in {p["code"] for p in soft["problems"]}  # the finding stays visible
    assert after["usable"] is True and after["summary"].startswith("10 usable photos")
    trained = datasets_service.training_images(db=db, user_id=api.user.id, dataset_id=body["id"])
    assert len(trained) == 10

    undone = _keep(api, body, "soft.jpg", False).json()
    assert _image(undone, "soft.jpg")["accepted"] is False and undone["usable"] is False


def test_final_rejections_and_accepted_photos_cannot_be_kept(api_as, nine_and_a_blurry):
    api = api_as("learner")
    body = _upload(api, nine_and_a_blurry)
    small = _keep(api, body, "small.jpg", True)
    assert small.status_code == 409 and small.json()["detail"]
    assert _image(api.get(f"/api/datasets/{body['id']}").json(), "small.jpg")["accepted"] is False
    accepted = _keep(api, body, "me_0.jpg", True)
    assert accepted.status_code == 409 and "nothing to overrule" in accepted.json()["detail"]


def test_another_learners_photo_is_not_found(api_as, nine_and_a_blurry):
    owner, other = api_as("learner"), api_as("learner")
    body = _upload(owner, nine_and_a_blurry)
    assert _keep(other, body, "soft.jpg", True).status_code == 404
    assert _image(owner.get(f"/api/datasets/{body['id']}").json(), "soft.jpg")["accepted"] is False


def test_the_dataset_page_offers_keep_anyway_and_shows_the_choice(client_as, api_as, nine_and_a_blurry):
    browser = client_as("learner")
    response = browser.post(
        "/api/datasets", files=[("files", f) for f in nine_and_a_blurry], data={"trigger": "ohwx"}
    )
    body = response.json()
    page = browser.get(f"/lab/datasets/{body['id']}").text
    assert page.count('data-testid="keep-anyway"') == 1  # the soft photo; the small one's rejection is final
    soft = _image(body, "soft.jpg")
    answer = browser.post(
        f"/lab/datasets/{body['id']}/images/{soft['id']}/keep",
        data={"keep": "yes", "csrf_token": browser.csrf},
    )
    assert answer.status_code == 303
    page = browser.get(answer.headers["location"]).text
    assert 'data-testid="kept-anyway"' in page and 'data-testid="undo-keep"' in page
    assert "Kept in the training set." in page
