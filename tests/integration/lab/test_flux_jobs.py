"""FLUX.1 through the web flow on the tiny FLUX.1 demo base: a learner POSTs a FLUX.1 job, the
worker trains it and runs the evaluation sweep its ending queues, the model page says there is no
kohya file, the diffusers file downloads and loads into a FluxPipeline, a sample is generated, and
a submission reaches a reviewer. Settings FLUX.1 cannot take are refused at POST."""

import pytest

from tests.integration.lab.jobs import run_every_queued_job, wait_for_job

pytestmark = pytest.mark.slow
FLUX_JOB = {"trigger": "sks", "class_word": "woman", "family": "flux", "flux_mlp": True, "steps": 2,
            "rank": 4, "alpha": 4, "learning_rate": 0.01, "resolution": 64, "sample_steps": 2, "base_precision": "fp8"}  # fmt: skip


def _upload(learner, face_photos) -> int:
    upload = learner.post("/api/datasets", files=[("files", (n, b, "image/jpeg")) for n, b in face_photos],
                          data={"base": "sd15"})  # fmt: skip
    assert upload.status_code == 201, upload.text
    return upload.json()["id"]


def test_a_flux_job_trains_evaluates_generates_and_reaches_a_reviewer(
    app, db, settings, api_as, may_train, face_photos, tmp_path
):
    from app.lab.models import TrainingJob
    from app.trainer import base_models

    learner, reviewer = api_as("learner"), api_as("reviewer")
    may_train(db, learner.user)
    created = learner.post("/api/jobs", json={"dataset_id": _upload(learner, face_photos), **FLUX_JOB})
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    stored = db.get(TrainingJob, job_id)
    assert stored.family == "flux" and "proj_mlp" in stored.config["target_modules"]
    assert stored.config["base_precision"] == "fp8"  # the frozen transformer stored in 8 bits

    run_every_queued_job(app, settings)

    job = wait_for_job(learner, job_id)
    assert job["status"] == "succeeded", job["error"]
    model = learner.get(f"/api/models/{job['model_id']}").json()
    assert model["family"] == "flux" and model["download_kohya"] is None
    assert "full-size transformer" in model["kohya_note"]
    assert all(e["download_kohya"] is None for e in model["epochs"])
    # the evaluation sweep the run's ending queued has finished: scores, notes, a recommendation
    assert model["recommended_strength"] is not None and model["recommended_epoch"] == 1
    assert set(model["score_notes"]) == {"likeness", "copying", "prompt_following", "deep_fried"}
    assert all(model["score_notes"][k].strip() for k, v in model["scores"].items() if v is None)

    kohya = learner.get(f"/api/models/{model['id']}/download", params={"format": "kohya"})
    assert kohya.status_code == 404 and "no kohya file" in kohya.json()["detail"]
    diffusers = learner.get(model["download_diffusers"])
    assert diffusers.status_code == 200, diffusers.text
    (tmp_path / "pytorch_lora_weights.safetensors").write_bytes(diffusers.content)
    pipe = base_models.load_pipeline(base_models.resolve(None, settings.data_dir / "cache", "flux"))
    pipe.load_lora_weights(str(tmp_path), weight_name="pytorch_lora_weights.safetensors")
    assert any("lora" in name for name, _ in pipe.transformer.named_parameters())

    page = learner.get(f"/models/{model['id']}")
    assert page.status_code == 200 and "Kohya file: not written for this model" in page.text
    assert "distilled guidance of 3.5" in page.text and "download?format=kohya" not in page.text
    assert "FLUX.1 · LoRA on attention + MLPs (tiny demo)" in page.text

    made = learner.post(f"/api/models/{model['id']}/generate",
                        json={"prompt": "photo of sks woman", "strength": 0.8, "seed": 7, "steps": 2})  # fmt: skip
    assert made.status_code == 200, made.text
    image = learner.get(made.json()["image_url"])
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"

    submitted = learner.post("/api/submissions", json={"model_id": model["id"], "note": "flux round"})
    assert submitted.status_code == 201, submitted.text
    sub = learner.get(f"/api/submissions/{submitted.json()['id']}").json()
    frozen = learner.get(sub["lora_url"])
    assert sub["snapshot"]["model"]["family"] == "flux" and "ss_network_dim" not in sub["settings"]
    assert "_diffusers.safetensors" in frozen.headers["content-disposition"]
    assert frozen.content == diffusers.content  # the only epoch is the final one
    queue = reviewer.get("/api/review/queue").json()
    assert [item["id"] for item in queue] == [sub["id"]]
    screen = reviewer.get(f"/review/{sub['id']}")
    assert screen.status_code == 200 and "FLUX" in screen.text and "diffusers format" in screen.text


def test_settings_a_family_cannot_take_are_refused_at_post(db, api_as, may_train, face_photos):
    from app.lab.models import TrainingJob

    learner = api_as("learner")
    may_train(db, learner.user)
    dataset = {"dataset_id": _upload(learner, face_photos), "trigger": "sks", "class_word": "woman"}

    cases = {
        "mlp on sdxl": ({"family": "sdxl", "flux_mlp": True}, "flux_mlp is for FLUX.1 jobs only"),
        "prior on flux": ({"family": "flux", "prior_images": 2}, "prior preservation"),
        "mask on flux": ({"family": "flux", "mask": "face"}, "loss mask"),
        "resolution on flux": ({"family": "flux", "resolution": 72}, "multiple of 16"),
        "no sd15 demo": ({"family": "sd15"}, "no SD 1.5 demo base"),
        "sdxl preset on flux": ({"family": "flux", "preset": "SDXL face, 12 GB"}, "for sdxl bases"),
        "fp8 base on sdxl": ({"family": "sdxl", "base_precision": "fp8"}, "for FLUX.1 jobs for now"),
    }
    for name, (extra, words) in cases.items():
        answer = learner.post("/api/jobs", json={**dataset, **extra})
        assert answer.status_code == 422, (name, answer.text)
        assert words.lower() in answer.json()["detail"].lower(), (name, answer.json())
    assert db.query(TrainingJob).filter_by(user_id=learner.user.id).count() == 0  # nothing was queued
    form = learner.get("/lab").text  # no base configured: the form offers both demo families
    assert (
        '<option value="sdxl" selected>SDXL</option>' in form
        and '<option value="flux" >FLUX.1</option>' in form
    )


def test_a_configured_base_decides_the_family(db, settings, api_as, may_train, face_photos, tmp_path):
    """With a real base set, family may be left out or name the base's family; any other is a 422
    naming the base's family (the tiny SDXL folder stands in for a configured SDXL base)."""
    from app.lab.models import TrainingJob
    from app.trainer.tiny import tiny_sdxl_path

    learner = api_as("learner")
    may_train(db, learner.user)
    dataset = {"dataset_id": _upload(learner, face_photos), "trigger": "sks", "class_word": "woman",
               "steps": 1, "resolution": 64}  # fmt: skip
    base = tiny_sdxl_path(settings.data_dir / "cache")
    original = settings.base_model
    settings.base_model = str(base)
    try:
        flux = learner.post("/api/jobs", json={**dataset, "family": "flux"})
        same = learner.post("/api/jobs", json={**dataset, "family": "sdxl"})
        unset = learner.post("/api/jobs", json=dataset)
    finally:
        settings.base_model = original
    assert flux.status_code == 422 and "family 'sdxl'" in flux.json()["detail"]
    assert same.status_code == unset.status_code == 201, (same.text, unset.text)
    assert db.get(TrainingJob, unset.json()["id"]).family == "sdxl"
