"""The R&D loop through the API: with the default privacy choice a learner trains twice on one
upload (the second run based_on the first, one setting changed), the first model's evaluation
arrives with no sweep call, every null score has a note, and compare names the changed setting."""

import pytest

from tests.integration.lab.jobs import run_every_queued_job, wait_for_job

pytestmark = pytest.mark.slow
SETTINGS = {"trigger": "sks", "class_word": "woman", "epochs": 1, "rank": 4, "alpha": 4,
            "learning_rate": 0.01, "resolution": 64, "sample_steps": 2}  # fmt: skip


def test_train_twice_on_one_upload_evaluate_and_compare(app, db, settings, api_as, may_train, face_photos):
    learner, stranger = api_as("learner"), api_as("learner")
    may_train(db, learner.user)
    may_train(db, stranger.user)
    upload = learner.post("/api/datasets", files=[("files", (n, b, "image/jpeg")) for n, b in face_photos],
                          data={"base": "sd15"})  # fmt: skip
    assert upload.status_code == 201, upload.text
    first = learner.post("/api/jobs", json={"dataset_id": upload.json()["id"], **SETTINGS})
    assert first.status_code == 201, first.text

    run_every_queued_job(app, settings)

    job = wait_for_job(learner, first.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    model = learner.get(f"/api/models/{job['model_id']}").json()
    assert model["recommended_strength"] is not None and model["recommended_epoch"] == 1  # no sweep call
    assert set(model["score_notes"]) == {"likeness", "copying", "prompt_following", "deep_fried"}
    for name, value in model["scores"].items():
        if value is None:
            assert model["score_notes"][name].strip(), name
    assert "the demo base draws no faces" in model["score_notes"]["likeness"].lower()

    # The photos are still there: train again from the first job with one change.
    assert stranger.post("/api/jobs", json={"based_on": job["id"]}).status_code == 404
    second = learner.post("/api/jobs", json={"based_on": job["id"], "learning_rate": 0.005})
    assert second.status_code == 201, second.text
    assert second.json()["based_on"] == job["id"]
    assert second.json()["changes"] == {"learning_rate": [0.01, 0.005]}
    run_every_queued_job(app, settings)
    again = wait_for_job(learner, second.json()["id"])
    assert again["status"] == "succeeded", again["error"]
    assert again["based_on"] == job["id"]

    ids = f"{job['model_id']},{again['model_id']}"
    compared = learner.get("/api/models/compare", params={"ids": ids})
    assert compared.status_code == 200, compared.text
    body = compared.json()
    assert [m["id"] for m in body["models"]] == [job["model_id"], again["model_id"]]
    assert body["differences"] == [
        {"setting": "learning_rate", "label": "learning rate", "values": [0.01, 0.005]}
    ]
    assert stranger.get("/api/models/compare", params={"ids": ids}).status_code == 404
    assert learner.get("/api/models/compare", params={"ids": "1,x"}).status_code == 400
    assert learner.get("/api/models/compare", params={"ids": "1,2,3,4,5"}).status_code == 400
    page = learner.get("/models/compare", params={"ids": ids})
    assert page.status_code == 200 and page.text.count('data-testid="compare-curve"') == 2
    assert 'data-testid="differs"' in page.text and "noise by design" in page.text
    model_page = learner.get(f"/models/{job['model_id']}")
    assert "Train again with changes" in model_page.text and "not measurable" in model_page.text
    assert "PROMPT_FOLLOWING" not in model_page.text and ">None<" not in model_page.text
    form = learner.get("/lab", params={"based_on": job["id"], "learning_rate": "0.005"})
    assert f'name="based_on" value="{job["id"]}"' in form.text and 'value="0.005"' in form.text
