"""A learner who passed lesson 6 uploads photos, trains on the tiny base, downloads both LoRA
formats and loads them back into a pipeline the way users do."""

import time

import pytest

from app.lab.worker import Worker

pytestmark = pytest.mark.slow


def _poll_until_done(client, job_id: int, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    seen_steps = set()
    while time.monotonic() < deadline:
        body = client.get(f"/api/jobs/{job_id}").json()
        seen_steps.add(body["step"])
        if body["status"] in ("succeeded", "failed", "cancelled"):
            body["seen_steps"] = seen_steps
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {body}")


def _unet_output(pipe):
    import torch

    g = torch.Generator().manual_seed(0)
    sample = torch.randn(1, 4, 8, 8, generator=g)
    enc = torch.randn(1, 77, pipe.unet.config.cross_attention_dim, generator=g)
    added = {
        "text_embeds": torch.randn(1, pipe.text_encoder_2.config.projection_dim, generator=g),
        "time_ids": torch.tensor([[64, 64, 0, 0, 64, 64]], dtype=torch.float32),
    }
    with torch.no_grad():
        return pipe.unet(sample, torch.tensor([500]), enc, added_cond_kwargs=added).sample


def test_learner_trains_downloads_and_loads_the_lora(
    app, db, settings, api_as, may_train, face_photos, tmp_path
):
    import torch

    from app.trainer import base_models

    learner, reviewer, stranger = api_as("learner"), api_as("reviewer"), api_as("learner")
    may_train(db, learner.user)
    upload = learner.post(
        "/api/datasets",
        files=[("files", (n, b, "image/jpeg")) for n, b in face_photos],
        data={"base": "sd15"},
    )
    assert upload.status_code == 201, upload.text
    dataset = upload.json()
    assert sum(i["accepted"] for i in dataset["images"]) == len(face_photos)

    created = learner.post(
        "/api/jobs",
        json={
            "dataset_id": dataset["id"],
            "trigger": "sks",
            "class_word": "woman",
            "epochs": 2,
            "rank": 4,
            "alpha": 2,
            "learning_rate": 0.01,
            "resolution": 64,
            "sample_steps": 2,
        },
    )
    assert created.status_code == 201, created.text
    worker = Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu", report_seconds=0.1)
    worker.start_thread()
    try:
        job = _poll_until_done(learner, created.json()["id"])
    finally:
        worker.stop()

    assert job["status"] == "succeeded", job["error"]
    assert job["step"] == job["total_steps"] == 8 and len(job["samples"]) == 2
    assert learner.get(job["samples"][0]).headers["content-type"] == "image/png"
    model_id = job["model_id"]
    model = learner.get(f"/api/models/{model_id}").json()
    assert (
        model["trigger"] == "sks"
        and model["class_word"] == "woman"
        and [e["epoch"] for e in model["epochs"]] == [1, 2]
    )

    kohya = learner.get(f"/api/models/{model_id}/download", params={"format": "kohya"})
    diffusers = learner.get(f"/api/models/{model_id}/download", params={"format": "diffusers"})
    assert kohya.status_code == diffusers.status_code == 200
    assert "sks_woman.safetensors" in kohya.headers["content-disposition"]
    assert (
        reviewer.get(f"/api/models/{model_id}/download", params={"format": "kohya"}).content == kohya.content
    )
    assert stranger.get(f"/api/models/{model_id}").status_code == 404
    assert stranger.get(f"/api/models/{model_id}/download", params={"format": "kohya"}).status_code == 404
    assert learner.get(f"/api/models/{model_id}/download", params={"format": "ckpt"}).status_code == 400

    (tmp_path / "kohya.safetensors").write_bytes(kohya.content)
    (tmp_path / "pytorch_lora_weights.safetensors").write_bytes(diffusers.content)
    model_path = base_models.resolve(None, settings.data_dir / "cache")
    base_out = _unet_output(base_models.load_pipeline(model_path))
    outputs = []
    for name in ("kohya.safetensors", "pytorch_lora_weights.safetensors"):
        pipe = base_models.load_pipeline(model_path)
        pipe.load_lora_weights(str(tmp_path), weight_name=name)
        outputs.append(_unet_output(pipe))
    # Both files carry the same adapter, and it changes what the base model does.
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)
    assert not torch.allclose(outputs[0], base_out, atol=1e-4)
