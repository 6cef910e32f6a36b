"""A job's cost is capped on its derived totals, by the same check on every path: the JSON API,
the lab form, `loraface train` and the worker; the refusal names what to lower."""

import pytest
from click.testing import CliRunner

from app.cli import main
from app.lab.models import JobStatus, TrainingJob
from app.lab.worker import Worker
from app.trainer import interrupt, limits
from app.trainer.config import TrainConfig
from app.trainer.errors import TrainingCancelled
from tests import factories
from tests.photos import write_face_set

JOB = {"trigger": "sks", "class_word": "woman", "rank": 4, "resolution": 64, "sample_steps": 2}
LARGEST = {"steps": 20000, "resolution": 2048, "batch_size": 16, "rank": 256}


def test_epochs_times_repeats_cannot_walk_around_the_step_cap(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)

    response = learner.post(
        "/api/jobs", json={**JOB, "dataset_id": dataset_id, "epochs": 200, "repeats": 100, "batch_size": 1}
    )

    assert response.status_code == 422
    assert "80,000 steps" in response.json()["detail"] and "lower the epochs" in response.json()["detail"]
    assert db.query(TrainingJob).count() == 0


def test_the_largest_settings_are_refused_up_front_by_the_memory_estimate(api_as, db, dataset_for, may_train):
    learner = api_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)

    response = learner.post("/api/jobs", json={**JOB, **LARGEST, "dataset_id": dataset_id})

    detail = response.json()["detail"]
    assert response.status_code == 422, detail
    assert "lower the batch size" in detail
    assert db.query(TrainingJob).count() == 0


def test_the_lab_form_applies_the_same_limits(client_as, db, dataset_for, may_train):
    learner = client_as("learner")
    may_train(db, learner.user)
    dataset_id = dataset_for(db, learner.user)
    form = {
        "dataset_id": dataset_id,
        "trigger": "sks",
        "class_word": "woman",
        "epochs": "200",
        "repeats": "100",
    }

    response = learner.post("/lab/jobs", data=form)

    assert response.status_code == 422
    assert "lower the epochs, the repeats or the steps" in response.text
    assert db.query(TrainingJob).count() == 0


def test_too_many_pixels_to_prepare_names_the_photo_count():
    size = limits.JobSize(images=60, total_steps=100, batch_size=1, resolution=2048, rank=8, family="demo")

    with pytest.raises(limits.JobTooCostly, match="at most 38 photos at this size"):
        limits.check_job(size)


def test_the_worker_refuses_a_job_queued_past_the_limits(app, db, settings):
    user = factories.make_user(db)
    images = [{"path": f"users/{user.id}/none-{i}.png", "caption": "sks woman"} for i in range(4)]
    job = factories.make_training_job(db, user, images=images, epochs=200, repeats=100)
    db.commit()

    Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu").run(exit_when_idle=True)

    with app.state.sessionmaker() as s:
        row = s.get(TrainingJob, job.id)
    assert row.status == JobStatus.failed
    assert "80,000 steps" in row.error and "lower the epochs" in row.error


def test_loraface_train_applies_the_same_limits(tmp_path, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("LORAFACE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    photos = tmp_path / "photos"
    write_face_set(photos, size=96)
    out = tmp_path / "out"
    args = ["train", str(photos), "--trigger", "sks", "--class-word", "woman", "--out", str(out)]

    result = CliRunner().invoke(main, [*args, "--epochs", "200", "--repeats", "100"])
    get_settings.cache_clear()

    assert result.exit_code == 2, result.output
    assert "lower the epochs" in result.stderr
    assert not (out / "crops").exists()


def test_image_preparation_stops_between_images_when_cancelled(app, db, settings):
    user = factories.make_user(db)
    images = factories.training_images(settings.data_dir, user, size=64)
    worker = Worker(sessions=app.state.sessionmaker, settings=settings, device="cpu")
    folder = settings.data_dir / "prep-test"
    checks = []

    def cancel_after_first() -> bool:
        checks.append(1)
        return len(checks) > 1

    with pytest.raises(TrainingCancelled), interrupt.watch(cancel_after_first, TrainingCancelled):
        worker._prepare_images(images, folder, 96)

    assert len(list(folder.glob("*.png"))) == 1  # the first photo only; the rest never started


def test_sampling_stops_between_denoising_steps_when_cancelled(tmp_path):
    import torch

    from app.trainer import base_models, sampling

    torch.set_num_threads(1)
    pipe = base_models.load_pipeline(base_models.resolve(None, tmp_path / "cache"))
    steps_run = []

    def cancel_after_two_steps() -> bool:
        steps_run.append(1)
        return len(steps_run) > 2

    with pytest.raises(TrainingCancelled), interrupt.watch(cancel_after_two_steps, TrainingCancelled):
        sampling.run_pipe(pipe, prompts=["photo of sks woman"], seed=1, steps=30, resolution=64)

    assert len(steps_run) == 3  # stopped after the third step of thirty


def test_latent_encoding_stops_between_images_when_cancelled(tmp_path):
    from app.trainer import base_models, encoding
    from app.trainer.pipeline import TrainImage

    pipe = base_models.load_pipeline(base_models.resolve(None, tmp_path / "cache"))
    images = [TrainImage(path=p, caption="sks woman") for p in write_face_set(tmp_path / "faces", size=64)]
    seen = []

    def cancel_after_one() -> bool:
        seen.append(1)
        return len(seen) > 1

    with pytest.raises(TrainingCancelled), interrupt.watch(cancel_after_one, TrainingCancelled):
        encoding.encode_examples(pipe, images, "cpu", resolution=64)
    assert len(seen) == 2


def test_default_settings_fit_the_budget():
    cfg = TrainConfig(trigger="sks", class_word="woman", resolution=1024, rank=16, epochs=10)
    estimate = limits.check_job(limits.job_size(cfg, 20, "sdxl"))
    assert 0 < estimate.total < limits.JobLimits().memory_budget_gb * limits.GB
